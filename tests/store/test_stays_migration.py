"""Revision 0021: the conversations that exist get their stays, staffing stays and offers as
rows, replayed from their events and agent replies, so a window over them counts as before the
upgrade; the projection goes on from there; the downgrade drops them. SQLite and
(SWITCHBOARD_TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import Table, insert, inspect, select
from sqlalchemy.engine import Engine

from domain.conversation import ConversationEvent, ConversationState
from domain.conversation import EventType as E
from domain.models import SYSTEM_ACTOR, Priority, Status, as_utc
from store.conversations import apply_projection
from store.db import alembic_config, session_scope
from store.statistics import CONVERSATIONS, Timing, queue_statistics, window_stays
from store.stays import STAFFING_STAYS, STAYS
from store.tables import AgentRow, ConversationEventRow, MessageRow, QueueRow

T0 = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
QUEUE, AGENT = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-0000000000a1"
ANSWERED, ABANDONED, OFFERED = (f"00000000-0000-4000-8000-0000000000c{n}" for n in (1, 2, 3))
QUEUES: Table = QueueRow.__table__  # type: ignore[attr-defined]
AGENTS: Table = AgentRow.__table__  # type: ignore[attr-defined]
EVENTS: Table = ConversationEventRow.__table__  # type: ignore[attr-defined]


def to(engine: Engine, revision: str, downgrade: bool = False) -> None:
    with engine.begin() as connection:
        (command.downgrade if downgrade else command.upgrade)(alembic_config(connection), revision)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(seq: int, type_: E, seconds: float, **fields: Any) -> ConversationEvent:
    return ConversationEvent(seq=seq, type=type_, at=at(seconds), actor=SYSTEM_ACTOR, **fields)


TIMELINES = {
    # Answered after 30 s, the agent's reply after 60 s, solved.
    ANSWERED: [event(1, E.ROUTED, 0, to_queue_id=QUEUE), event(2, E.ASSIGNED, 30, agent_id=AGENT),
               event(3, E.STATUS_CHANGED, 300, status=Status.SOLVED, reason="SOLVED")],
    # Closed unassigned after 90 s: abandoned after the target (60 s).
    ABANDONED: [event(1, E.ROUTED, 0, to_queue_id=QUEUE), event(2, E.CLOSED, 90, status=Status.CLOSED)],
    # Offered after 10 s, accepted 10 s later: answered in 20 s; still open.
    OFFERED: [event(1, E.ROUTED, 0, to_queue_id=QUEUE),
              event(2, E.OFFERED, 10, agent_id=AGENT, expires_at=at(40)),
              event(3, E.ASSIGNED, 20, agent_id=AGENT, expires_at=at(40))],
}


def previous_release(engine: Engine) -> None:
    """Revision 0020's database with three conversations, their events and one agent reply."""
    to(engine, "0020_entry_wait_estimates")
    with engine.begin() as connection:
        connection.execute(insert(QUEUES), [dict(
            id=QUEUE, name="Q", created_at=T0, updated_at=T0, service_level_target_seconds=60,
            service_level_target_percent=80, is_auto_assignment_enabled=False,
            is_sticky_auto_assignment_enabled=False, bot_timeout_seconds=600)])
        connection.execute(insert(AGENTS), [dict(
            id=AGENT, display_name="Ana", role="AGENT", status="ACTIVE", enabled=True, created_at=T0,
            updated_at=T0)])
        for conversation_id, events in TIMELINES.items():
            closed = events[-1].type == E.CLOSED
            connection.exec_driver_sql(
                "INSERT INTO conversations (id, status, priority, priority_rank, queue_id, authentication, tags, "
                "last_seq, created_at, updated_at) VALUES (%s, %s, 'NORMAL', 2, %s, 'NONE', '[]', %s, %s, %s)"
                if engine.dialect.name == "postgresql" else
                "INSERT INTO conversations (id, status, priority, priority_rank, queue_id, authentication, tags, "
                "last_seq, created_at, updated_at) VALUES (?, ?, 'NORMAL', 2, ?, 'NONE', '[]', ?, ?, ?)",
                (conversation_id, "CLOSED" if closed else "OPEN", QUEUE, events[-1].seq, T0, events[-1].at))
            connection.execute(insert(EVENTS), [dict(
                conversation_id=conversation_id, seq=e.seq, type=e.type.value, at=e.at, body=e.model_dump(mode="json"),
            ) for e in events])
        connection.execute(insert(MessageRow), [dict(
            id="00000000-0000-4000-8000-0000000000e1", conversation_id=ANSWERED, direction="OUTBOUND",
            author_type="AGENT", author_id=AGENT, channel="LIVE_CHAT", from_address="us", to_address="them",
            content_type="TEXT", content={"text": "hello"}, recorded_at=at(60), created_at=at(60),
            updated_at=at(60))])


