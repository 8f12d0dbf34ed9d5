"""Queue statistics by stays (SPEC "Service level") against crafted timelines whose every time
is known, on SQLite and PostgreSQL: entered, answered, abandoned (not out of hours, not with a
bot), a reopening, moves, offers, first agent replies (not a supervisor's or a bot's), the
service level and its timings, each checked exactly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from domain.conversation import ConversationEvent, ConversationState, EventType
from domain.messages import AuthorType, Direction
from domain.models import SYSTEM_ACTOR, ActorType, OutOfHours, Priority, Status
from store import staffing, statistics
from store.conversations import apply_projection
from store.db import migrate, session_scope
from store.tables import AgentQueueRow, AgentRow, AssignmentRow, MessageRow, QueueRow

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
E = EventType


def ago(minutes: float, plus_seconds: float = 0) -> datetime:
    """`minutes` before NOW, then `plus_seconds` later."""
    return NOW - timedelta(minutes=minutes) + timedelta(seconds=plus_seconds)


@pytest.fixture
def db(engine: Engine) -> Engine:
    migrate(engine)
    return engine


def make_queue(db: Engine, name: str) -> str:
    queue_id = str(uuid.uuid4())
    with session_scope(db) as session:
        session.add(QueueRow(id=queue_id, name=name, created_at=ago(600), updated_at=ago(600),
                             service_level_target_seconds=60, service_level_target_percent=80))
    return queue_id


def make_agent(db: Engine, role: ActorType) -> str:
    agent_id = str(uuid.uuid4())
    with session_scope(db) as session:
        session.add(AgentRow(id=agent_id, display_name=role.value, role=role.value, status="ACTIVE",
                             created_at=ago(600), updated_at=ago(600)))
    return agent_id


def conversation(db: Engine, events: list[tuple[EventType, datetime, dict[str, Any]]],
                 replies: list[tuple[datetime, AuthorType, str | None]] = ()) -> str:  # type: ignore[assignment]
    """A conversation with these events (in order) and outbound messages, projected as the
    workflow projects them; its state is whatever the last events leave."""
    conversation_id = str(uuid.uuid4())
    timeline = [ConversationEvent(seq=seq, type=type_, at=at, actor=SYSTEM_ACTOR, **fields)
                for seq, (type_, at, fields) in enumerate(events, start=1)]
    queue = next(e.to_queue_id for e in reversed(timeline) if e.to_queue_id)
    closed = next((e.at for e in timeline if e.type == E.CLOSED), None)
    state = ConversationState(
        id=conversation_id, created_request_id="r", queue_id=queue,
        status=Status.CLOSED if closed else Status.OPEN, created_at=timeline[0].at,
        updated_at=timeline[-1].at, closed_at=closed, last_seq=timeline[-1].seq,
    )
    with session_scope(db) as session:
        apply_projection(session, state, timeline)
        for at, author_type, author_id in replies:
            session.add(MessageRow(
                id=str(uuid.uuid4()), conversation_id=conversation_id,
                direction=Direction.OUTBOUND.value, author_type=author_type.value,
                author_id=author_id, channel="LIVE_CHAT", from_="us", to="them",
                content_type="TEXT", content={"text": "hi"}, recorded_at=at, created_at=at,
                updated_at=at,
            ))
    return conversation_id


def into(queue: str, at: datetime, from_queue: str | None = None, type_: EventType = E.ROUTED):
    return (type_, at, {"from_queue_id": from_queue, "to_queue_id": queue})


def assigned(agent: str | None, at: datetime, **fields: Any):
    return (E.ASSIGNED, at, {"agent_id": agent, **fields})


def status(new: Status, at: datetime, reason: str = "by hand", legacy: bool = False):
    # Events recorded before STATUS_CHANGED carried its status: only a default reason says it.
    return (E.STATUS_CHANGED, at, {"reason": new.value} if legacy else {"reason": reason, "status": new})


def closed(at: datetime):
    return (E.CLOSED, at, {})


def stays_of(db: Engine, queue_id: str, start: datetime, end: datetime) -> statistics.StayFigures:
    with session_scope(db) as session:
        row = session.get(QueueRow, queue_id)
        assert row is not None, "the test asks about a queue it made"
        return statistics.window_stays(session, row, start, end)


def test_stays_answered_abandoned_replies_offers_and_the_service_level(db: Engine):
    q, bot_queue, other = (make_queue(db, name) for name in ("Q", "Bot", "Other"))
    agent, supervisor = make_agent(db, ActorType.AGENT), make_agent(db, ActorType.SUPERVISOR)
    # Answered in 30 s (within 60), replied after 60 s, solved (a reason given) then closed.
    conversation(db, [into(q, ago(50)), assigned(agent, ago(50, 30)),
                      status(Status.SOLVED, ago(40)), closed(ago(30))],
                 [(ago(49), AuthorType.AGENT, agent)])
    # Answered in 120 s; a supervisor's reply and a bot's count for nothing, the agent's at 300 s.
    conversation(db, [into(q, ago(45)), assigned(agent, ago(45, 120))],
                 [(ago(42), AuthorType.AGENT, supervisor), (ago(41), AuthorType.BOT, None),
                  (ago(40), AuthorType.AGENT, agent)])
    # Closed unassigned after 120 s: abandoned after the target.
    conversation(db, [into(q, ago(30)), closed(ago(30, 120))])
    # Solved unassigned after 30 s (an older event: its status only in its reason): abandoned
    # within the target, so outside the service level's denominator.
    conversation(db, [into(q, ago(20)), status(Status.SOLVED, ago(20, 30), legacy=True)])
    # Closed by the queue's hours on entering: no abandon.
    conversation(db, [into(q, ago(15)),
                      (E.OUT_OF_HOURS, ago(15), {"to_queue_id": q, "out_of_hours": OutOfHours(
                          working_hours_id="h", close_conversation=True)}),
                      closed(ago(15))])
    # A bot's queue: closed there unassigned, no abandon.
    conversation(db, [into(bot_queue, ago(25)), (E.BOT_STARTED, ago(25), {"to_queue_id": bot_queue}),
                      closed(ago(24))])
    # Moved on after 2 minutes: neither answered nor abandoned; a stay entered in Other.
    conversation(db, [into(q, ago(35)), into(other, ago(33), q, E.REROUTED)])
    # Entered before the window, answered in it after 35 minutes: answered, not entered.
    conversation(db, [into(q, ago(90)), assigned(agent, ago(55))])
    # Answered in 10 s, solved, reopened by the customer with its agent: no new stay.
    conversation(db, [into(q, ago(50)), assigned(agent, ago(50, 10)), status(Status.SOLVED, ago(40)),
                      status(Status.OPEN, ago(38))])
    # Answered in 20 s, released, solved unassigned (answered: no abandon), reopened unassigned:
    # a second stay from the reopening, still waiting.
    conversation(db, [into(q, ago(20)), assigned(agent, ago(20, 20)), (E.UNASSIGNED, ago(19), {"agent_id": agent}),
                      status(Status.SOLVED, ago(18)), status(Status.OPEN, ago(10))])
    # Offers: one lapses, one is declined, the third accepted 10 s after it was made (the
    # stay answered after 70 s).
    expires = {"expires_at": ago(12, 90)}
    conversation(db, [into(q, ago(12)), (E.OFFERED, ago(12, 5), {"agent_id": agent, **expires}),
                      (E.OFFER_EXPIRED, ago(12, 35), {"agent_id": agent}),
                      (E.OFFERED, ago(12, 40), {"agent_id": supervisor, **expires}),
                      (E.OFFER_DECLINED, ago(12, 50), {"agent_id": supervisor}),
                      (E.OFFERED, ago(12, 60), {"agent_id": agent, **expires}),
                      assigned(agent, ago(12, 70), **expires)])
    # An offer withdrawn as the conversation moves on to Other (withdrawn while still in Q).
    conversation(db, [into(q, ago(5)), (E.OFFERED, ago(5, 10), {"agent_id": agent, **expires}),
                      (E.OFFER_WITHDRAWN, ago(5, 20), {"agent_id": agent}),
                      into(other, ago(5, 20), q, E.REROUTED)])

    figures = stays_of(db, q, ago(60), NOW)
    assert (figures.entered, figures.answered, figures.abandoned) == (11, 6, 2)
    assert (figures.answered_within_target, figures.abandoned_after_target) == (3, 1)
    assert figures.service_level == round(3 / (6 + 1), 6)
    assert figures.service_level_met is False
    assert (figures.target_seconds, figures.target_percent) == (60, 80)
    assert figures.time_to_answer == statistics.Timing(round(2350 / 6, 3), 30.0, 2100.0)
    assert figures.first_replies == 2
    assert figures.time_to_first_reply == statistics.Timing(180.0, 60.0, 300.0)
    offers = (figures.offers_made, figures.offers_accepted, figures.offers_declined,
              figures.offers_lapsed, figures.offers_withdrawn)
    assert offers == (4, 1, 1, 1, 1)
    assert figures.time_to_accept == statistics.Timing(10.0, 10.0, 10.0)

    bot = stays_of(db, bot_queue, ago(60), NOW)
    assert (bot.entered, bot.answered, bot.abandoned, bot.service_level, bot.service_level_met) == (
        1, 0, 0, None, None)
    assert not bot.any_offer
    assert stays_of(db, other, ago(60), NOW).entered == 2

    # Each figure counts by its own moment: to 44 minutes ago, three stays entered (50, 50,
    # 45), three answered (55, 49.5, 49.8; the one at 43 is not yet) and one reply (49).
    early = stays_of(db, q, ago(60), ago(44))
    assert (early.entered, early.answered, early.abandoned, early.first_replies) == (3, 3, 0, 1)
    assert early.time_to_answer == statistics.Timing(round((2100 + 30 + 10) / 3, 3), 30.0, 2100.0)
    assert early.offers_made == 0 and not early.any_offer


def waiting_conversation(db: Engine, queue: str, entered_minutes_ago: float, priority: Priority,
                         agent: str | None = None, status: Status = Status.OPEN) -> str:
    conversation_id = str(uuid.uuid4())
    created = ago(entered_minutes_ago)
    events = [ConversationEvent(seq=1, type=E.CREATED, at=created, actor=SYSTEM_ACTOR),
              ConversationEvent(seq=2, type=E.ROUTED, at=created, actor=SYSTEM_ACTOR, to_queue_id=queue)]
    state = ConversationState(id=conversation_id, created_request_id="r", queue_id=queue, status=status,
                              priority=priority, agent_id=agent, created_at=created, updated_at=created,
                              last_seq=2)
    with session_scope(db) as session:
        apply_projection(session, state, events)
    return conversation_id


def test_live_waiting_by_priority_the_longest_unassigned_and_active_members(db: Engine):
    queue = make_queue(db, "Live")
    active, away, disabled = (make_agent(db, ActorType.AGENT) for _ in range(3))
    with session_scope(db) as session:
        for agent in (active, away, disabled):
            session.add(AgentQueueRow(agent_id=agent, queue_id=queue, created_at=ago(600)))
        session.get_one(AgentRow, away).status = "AWAY"
        session.get_one(AgentRow, disabled).enabled = False
    # Assigned: the longest in the queue, not waiting.
    held = waiting_conversation(db, queue, 50, Priority.URGENT, agent=active)
    # Offered to an agent: not waiting either, though unassigned.
    offered = waiting_conversation(db, queue, 40, Priority.HIGH)
    with session_scope(db) as session:
        session.add(AssignmentRow(conversation_id=offered, agent_id=active, queue_id=queue,
                                  state="OFFERED", at=ago(1), expires_at=ago(-1)))
    waiting_conversation(db, queue, 35, Priority.LOW, status=Status.SOLVED)  # solved: not waiting
    first = waiting_conversation(db, queue, 30, Priority.HIGH, status=Status.WAITING)
    waiting_conversation(db, queue, 20, Priority.HIGH)
    waiting_conversation(db, queue, 10, Priority.LOW)

    with session_scope(db) as session:
        [stats] = statistics.queue_statistics(session, [session.get_one(QueueRow, queue)], NOW)
    assert stats.waiting_by_priority == {"URGENT": 0, "HIGH": 2, "NORMAL": 0, "LOW": 1}
    assert stats.waiting == sum(stats.waiting_by_priority.values())
    assert stats.longest_waiting is not None and stats.longest_waiting.conversation_id == held
    assert stats.longest_unassigned == statistics.LongestWaiting(first, ago(30), 30 * 60.0)
    assert stats.active_members == 1


def test_each_window_read_plans_for_its_own_bounds_on_postgresql(db: Engine):
    """psycopg prepares a statement run five times; the generic plan PostgreSQL would then keep
    reads a busy hour through the wrong scans (store.stays.plan_for_these_values)."""
    if db.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    queue_id = make_queue(db, "plans")
    reads = (
        lambda session, queue: statistics.queue_statistics(session, [queue], NOW),
        lambda session, queue: statistics.window_stays(session, queue, ago(60), NOW),
        lambda session, queue: statistics.figures_by_interval(session, queue, ago(60), NOW, timedelta(minutes=15)),
        lambda session, queue: staffing.observed(session, queue, NOW, timedelta(hours=1), 5),
    )
    for read in reads:
        with session_scope(db) as session:
            read(session, session.get(QueueRow, queue_id))
            assert session.connection().exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_custom_plan"
