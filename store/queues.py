"""Queue queries. Queues are soft-deleted so history can still name them."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func
from sqlmodel import Session, select

from domain.models import Status
from store.routing import current_version
from store.tables import ConversationRow, QueueRow


def live_queue(session: Session, queue_id: str) -> QueueRow | None:
    row = session.get(QueueRow, queue_id)
    return row if row is not None and row.deleted_at is None else None


def live_queue_by_name(session: Session, name: str) -> QueueRow | None:
    return session.exec(
        select(QueueRow).where(QueueRow.name == name, QueueRow.deleted_at.is_(None))
    ).first()


def live_queue_names(session: Session, queue_ids: set[str]) -> dict[str, str]:
    if not queue_ids:
        return {}
    rows = session.exec(
        select(QueueRow.id, QueueRow.name).where(
            QueueRow.id.in_(queue_ids), QueueRow.deleted_at.is_(None)
        )
    ).all()
    return dict(rows)


def enabled_routes_count(session: Session) -> Counter[str]:
    """How many enabled rules of the routing in force target each queue."""
    _, rules = current_version(session)
    return Counter(rule.queue_id for rule in rules if rule.enabled)


def open_conversations_count(session: Session, queue_id: str) -> int:
    return session.exec(
        select(func.count())
        .select_from(ConversationRow)
        .where(ConversationRow.queue_id == queue_id, ConversationRow.status != Status.CLOSED.value)
    ).one()
