"""Conversations keep their first message's content and the customer reference, so routing
can be simulated from SQL without the workflow. Nullable: older conversations never had them;
their message content is recovered from the facts their ROUTED events recorded.

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
    _recover_message_content()


def _recover_message_content() -> None:
    """A conversation's first message is fixed at creation, and every ROUTED event records the
    facts routing saw: the first one that names `message.content` has it."""
    events = sa.table("conversation_events", sa.column("conversation_id"), sa.column("seq"),
                      sa.column("type"), sa.column("body", sa.JSON))
    conversations = sa.table("conversations", sa.column("id"), sa.column("message_content"))
    connection = op.get_bind()
    found: dict[str, str] = {}
    routed = connection.execute(
        sa.select(events.c.conversation_id, events.c.body)
        .where(events.c.type == "ROUTED").order_by(events.c.conversation_id, events.c.seq)
    )
    for conversation_id, body in routed:
        content = ((body or {}).get("facts") or {}).get("message.content")
        if isinstance(content, str) and conversation_id not in found:
            found[conversation_id] = content
    for conversation_id, content in found.items():
        connection.execute(
            conversations.update().where(conversations.c.id == conversation_id)
            .values(message_content=content)
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("customer_type")
        batch.drop_column("customer_identifier")
        batch.drop_column("message_content")
