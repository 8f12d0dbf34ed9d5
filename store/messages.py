"""A stored message once its conversation's workflow has answered: taken in (and published as
message.created), or removed when the workflow refused it. Each is a transaction of its own,
after the workflow's answer (the message is stored before the workflow hears of it)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from domain.models import utcnow
from store import events_out
from store.db import session_scope
from store.tables import ConversationRow, MessageRow


def mark_recorded(engine: Engine, id_: str) -> MessageRow:
    """Marks the message as taken in by the workflow, and publishes message.created with it."""
    with session_scope(engine) as session:
        row = session.get(MessageRow, id_)
        assert row is not None, f"message {id_} stored but gone"
        if row.recorded_at is None:
            row.recorded_at = utcnow()  # written when the scope commits
            conversation = session.get(ConversationRow, row.conversation_id)
            assert conversation is not None, f"message {id_} of no conversation"
            events_out.publish(session, [events_out.message_created(row, conversation, row.recorded_at)])
        return row


def remove(engine: Engine, id_: str) -> None:
    with session_scope(engine) as session:
        row = session.get(MessageRow, id_)
        if row is not None:
            session.delete(row)
