"""Conversations keep their first message's content and the customer reference, so routing
can be simulated from SQL without the workflow. Nullable: older conversations never had them.

Revision ID: 0002_conversation_routing_facts
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_conversation_routing_facts"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Adding nullable columns is an in-place ALTER on SQLite too: the batch copies nothing.
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("message_content", sa.Text(), nullable=True))
        batch.add_column(sa.Column("customer_identifier", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("customer_type", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("customer_type")
        batch.drop_column("customer_identifier")
        batch.drop_column("message_content")
