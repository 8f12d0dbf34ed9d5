"""Work distribution: an `assignments` table (an agent's hold on a conversation, what its
capacity counts), agents' capacity and last assignment, a queue's last assigned agent (round
robin) and when a conversation entered its queue (waiting order). Conversations already
assigned and OPEN or WAITING become HELD rows, so capacity counts them from the start.

Revision ID: 0006_work_distribution
Revises: 0005_messages
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_work_distribution"
down_revision = "0005_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("queue_id", sa.String(length=36), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("offer_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    op.create_index("ix_assignments_agent_id", "assignments", ["agent_id"])
    with op.batch_alter_table("agents") as batch_op:
        batch_op.add_column(sa.Column("max_conversations", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("queues") as batch_op:
        batch_op.add_column(sa.Column("last_assigned_agent_id", sa.String(length=36), nullable=True))
    op.execute(
        "INSERT INTO assignments (conversation_id, agent_id, queue_id, state, at) "
        "SELECT id, agent_id, queue_id, 'HELD', updated_at FROM conversations "
        "WHERE agent_id IS NOT NULL AND status IN ('OPEN', 'WAITING')"
    )


def downgrade() -> None:
    with op.batch_alter_table("queues") as batch_op:
        batch_op.drop_column("last_assigned_agent_id")
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_column("queued_at")
    with op.batch_alter_table("agents") as batch_op:
        batch_op.drop_column("last_assigned_at")
        batch_op.drop_column("max_conversations")
    op.drop_index("ix_assignments_agent_id", table_name="assignments")
    op.drop_table("assignments")
