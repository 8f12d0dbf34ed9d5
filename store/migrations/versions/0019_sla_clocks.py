"""SLA clocks (SPEC "Service level"): `conversations.sla`, a conversation's clocks as its
workflow holds them. New and nullable: conversations created before have no clocks.

Revision ID: 0019_sla_clocks
Revises: 0018_sla_policies
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_sla_clocks"
down_revision = "0018_sla_policies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("sla")
