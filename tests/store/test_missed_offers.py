"""store.missed_offers on SQLite and PostgreSQL: lapses count in a row, an answer in time
resets them, the limit sets an ACTIVE agent AWAY ("not responding") once and starts the count
again; another status is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from domain.conversation import ConversationEvent, EventType
from domain.models import SYSTEM_ACTOR
from store import missed_offers
from store.db import session_scope
from store.tables import AgentRow, QueueRow

AT = datetime(2026, 12, 7, 9, tzinfo=UTC)


def event(type_: EventType, seq: int, **fields) -> ConversationEvent:
    return ConversationEvent(seq=seq, type=type_, at=AT + timedelta(seconds=seq), actor=SYSTEM_ACTOR,
                             agent_id="ana", **fields)


def lapse(seq: int) -> ConversationEvent:
    return event(EventType.OFFER_EXPIRED, seq)


def setup(engine: Engine, status: str = "ACTIVE") -> None:
    with session_scope(engine) as session:
        session.add(AgentRow(id="ana", display_name="Ana", role="AGENT", status=status, created_at=AT, updated_at=AT))
        session.add(QueueRow(id="q", name="offers", offer_timeout_seconds=30, max_missed_offers=3,
                             created_at=AT, updated_at=AT))


def apply(engine: Engine, *events: ConversationEvent) -> list:
    with session_scope(engine) as session:
        return missed_offers.count(session, "q", list(events), default_capacity=5)


def agent(engine: Engine) -> tuple[str, int]:
    with session_scope(engine) as session:
        row = session.get(AgentRow, "ana")
        assert row is not None
        return row.status, row.missed_offers


def test_lapses_count_in_a_row_and_an_answer_resets_them(engine: Engine):
    setup(engine)
    assert apply(engine, lapse(1), lapse(2)) == []
    assert agent(engine) == ("ACTIVE", 2)
    apply(engine, event(EventType.OFFER_DECLINED, 3))
    assert agent(engine) == ("ACTIVE", 0)
    apply(engine, lapse(4), lapse(5))
    apply(engine, event(EventType.ASSIGNED, 6, expires_at=AT))  # accepted in time
    assert agent(engine) == ("ACTIVE", 0)
    apply(engine, event(EventType.ASSIGNED, 7), lapse(8))  # assigned by hand answers no offer
    assert agent(engine) == ("ACTIVE", 1)


def test_the_limit_sets_an_active_agent_away_once_and_the_count_starts_again(engine: Engine):
    setup(engine)
    [told] = apply(engine, lapse(1), lapse(2), lapse(3))
    assert agent(engine) == ("AWAY", 0)
    assert told.type == "agent.status_changed" and '"not responding"' in told.bodies.supervisors
    assert apply(engine, lapse(4), lapse(5), lapse(6)) == []  # AWAY already: left alone
    assert agent(engine) == ("AWAY", 3)


def test_an_agent_busy_meanwhile_is_not_set_away(engine: Engine):
    setup(engine, status="BUSY")
    assert apply(engine, lapse(1), lapse(2), lapse(3)) == []
    assert agent(engine) == ("BUSY", 3)
