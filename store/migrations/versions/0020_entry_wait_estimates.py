"""Estimated wait (SPEC "Service level"): `conversations.entry_wait_estimate_seconds`, the
estimate given when the conversation last entered its queue, kept to measure how wrong it was
when the wait ends. New and nullable: conversations queued before have none.

Revision ID: 0020_entry_wait_estimates
Revises: 0019_sla_clocks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_entry_wait_estimates"
down_revision = "0019_sla_clocks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entry_wait_estimate_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("entry_wait_estimate_seconds")
