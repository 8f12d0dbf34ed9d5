"""Agent queries: who they are, and which queues they work."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from store.db import session_scope
from store.tables import AgentQueueRow, AgentRow


def agent_queue_ids(session: Session, agent_id: str) -> list[str]:
    return list(session.exec(
        select(AgentQueueRow.queue_id).where(AgentQueueRow.agent_id == agent_id)
        .order_by(col(AgentQueueRow.created_at), col(AgentQueueRow.queue_id))
    ).all())


def enabled_agents_count(session: Session) -> Counter[str]:
    """How many enabled agents are members of each queue."""
    rows = session.exec(
        select(AgentQueueRow.queue_id)
        .join(AgentRow, col(AgentRow.id) == AgentQueueRow.agent_id)
        .where(AgentRow.enabled)
    ).all()
    return Counter(rows)


def by_email(session: Session, email: str) -> AgentRow | None:
    return session.exec(select(AgentRow).where(AgentRow.email == email)).first()


def is_enabled(engine: Engine, agent_id: str) -> bool:
    """Whether the agent exists and is enabled, read in a transaction of its own."""
    with session_scope(engine) as session:
        agent = session.get(AgentRow, agent_id)
        return agent is not None and agent.enabled
