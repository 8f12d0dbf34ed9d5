"""The inputs of a routing dry run: the facts conversations were routed with."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from domain.conversation import EventType
from store.tables import ConversationEventRow, ConversationRow


def recent_conversation_ids(session: Session, count: int) -> list[str]:
    return list(session.exec(
        select(ConversationRow.id)
        .order_by(col(ConversationRow.created_at).desc(), col(ConversationRow.id))
        .limit(count)
    ).all())


def routed_facts(session: Session, conversation_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each conversation's facts as its latest routing saw them (ROUTED events record them);
    conversations never routed (placed by hand) are absent."""
    rows = session.exec(
        select(ConversationEventRow.conversation_id, ConversationEventRow.body)
        .where(
            col(ConversationEventRow.conversation_id).in_(conversation_ids),
            ConversationEventRow.type == EventType.ROUTED.value,
        )
        .order_by(col(ConversationEventRow.conversation_id), col(ConversationEventRow.seq))
    ).all()
    facts: dict[str, dict[str, Any]] = {}
    for conversation_id, body in rows:
        if body.get("facts"):
            facts[conversation_id] = body["facts"]  # later events overwrite earlier ones
    return facts
