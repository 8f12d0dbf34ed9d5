"""Missed offers (SPEC "Offers"): each lapse counts toward its agent's misses in a row, an
answer in time (a decline, or an ASSIGNED that accepted an offer) resets them, and an ACTIVE
agent whose misses reach the queue's `max_missed_offers` is set AWAY, "not responding"
(agent.status_changed). Counted by the projection, in its transaction, for the events it
writes first: a projection retried or repeated counts nothing twice."""

from __future__ import annotations

from sqlmodel import Session

from contract.agents import agent_out
from domain.conversation import ConversationEvent, EventType
from domain.models import AgentStatus
from store import events_out
from store.assignment import capacity_of, loads_of
from store.events_out import NewEvent
from store.tables import AgentRow, QueueRow

NOT_RESPONDING = "not responding"


def count(session: Session, queue_id: str | None, events: list[ConversationEvent],
          default_capacity: int) -> list[NewEvent]:
    """Applies the new `events` of a conversation in `queue_id` to its agents' misses; the
    agent.status_changed of each agent it set AWAY."""
    published = []
    for event in events:
        lapsed = event.type == EventType.OFFER_EXPIRED
        answered = event.type == EventType.OFFER_DECLINED or (
            event.type == EventType.ASSIGNED and event.expires_at is not None)
        if event.agent_id is None or not (lapsed or answered):
            continue
        agent = session.get(AgentRow, event.agent_id, with_for_update=True)
        if agent is None:
            continue
        if answered:
            agent.missed_offers = 0
        else:
            agent.missed_offers += 1
            queue = session.get(QueueRow, queue_id) if queue_id is not None else None
            limit = queue.max_missed_offers if queue is not None else None
            if limit is not None and agent.missed_offers >= limit and agent.status == AgentStatus.ACTIVE.value:
                agent.status, agent.missed_offers, agent.updated_at = AgentStatus.AWAY.value, 0, event.at
                answer = agent_out(agent, loads_of(session, [agent.id]).get(agent.id, 0),
                                   capacity_of(agent, default_capacity))
                published.append(events_out.agent_status_changed(answer, event.at, NOT_RESPONDING))
        session.add(agent)
    return published