def figures(engine: Engine) -> Any:
    with session_scope(engine) as session:
        queue = session.get(QueueRow, QUEUE)
        assert queue is not None
        return window_stays(session, queue, at(-60), at(600))


def test_existing_conversations_get_their_stays_and_the_projection_goes_on(engine: Engine) -> None:
    previous_release(engine)
    to(engine, "head")

    with engine.connect() as connection:
        ended = dict(connection.execute(select(STAYS.c.conversation_id, STAYS.c.ended_by)).all())
        staffing = dict(connection.execute(select(STAFFING_STAYS.c.conversation_id, STAFFING_STAYS.c.ended_by)).all())
    assert ended == {ANSWERED: "ENDED", ABANDONED: "ABANDONED", OFFERED: None}
    assert staffing == {ANSWERED: "HANDLED", ABANDONED: "ABANDONED", OFFERED: None}
    counted = figures(engine)
    assert (counted.entered, counted.answered, counted.abandoned, counted.first_replies) == (3, 2, 1, 1)
    assert (counted.answered_within_target, counted.abandoned_after_target) == (2, 1)
    assert counted.time_to_answer == Timing(25.0, 20.0, 30.0)
    assert counted.time_to_first_reply == Timing(60.0, 60.0, 60.0)
    assert (counted.offers_made, counted.offers_accepted, counted.time_to_accept) == (1, 1, Timing(10.0, 10.0, 10.0))
    with engine.connect() as connection:
        columns = {row[0]: tuple(row[1:]) for row in connection.execute(select(
            CONVERSATIONS.c.id, CONVERSATIONS.c.queue_entered_at, CONVERSATIONS.c.first_assigned_at)).all()}
    assert {id_: (as_utc(entered), assigned and as_utc(assigned)) for id_, (entered, assigned) in columns.items()} == {
        ANSWERED: (T0, at(30)), ABANDONED: (T0, None), OFFERED: (T0, at(20))}

    # The offered one is moved out, then closed: its stay ends by the move, from the state
    # the backfill left; the figures of the window stand.
    state = ConversationState(
        id=OFFERED, created_request_id="r", status=Status.CLOSED, priority=Priority.NORMAL, queue_id=None,
        agent_id=AGENT, created_at=T0, updated_at=at(500), closed_at=at(500), last_seq=5)
    with session_scope(engine) as session:
        apply_projection(session, state, [event(4, E.REROUTED, 400, from_queue_id=QUEUE, to_queue_id="elsewhere"),
                                          event(5, E.CLOSED, 500, status=Status.CLOSED)])
    with engine.connect() as connection:
        moved = connection.execute(select(STAYS.c.ended_by, STAYS.c.ended_at).where(
            STAYS.c.conversation_id == OFFERED, STAYS.c.queue_id == QUEUE)).one()
    assert moved[0] == "MOVED"
    after = figures(engine)
    assert (after.entered, after.answered, after.abandoned) == (3, 2, 1)
    with session_scope(engine) as session:
        queue = session.get(QueueRow, QUEUE)
        assert queue is not None
        [live] = queue_statistics(session, [queue], at(600))
    # In the hour before: three moved in (backfilled), one out after 400 s in the queue.
    assert (live.routed_in, live.routed_out, live.mean_time_in_queue_seconds) == (3, 1, 400.0)
    assert (live.first_assignment_p50_seconds, live.first_assignment_p90_seconds) == (30.0, 30.0)


def test_the_downgrade_drops_the_stays(engine: Engine) -> None:
    previous_release(engine)
    to(engine, "head")
    to(engine, "0020_entry_wait_estimates", downgrade=True)
    tables = set(inspect(engine).get_table_names())
    assert not tables & {"stays", "staffing_stays", "stay_offers"}
    assert "stays_state" not in {column["name"] for column in inspect(engine).get_columns("conversations")}
