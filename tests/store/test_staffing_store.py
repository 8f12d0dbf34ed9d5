"""A queue's observed staffing figures (store.staffing) from crafted timelines with known
times, on SQLite and PostgreSQL (the queries read JSON bodies and correlate events)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from domain.conversation import ConversationEvent, ConversationState, EventType
from domain.models import SYSTEM_ACTOR, AgentStatus, Priority, Status
from store import staffing
from store.conversations import apply_projection
from store.db import session_scope
from store.tables import AgentQueueRow, AgentRow, QueueRow

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
E = EventType


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def make_queue(engine: Engine, bot_id: str | None = None) -> str:
    queue_id = str(uuid.uuid4())
    with session_scope(engine) as session:
        session.add(QueueRow(id=queue_id, name=queue_id, bot_id=bot_id, created_at=ago(1440), updated_at=ago(1440)))
    return queue_id


def make_agent(engine: Engine, queue_id: str, status: AgentStatus, capacity: int | None, enabled: bool = True) -> None:
    agent_id = str(uuid.uuid4())
    with session_scope(engine) as session:
        session.add(AgentRow(id=agent_id, display_name="a", role="AGENT", status=status.value, enabled=enabled,
                             max_conversations=capacity, created_at=ago(1440), updated_at=ago(1440)))
        session.add(AgentQueueRow(agent_id=agent_id, queue_id=queue_id, created_at=ago(1440)))


def timeline(engine: Engine, steps: list[tuple[float, EventType, dict[str, Any]]], status: Status = Status.OPEN,
             queue_id: str | None = None, agent_id: str | None = None) -> None:
    """A conversation with these events (minutes ago, type, fields), projected as the workflow
    projects them; its row as the last step left it."""
    conversation_id = str(uuid.uuid4())
    events = [ConversationEvent(seq=1, type=E.CREATED, at=ago(steps[0][0]), actor=SYSTEM_ACTOR)]
    for minutes, type_, fields in steps:
        events.append(ConversationEvent(seq=len(events) + 1, type=type_, at=ago(minutes), actor=SYSTEM_ACTOR,
                                        **fields))
    state = ConversationState(
        id=conversation_id, created_request_id="r", status=status, priority=Priority.NORMAL, queue_id=queue_id,
        agent_id=agent_id, created_at=events[0].at, updated_at=events[-1].at, last_seq=events[-1].seq,
        closed_at=events[-1].at if status == Status.CLOSED else None,
    )
    with session_scope(engine) as session:
        apply_projection(session, state, events)


def into(queue_id: str, from_queue: str | None = None) -> dict[str, Any]:
    return {"from_queue_id": from_queue, "to_queue_id": queue_id}


def test_observed_figures(engine: Engine) -> None:
    q, other = make_queue(engine), make_queue(engine)
    # Waited 60 s, answered, solved 540 s later (with a reason of the agent's own).
    timeline(engine, [(50, E.ROUTED, into(q)), (49, E.ASSIGNED, {"agent_id": "x"}),
                      (40, E.STATUS_CHANGED, {"status": "SOLVED", "reason": "fixed"})], Status.SOLVED, q, "x")
    # Waited 30 s, answered, closed 600 s later.
    timeline(engine, [(30, E.ROUTED, into(q)), (29.5, E.ASSIGNED, {"agent_id": "x"}),
                      (19.5, E.CLOSED, {})], Status.CLOSED, q, "x")
    # Abandoned after 120 s.
    timeline(engine, [(20, E.ROUTED, into(q)), (18, E.CLOSED, {})], Status.CLOSED, q)
    # Waiting since before the window: its last hour of waiting counts, not its entry.
    timeline(engine, [(90, E.ROUTED, into(q))], Status.OPEN, q)
    # Moved on after 60 s: neither answered nor abandoned.
    timeline(engine, [(10, E.ROUTED, into(q)), (9, E.REROUTED, into(other, q))], Status.OPEN, other)
    # Another queue's traffic, and a routing run again in place (no entry).
    timeline(engine, [(10, E.ROUTED, into(other)), (5, E.CLOSED, {})], Status.CLOSED, other)
    timeline(engine, [(70, E.ROUTED, into(q)), (69, E.ASSIGNED, {"agent_id": "x"}), (8, E.ROUTED, into(q, q))],
             Status.OPEN, q, "x")
    # Closed out of hours at once: no abandon.
    timeline(engine, [(5, E.ROUTED, into(q)), (5, E.OUT_OF_HOURS, {"to_queue_id": q}), (5, E.CLOSED, {})],
             Status.CLOSED, q)
    # Solved before the window: no handle time (a timeline from before events kept the status).
    timeline(engine, [(80, E.ROUTED, into(q)), (79, E.ASSIGNED, {"agent_id": "x"}),
                      (61, E.STATUS_CHANGED, {"reason": "SOLVED"})], Status.SOLVED, q, "x")
    make_agent(engine, q, AgentStatus.ACTIVE, 2)
    make_agent(engine, q, AgentStatus.AWAY, None)  # the default capacity, 3 here
    make_agent(engine, q, AgentStatus.ACTIVE, 10, enabled=False)
    with session_scope(engine) as session:
        queue = session.get(QueueRow, q)
        assert queue is not None
        seen = staffing.observed(session, queue, NOW, HOUR, default_capacity=3)
        half = staffing.observed(session, queue, NOW, HOUR / 2, default_capacity=3)
    assert seen.stays_entered == 5
    assert seen.arrivals_per_hour == 5.0
    assert (seen.handled, seen.handle_seconds) == (2, 570.0)
    assert seen.abandoned == 1
    assert seen.waiting_seconds == 60 + 30 + 120 + 3600 + 60
    assert seen.patience_seconds == 3870.0
    assert (seen.capacity, seen.enabled_members, seen.agents_available) == (2.5, 2, 1)
    # The last half hour: entries at 30, 20, 10 and 5 minutes ago, per hour twice that.
    assert (half.stays_entered, half.arrivals_per_hour) == (4, 8.0)
    assert (half.handled, half.handle_seconds) == (1, 600.0)


def test_a_bot_queue_and_a_queue_without_traffic(engine: Engine) -> None:
    bot_queue, idle = make_queue(engine, bot_id="bot"), make_queue(engine)
    timeline(engine, [(20, E.ROUTED, into(bot_queue)), (18, E.CLOSED, {})], Status.CLOSED, bot_queue)
    with session_scope(engine) as session:
        served = session.get(QueueRow, bot_queue)
        empty = session.get(QueueRow, idle)
        assert served is not None and empty is not None
        bot = staffing.observed(session, served, NOW, HOUR, default_capacity=3)
        nothing = staffing.observed(session, empty, NOW, HOUR, default_capacity=3)
    assert (bot.stays_entered, bot.abandoned, bot.patience_seconds) == (1, 0, None)
    assert nothing == staffing.Observed(
        stays_entered=0, arrivals_per_hour=0.0, handled=0, handle_seconds=None, abandoned=0,
        waiting_seconds=0.0, patience_seconds=None, capacity=1.0, enabled_members=0, agents_available=0,
    )

