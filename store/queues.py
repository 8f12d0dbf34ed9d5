"""Queue queries. Queues are soft-deleted so history can still name them."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from domain.conversation import QueueRef
from domain.models import EscalationStep, Status, utcnow
from store.agents import agent_queue_ids
from store.db import session_scope
from store.out_of_hours import out_of_hours_of
from store.routing import latest_version_number
from store.tables import ConversationRow, QueueRow, RoutingVersionRow


def live_queue(session: Session, queue_id: str) -> QueueRow | None:
    row = session.get(QueueRow, queue_id)
    return row if row is not None and row.deleted_at is None else None


def escalation_of(row: QueueRow) -> list[EscalationStep]:
    return [EscalationStep.model_validate(step) for step in row.escalation or []]


def queue_ref_of(session: Session, row: QueueRow, members: list[str] | None = None) -> QueueRef:
    """The queue as a conversation's workflow must know it to move there: its bot, its ladder,
    and whether it is closed now (out of hours)."""
    return QueueRef(id=row.id, bot_id=row.bot_id, bot_timeout_seconds=row.bot_timeout_seconds,
                    members=members, escalation=escalation_of(row),
                    out_of_hours=out_of_hours_of(session, row, utcnow()))


def queue_ref(engine: Engine, queue_id: str) -> QueueRef | None:
    """The live queue as the workflow needs to know it, or None."""
    with session_scope(engine) as session:
        row = live_queue(session, queue_id)
        if row is None:
            return None
        return queue_ref_of(session, row)


def reroute_target(
    engine: Engine, queue_id: str, conversation_id: str, new_agent_id: str | None
) -> QueueRef | None:
    """The live queue a conversation is moved to by hand, naming which of the agents concerned
    (its assignee, and one being assigned with the move) are members there: the others are
    unassigned by the move. None if there is no such queue."""
    with session_scope(engine) as session:
        queue = live_queue(session, queue_id)
        if queue is None:
            return None
        row = session.get(ConversationRow, conversation_id)
        concerned = {agent for agent in (row.agent_id if row else None, new_agent_id) if agent}
        members = [agent for agent in sorted(concerned) if queue_id in agent_queue_ids(session, agent)]
        return queue_ref_of(session, queue, members)


def live_queue_by_name(session: Session, name: str) -> QueueRow | None:
    return session.exec(
        select(QueueRow).where(QueueRow.name == name, col(QueueRow.deleted_at).is_(None))
    ).first()


def live_queue_names(session: Session, queue_ids: set[str]) -> dict[str, str]:
    if not queue_ids:
        return {}
    rows = session.exec(
        select(QueueRow.id, QueueRow.name).where(
            col(QueueRow.id).in_(queue_ids), col(QueueRow.deleted_at).is_(None)
        )
    ).all()
    return dict(rows)


def enabled_routes_count(session: Session) -> Counter[str]:
    """How many enabled rules of the routing in force target each queue. Read from the stored
    JSON as it is: queue reads should not build a model of every rule (up to 999) to count."""
    row = session.get(RoutingVersionRow, latest_version_number(session))
    rules = row.rules if row else []
    return Counter(rule["queue_id"] for rule in rules if rule.get("enabled", True))


def open_conversations_count(session: Session, queue_id: str) -> int:
    return session.exec(
        select(func.count())
        .select_from(ConversationRow)
        .where(ConversationRow.queue_id == queue_id, ConversationRow.status != Status.CLOSED.value)
    ).one()


def unassigned_open_conversations(session: Session, queue_id: str, limit: int) -> list[ConversationRow]:
    """The open conversations waiting unassigned in the queue, longest waiting first."""
    return list(session.exec(
        select(ConversationRow)
        .where(ConversationRow.queue_id == queue_id, ConversationRow.status != Status.CLOSED.value,
               col(ConversationRow.agent_id).is_(None))
        .order_by(col(ConversationRow.queued_at).asc(), col(ConversationRow.id).asc())
        .limit(limit)
    ).all())
