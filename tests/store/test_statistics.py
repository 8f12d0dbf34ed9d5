"""Queue statistics against crafted conversations with known times, on SQLite and PostgreSQL.

The conversations are projected as the workflow projects them (`apply_projection` with domain
states and events), so the event bodies are the real ones; `now` is fixed, so every age, count
and mean is exact.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.conversation import ConversationEvent, ConversationState, EventType
from domain.models import SYSTEM_ACTOR, Priority, Status
from store import statistics
from store.conversations import apply_projection
from store.db import migrate, session_scope
from store.tables import QueueRow

NOW = datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)
ROUTED, REROUTED = EventType.ROUTED, EventType.REROUTED


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


@dataclass
class Move:
    minutes_ago: float
    from_queue: str | None
    to_queue: str
    type: EventType = REROUTED


def make_queue(engine: Engine, name: str, deleted: bool = False) -> str:
    queue_id = str(uuid.uuid4())
    with session_scope(engine) as session:
        session.add(QueueRow(
            id=queue_id, name=name, created_at=ago(24 * 60), updated_at=ago(24 * 60),
            deleted_at=ago(1) if deleted else None,
        ))
    return queue_id


def make_conversation(
    engine: Engine,
    created_minutes_ago: float,
    moves: list[Move],
    status: Status = Status.OPEN,
    priority: Priority = Priority.NORMAL,
    closed_minutes_ago: float | None = None,
    conversation_id: str | None = None,
) -> str:
    """A conversation created then, moved as given (in order), in its last move's queue."""
    conversation_id = conversation_id or str(uuid.uuid4())
    created = ago(created_minutes_ago)
    events = [ConversationEvent(seq=1, type=EventType.CREATED, at=created, actor=SYSTEM_ACTOR)]
    for move in moves:
        events.append(ConversationEvent(
            seq=len(events) + 1, type=move.type, at=ago(move.minutes_ago), actor=SYSTEM_ACTOR,
            from_queue_id=move.from_queue, to_queue_id=move.to_queue,
        ))
    closed = None
    if closed_minutes_ago is not None:
        closed = ago(closed_minutes_ago)
        events.append(ConversationEvent(
            seq=len(events) + 1, type=EventType.CLOSED, at=closed, actor=SYSTEM_ACTOR,
        ))
        status = Status.CLOSED
    state = ConversationState(
        id=conversation_id, created_request_id="r", status=status, priority=priority,
        queue_id=moves[-1].to_queue, created_at=created, updated_at=events[-1].at,
        closed_at=closed, last_seq=events[-1].seq,
    )
    with session_scope(engine) as session:
        apply_projection(session, state, events)
    return conversation_id


def queue_row(session: Session, queue_id: str) -> QueueRow:
    row = session.get(QueueRow, queue_id)
    assert row is not None, f"no queue {queue_id}: the tests ask only about queues they made"
    return row


def stats_of(
    engine: Engine, queue_ids: list[str], now: datetime = NOW
) -> dict[str, statistics.QueueStatistics]:
    with session_scope(engine) as session:
        rows = [queue_row(session, queue_id) for queue_id in queue_ids]
        return {stats.queue_id: stats for stats in statistics.queue_statistics(session, rows, now)}


@pytest.fixture
def db(engine: Engine) -> Engine:
    migrate(engine)
    return engine


@dataclass
class World:
    a: str
    b: str
    c: str
    d: str
    e: str
    ids: dict[str, str]


