"""Skills: `agent_skills` (an agent's skills with levels) and `conversations.required_skills`
(what a conversation needs, as its workflow holds it). New and empty: nothing to convert.

Revision ID: 0015_skills
Revises: 0014_rendered_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_skills"
down_revision = "0014_rendered_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_skills",
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("agent_id", "name"),
    )
    op.create_index("ix_agent_skills_name", "agent_skills", ["name"])
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("required_skills", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("required_skills")
    op.drop_index("ix_agent_skills_name", table_name="agent_skills")
    op.drop_table("agent_skills")
