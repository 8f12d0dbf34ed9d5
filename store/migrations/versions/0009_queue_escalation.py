"""Escalation ladders: `queues.escalation` (the steps, JSON, [] for existing queues) and
`conversations.escalation` (the ladder in force as the workflow holds it, for the dry run).

Revision ID: 0009_queue_escalation
Revises: 0008_working_hours
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_queue_escalation"
down_revision = "0008_working_hours"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalation", sa.JSON(), nullable=True))
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalation", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("escalation")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("escalation")