@pytest.fixture
def world(db: Engine) -> World:
    """Queues A..D live, E deleted; nine conversations whose every time is known (minutes ago)."""
    a, b, c, d = (make_queue(db, name) for name in ("A", "B", "C", "D"))
    e = make_queue(db, "E", deleted=True)
    ids = {
        # In A since 180: a later A->A routing (priority only) neither counts nor restarts it.
        "c1": make_conversation(db, 180, [Move(180, None, a, ROUTED), Move(10, a, a, ROUTED)],
                                priority=Priority.HIGH),
        # Created before c1 (300) but entered A later (120): its age counts from 120.
        "c2": make_conversation(db, 300, [Move(300, None, b, ROUTED), Move(120, b, a)],
                                status=Status.WAITING, priority=Priority.URGENT),
        # First in A at 240, out to B at 50, back to A at 20: its age counts from 20.
        "c3": make_conversation(
            db, 240, [Move(240, None, a, ROUTED), Move(50, a, b), Move(20, b, a)],
            status=Status.SOLVED, priority=Priority.LOW,
        ),
        # Closed in A: the oldest entry of all, and counted nowhere.
        "c4": make_conversation(db, 360, [Move(360, None, a, ROUTED)], closed_minutes_ago=90),
        # Routed into A inside the hour.
        "c5": make_conversation(db, 30, [Move(30, None, a, ROUTED)]),
        # A from 90 (before the hour) to C at 40 (inside), then closed in C.
        "c6": make_conversation(db, 90, [Move(90, None, a, ROUTED), Move(40, a, c)],
                                closed_minutes_ago=5),
        # Left A at 61: a minute before the hour, so not counted.
        "c7": make_conversation(db, 180, [Move(180, None, a, ROUTED), Move(61, a, b)],
                                priority=Priority.HIGH),
        # B to A exactly at the hour's start: counted (the window is closed at both ends).
        "c8": make_conversation(db, 120, [Move(120, None, b, ROUTED), Move(60, b, a)]),
        # From the deleted queue E to C at 15.
        "c9": make_conversation(db, 120, [Move(120, None, e, ROUTED), Move(15, e, c)]),
    }
    return World(a, b, c, d, e, ids)


def test_open_conversations_by_status_and_priority(world: World, db: Engine):
    stats = stats_of(db, [world.a, world.b, world.c, world.d])
    a, b, c, d = (stats[queue] for queue in (world.a, world.b, world.c, world.d))
    assert (a.queue_name, a.open_conversations) == ("A", 5)
    assert a.by_status == {"OPEN": 3, "WAITING": 1, "SOLVED": 1}
    assert a.by_priority == {"URGENT": 1, "HIGH": 1, "NORMAL": 2, "LOW": 1}
    assert list(a.by_priority) == ["URGENT", "HIGH", "NORMAL", "LOW"]
    assert b.open_conversations == 1
    assert b.by_status == {"OPEN": 1, "WAITING": 0, "SOLVED": 0}
    assert b.by_priority == {"URGENT": 0, "HIGH": 1, "NORMAL": 0, "LOW": 0}
    assert c.open_conversations == 1
    assert c.by_priority == {"URGENT": 0, "HIGH": 0, "NORMAL": 1, "LOW": 0}
    assert d.open_conversations == 0
    assert d.by_status == {"OPEN": 0, "WAITING": 0, "SOLVED": 0}
    assert d.by_priority == {"URGENT": 0, "HIGH": 0, "NORMAL": 0, "LOW": 0}


def test_longest_waiting_counts_from_the_latest_entry_into_the_queue(world: World, db: Engine):
    stats = stats_of(db, [world.a, world.b, world.c, world.d])
    # Not c2 (created earliest), not c3 (entered A first, but left and came back), not c4 (closed).
    assert stats[world.a].longest_waiting == statistics.LongestWaiting(
        conversation_id=world.ids["c1"], since=ago(180), age_seconds=180 * 60.0
    )
    assert stats[world.b].longest_waiting == statistics.LongestWaiting(
        conversation_id=world.ids["c7"], since=ago(61), age_seconds=61 * 60.0
    )
    assert stats[world.c].longest_waiting == statistics.LongestWaiting(
        conversation_id=world.ids["c9"], since=ago(15), age_seconds=15 * 60.0
    )
    assert stats[world.d].longest_waiting is None


def test_ages_grow_with_now_to_the_millisecond(world: World, db: Engine):
    later = NOW + timedelta(seconds=12, milliseconds=345)
    waiting = stats_of(db, [world.a], now=later)[world.a].longest_waiting
    assert waiting is not None  # c1 waits in A
    assert waiting.conversation_id == world.ids["c1"]
    assert waiting.since == ago(180)
    assert waiting.age_seconds == 180 * 60 + 12.345


