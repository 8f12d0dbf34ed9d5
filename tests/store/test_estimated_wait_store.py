"""Estimated waits from the store (store.estimated_wait): the answer rate, the answers'
estimates, the estimate recorded at a stay's entry and its error over a window; on SQLite and
PostgreSQL (the queries read JSON bodies and compare stored times; the error is ranked in SQL
on PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from domain.conversation import ConversationEvent, ConversationState, EventType
from domain.models import SYSTEM_ACTOR, Priority, Status
from store import estimated_wait
from store.conversations import apply_projection, conversations_out
from store.db import session_scope
from store.stays import STAYS
from store.tables import ConversationRow, QueueRow

# Real time: the answers' estimates are computed at the time they are asked.
NOW = datetime.now(UTC)
E = EventType


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


class Conversation:
    """One conversation's timeline, projected a step at a time as its workflow projects it."""

    def __init__(self, engine: Engine, queue_id: str, entered: float, agent_id: str | None = None) -> None:
        self.engine = engine
        self.state = ConversationState(
            id=str(uuid.uuid4()), created_request_id="r", status=Status.OPEN, priority=Priority.NORMAL,
            created_at=ago(entered), updated_at=ago(entered), agent_id=agent_id,
        )
        self._step(entered, E.CREATED)
        self.state.queue_id, self.state.queued_at = queue_id, ago(entered)
        self._step(entered, E.ROUTED, from_queue_id=None, to_queue_id=queue_id)

    def answered(self, minutes: float) -> Conversation:
        self.state.agent_id = "x"
        self._step(minutes, E.ASSIGNED, agent_id="x")
        return self

    def closed(self, minutes: float) -> Conversation:
        self.state.status, self.state.closed_at = Status.CLOSED, ago(minutes)
        self._step(minutes, E.CLOSED)
        return self

    def given(self, estimate: float | None) -> Conversation:
        """Its stay's estimate at entry, as `record` would have written it."""
        with session_scope(self.engine) as session:
            session.connection().execute(update(STAYS).where(STAYS.c.conversation_id == self.state.id).values(
                entry_estimate_seconds=estimate, entry_estimate_at=STAYS.c.entered_at))
        return self

    def recorded(self) -> tuple[float | None, datetime | None]:
        """Its stay's estimate at entry and when it was read."""
        with session_scope(self.engine) as session:
            estimate, at = session.connection().execute(select(
                STAYS.c.entry_estimate_seconds, STAYS.c.entry_estimate_at,
            ).where(STAYS.c.conversation_id == self.state.id)).one()
        return estimate, at and at.replace(tzinfo=UTC)

    def _step(self, minutes: float, type_: EventType, **fields: object) -> None:
        event = ConversationEvent(seq=self.state.last_seq + 1, type=type_, at=ago(minutes), actor=SYSTEM_ACTOR,
                                  **fields)
        self.state.last_seq, self.state.updated_at = event.seq, event.at
        with session_scope(self.engine) as session:
            apply_projection(session, self.state, [event], default_capacity=3)


def make_queue(engine: Engine) -> str:
    queue_id = str(uuid.uuid4())
    with session_scope(engine) as session:
        session.add(QueueRow(id=queue_id, name=queue_id, created_at=ago(1440), updated_at=ago(1440)))
    return queue_id


def test_a_queues_answers_in_the_last_half_hour_and_hour(engine: Engine) -> None:
    q, other = make_queue(engine), make_queue(engine)
    Conversation(engine, q, entered=50).answered(45)
    Conversation(engine, q, entered=25).answered(20)
    c = Conversation(engine, q, entered=10)
    d = Conversation(engine, q, entered=9)
    c.answered(5)
    d.answered(1)
    Conversation(engine, other, entered=3).answered(2)  # another queue's
    with session_scope(engine) as session:
        rate = estimated_wait.answer_rate(session, q, NOW, default_capacity=3)
    # Answered 20, 5 and 1 minutes ago; 45 minutes ago only in the hour.
    assert (rate.answers_recent, rate.answers_fallback, rate.agents_with_room) == (3, 4, 0)


