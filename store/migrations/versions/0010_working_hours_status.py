"""Working hours' stored status: `working_hours.is_open` and `status_changed_at`, what
auto-assignment reads instead of computing open or closed on every dispatcher pass.

Existing rows start open (the server default) with no `status_changed_at`: deciding needs the
time-zone rules of domain.working_hours, which a migration should not import (it must keep
meaning what it meant when written). A worker of this release decides every row's status at
start-up, before its dispatcher's first pass, and the working-hours clock keeps it after.

Revision ID: 0010_working_hours_status
Revises: 0009_queue_escalation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_working_hours_status"
down_revision = "0009_queue_escalation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("working_hours", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_open", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("working_hours", schema=None) as batch_op:
        batch_op.drop_column("status_changed_at")
        batch_op.drop_column("is_open")