def test_moves_in_and_out_in_the_last_hour_and_the_mean_stay(world: World, db: Engine):
    stats = stats_of(db, [world.a, world.b, world.c, world.d, world.e])
    got = {
        queue: (s.routed_in, s.routed_out, s.mean_time_in_queue_seconds)
        for queue, s in stats.items()
    }
    assert got == {
        # In: c3 (20), c5 (30), c8 (60, the boundary); not c1's A->A (10), not c2 (120).
        # Out: c3 (50, stay 240->50) and c6 (40, stay 90->40); not c7 (61).
        world.a: (3, 2, ((240 - 50) * 60 + (90 - 40) * 60) / 2),
        # In: c3 (50); out: c3 (20, stay 50->20) and c8 (60, stay 120->60).
        world.b: (1, 2, ((50 - 20) * 60 + (120 - 60) * 60) / 2),
        # In: c6 (40), c9 (15); c6's close at 5 is no move out.
        world.c: (2, 0, None),
        world.d: (0, 0, None),
        # The deleted queue may still be asked: c9 left it at 15 after 105 minutes.
        world.e: (0, 1, 105 * 60.0),
    }


def test_an_earlier_now_moves_the_window(world: World, db: Engine):
    # The window is [105, 45] minutes ago: moves after `now` are not seen.
    a = stats_of(db, [world.a], now=ago(45))[world.a]
    # In: c6 (90), c8 (60); out: c3 (50, stay 240->50), c7 (61, stay 180->61); not c5, c6 out.
    assert (a.routed_in, a.routed_out) == (2, 2)
    assert a.mean_time_in_queue_seconds == ((240 - 50) * 60 + (180 - 61) * 60) / 2
    assert a.longest_waiting is not None  # c1 waits in A
    assert a.longest_waiting.conversation_id == world.ids["c1"]
    assert a.longest_waiting.age_seconds == (180 - 45) * 60.0


def test_one_queue_at_a_time_agrees_with_all_at_once(world: World, db: Engine):
    queues = [world.a, world.b, world.c, world.d, world.e]
    together = stats_of(db, queues)
    for queue in queues:
        assert stats_of(db, [queue])[queue] == together[queue]


def test_live_queues_leave_out_deleted_ones_and_keep_the_order_asked(world: World, db: Engine):
    with session_scope(db) as session:
        live = statistics.live_queues(session)
        assert {queue.name for queue in live} == {"A", "B", "C", "D"}
        asked = [queue_row(session, queue) for queue in (world.d, world.a, world.e)]
        names = [s.queue_name for s in statistics.queue_statistics(session, asked, NOW)]
        assert names == ["D", "A", "E"]
        assert statistics.queue_statistics(session, [], NOW) == []


def test_a_tie_goes_to_the_smaller_conversation_id(db: Engine):
    queue = make_queue(db, "Ties")
    low, high = sorted(str(uuid.uuid4()) for _ in range(2))
    make_conversation(db, 20, [Move(10, None, queue, ROUTED)], conversation_id=high)
    make_conversation(db, 30, [Move(10, None, queue, ROUTED)], conversation_id=low)
    waiting = stats_of(db, [queue])[queue].longest_waiting
    assert waiting is not None  # both conversations wait in the queue
    assert (waiting.conversation_id, waiting.age_seconds) == (low, 600.0)


def test_a_conversation_without_an_entry_event_counts_from_its_creation(db: Engine):
    # Not something the workflow writes; the statistics still give an answer, not a gap.
    queue = make_queue(db, "No entry")
    conversation_id = str(uuid.uuid4())
    created = ago(7)
    state = ConversationState(
        id=conversation_id, created_request_id="r", queue_id=queue, created_at=created,
        updated_at=created,
    )
    event = ConversationEvent(seq=1, type=EventType.CREATED, at=created, actor=SYSTEM_ACTOR)
    with session_scope(db) as session:
        apply_projection(session, state, [event])
    stats = stats_of(db, [queue])[queue]
    assert stats.open_conversations == 1
    assert stats.longest_waiting == statistics.LongestWaiting(conversation_id, created, 420.0)
    assert (stats.routed_in, stats.routed_out, stats.mean_time_in_queue_seconds) == (0, 0, None)