def test_a_waiting_conversation_answers_with_its_estimate(engine: Engine) -> None:
    q = make_queue(engine)
    Conversation(engine, q, entered=20).answered(10)
    Conversation(engine, q, entered=8).answered(6)  # two answers in 30 minutes: 900 s each
    first, second = Conversation(engine, q, entered=4), Conversation(engine, q, entered=3)
    with session_scope(engine) as session:
        rows = [session.get(ConversationRow, x.state.id) for x in (first, second)]
        answers = conversations_out(session, [row for row in rows if row is not None], default_capacity=3)
    assert [(x["queuePosition"], x["estimatedWaitSeconds"]) for x in answers] == [(1, 900.0), (2, 1800.0)]
    first.answered(1)
    with session_scope(engine) as session:
        row = session.get(ConversationRow, second.state.id)
        assert row is not None
        [answer] = conversations_out(session, [row], default_capacity=3)
    # Three answers in 30 minutes, and it is first now.
    assert (answer["queuePosition"], answer["estimatedWaitSeconds"]) == (1, 600.0)


def test_a_stay_entering_waiting_records_the_estimate_a_caller_read_then(engine: Engine) -> None:
    q = make_queue(engine)
    Conversation(engine, q, entered=20).answered(10)
    Conversation(engine, q, entered=8).answered(6)  # two answers in 30 minutes: 900 s each
    stale = Conversation(engine, q, entered=2)  # entered before RECORD_WITHIN: nobody read it then
    first, second = Conversation(engine, q, entered=0.5), Conversation(engine, q, entered=0.4)
    held = Conversation(engine, q, entered=0.3, agent_id="y")  # an agent came along: not waiting
    quick = Conversation(engine, q, entered=0.2).answered(0.1)  # answered before any pass
    with session_scope(engine) as session:
        read = estimated_wait.record(session, NOW, default_capacity=3)
    assert read == 3  # first, second, held
    # Behind `stale` (position 2 and 3), with three answers in 30 minutes (`quick`'s the
    # third: 600 s each), as GET answered at NOW; and when it was read.
    assert (first.recorded(), second.recorded()) == ((1200.0, NOW), (1800.0, NOW))
    assert held.recorded() == (None, NOW)  # read, no estimate
    assert stale.recorded() == quick.recorded() == (None, None)  # never read
    with session_scope(engine) as session:
        assert estimated_wait.record(session, NOW + timedelta(seconds=1), default_capacity=3) == 0
    assert first.recorded() == (1200.0, NOW)  # read once

    # Measured against the waits: first answered 1500 s after its entry (300 s off), second
    # 1820 s after (20 s off); the median of two is the smaller (nearest rank).
    first.answered(0.5 - 1500 / 60)
    second.answered(0.4 - 1820 / 60)
    with session_scope(engine) as session:
        assert estimated_wait.estimate_error(session, q, ago(60), ago(-60)) == 20.0


def test_the_error_is_the_median_over_the_stays_answered_in_the_window(engine: Engine) -> None:
    q, other = make_queue(engine), make_queue(engine)

    def stay(entered: float, estimate: float | None, queue: str = q) -> Conversation:
        return Conversation(engine, queue, entered=entered).given(estimate)

    stay(50, 120).answered(50 - 100 / 60)  # 20 s off
    stay(40, 0).answered(40 - 45.5 / 60)  # 45.5 s off
    stay(30, 300).answered(30 - 200 / 60)  # 100 s off
    stay(70, 600).answered(65)  # answered before the window
    stay(20, 60).closed(20 - 500 / 60)  # abandoned: its wait is cut short, not counted
    stay(10, None).answered(10 - 1000 / 60)  # never given one
    stay(15, 0, queue=other).answered(5)  # another queue's
    with session_scope(engine) as session:
        assert estimated_wait.estimate_error(session, q, ago(60), NOW) == 45.5
        assert estimated_wait.estimate_error(session, q, ago(35), NOW) == 100.0
        assert estimated_wait.estimate_error(session, q, ago(60), ago(50) + timedelta(seconds=101)) == 20.0
        assert estimated_wait.estimate_error(session, q, ago(64), ago(60)) is None
