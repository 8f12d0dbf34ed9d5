"""Estimated waits from the store (store.estimated_wait): the answer rate, the estimate the
projection records at entry, its error, and the answers' estimates; on SQLite and PostgreSQL
(the queries read JSON bodies and compare stored times)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from domain.conversation import ConversationEvent, ConversationState, EventType
from domain.models import SYSTEM_ACTOR, Priority, Status
from store import estimated_wait
from store.conversations import apply_projection, conversations_out
from store.db import session_scope
from store.tables import ConversationRow, QueueRow

# Real time: the answers' estimates are computed at the time they are asked.
NOW = datetime.now(UTC)
E = EventType


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


class Conversation:
    """One conversation's timeline, projected a step at a time as its workflow projects it."""

    def __init__(self, engine: Engine, queue_id: str, entered: float) -> None:
        self.engine = engine
        self.state = ConversationState(
            id=str(uuid.uuid4()), created_request_id="r", status=Status.OPEN, priority=Priority.NORMAL,
            created_at=ago(entered), updated_at=ago(entered),
        )
        self._step(entered, E.CREATED)
        self.state.queue_id, self.state.queued_at = queue_id, ago(entered)
        self._step(entered, E.ROUTED, from_queue_id=None, to_queue_id=queue_id)

    def answered(self, minutes: float) -> Conversation:
        self.state.agent_id = "x"
        self._step(minutes, E.ASSIGNED, agent_id="x")
        return self

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
