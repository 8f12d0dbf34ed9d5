"""Migration 0014_rendered_events, on SQLite and (SWITCHBOARD_TEST_DATABASE_URL) PostgreSQL: the
events already in the feed, in both of the old payload formats, get the very bodies their
publishers now render, per audience; and a downgrade gives back payloads that render the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from contract import events
from contract.agents import AgentOut
from contract.conversations import conversation_out
from contract.messages import message_out
from domain.conversation import ConversationEvent, EventType
from domain.events_out import AGENT_STATUS_CHANGED, MESSAGE_CREATED
from domain.models import Actor, ActorType, TraceEntry, TraceOutcome
from store.db import alembic_config, migrate
from store.tables import ConversationRow, EventFeedRow, MessageRow

BEFORE = "0013_dispatcher_claims"
AT = datetime(2025, 3, 4, 9, 30, 1, 234567, tzinfo=UTC)
CONVERSATION, QUEUE, AGENT = "c0000000-0000-4000-8000-000000000001", "q1", "a1"

old_feed = sa.table(
    "event_feed",
    sa.column("id", sa.String()), sa.column("type", sa.String()), sa.column("at", sa.DateTime(timezone=True)),
    sa.column("conversation_id", sa.String()), sa.column("queue_id", sa.String()),
    sa.column("agent_id", sa.String()), sa.column("payload", sa.JSON()),
)
old_timeline = sa.table(
    "conversation_events",
    sa.column("conversation_id", sa.String()), sa.column("seq", sa.Integer()), sa.column("type", sa.String()),
    sa.column("at", sa.DateTime(timezone=True)), sa.column("body", sa.JSON()),
)

CONVERSATION_ROW = ConversationRow(
    id=CONVERSATION, external_id="ticket-42", topic="Card blocked", summary=None, status="OPEN", priority="HIGH",
    priority_rank=2, queue_id=QUEUE, agent_id=None, channel="SMS", from_="+385911234567", to="+385800100",
    customer_id="p1", authentication="NONE", routed_route_id="r1", routed_version=2, tags=["vip"],
    message_content="my card is blocked", created_at=AT, updated_at=AT + timedelta(seconds=1), closed_at=None,
)
ROUTED = ConversationEvent(
    seq=2, type=EventType.ROUTED, at=AT + timedelta(seconds=1), actor=Actor(type=ActorType.SYSTEM),
    to_queue_id=QUEUE, route_id="r1", routing_version=2,
    trace=[TraceEntry(route_id="r0", name="Croatians", order=1, outcome=TraceOutcome.NOT_MATCHED,
                      reason='customer.country is "Spain", not $eq "Croatia"')],
    facts={"customer.country": "Spain", "message.channel": "SMS"},
)
AUTO_REPLY = MessageRow(
    id="m1", conversation_id=CONVERSATION, external_id=None, direction="OUTBOUND", author_type="SYSTEM",
    author_id=None, channel="SMS", from_="+385800100", to="+385911234567", content_type="TEXT",
    content={"text": "We are closed — back at 8"}, recorded_at=AT, created_at=AT, updated_at=AT,
)
POSTED = MessageRow(
    id="m2", conversation_id=CONVERSATION, external_id="x", direction="INBOUND", author_type="CUSTOMER",
    author_id="p1", channel="SMS", from_="+385911234567", to="+385800100", content_type="TEXT",
    content={"text": "hello"}, recorded_at=AT, created_at=AT, updated_at=AT,
)
AGENT_ANSWER = AgentOut(
    id=AGENT, display_name="Ana", email=None, title=None, role="AGENT", status="AWAY", availability="AWAY",
    enabled=True, max_conversations=3, load=0, created_at=AT, updated_at=AT,
)


def _worker_conversation() -> dict[str, Any]:
    """The conversation as the worker wrote it into a payload."""
    return CONVERSATION_ROW.model_dump(mode="json", exclude={"message_content", "escalation"})


# Rows as the previous release wrote them: (id, type, at, payload), and the bodies they must get.
OLD_ROWS: list[tuple[str, str, datetime, dict[str, Any], events.Bodies]] = [
    ("e1", "conversation.routed", ROUTED.at,
     {"event": ROUTED.model_dump(mode="json"), "conversation": _worker_conversation()},
     events.conversation_event(ROUTED, CONVERSATION_ROW)),
    ("e2", MESSAGE_CREATED, AT,
     {"stored_message": AUTO_REPLY.model_dump(mode="json"), "conversation": _worker_conversation()},
     events.message_created(AUTO_REPLY, CONVERSATION_ROW, AT)),
    ("e3", MESSAGE_CREATED, AT,
     {"message": message_out(POSTED), "conversation": conversation_out(CONVERSATION_ROW)},
     events.message_created(POSTED, CONVERSATION_ROW, AT)),
    ("e4", AGENT_STATUS_CHANGED, AT, {"agent": AGENT_ANSWER.model_dump(by_alias=True)},
     events.agent_status_changed(AGENT_ANSWER, AT)),
]


def _to(engine: Engine, revision: str, down: bool = False) -> None:
    with engine.begin() as connection:
        (command.downgrade if down else command.upgrade)(alembic_config(connection), revision)


def _bodies(engine: Engine) -> dict[str, tuple[str, str | None]]:
    with Session(engine) as session:
        return {row.id: (row.body, row.workers_body) for row in session.exec(select(EventFeedRow)).all()}


def test_events_in_the_feed_get_the_bodies_their_publishers_now_render(engine: Engine) -> None:
    _to(engine, BEFORE)
    with engine.begin() as connection:
        connection.execute(old_feed.insert(), [
            {"id": id_, "type": type_, "at": at, "conversation_id": CONVERSATION, "queue_id": QUEUE,
             "agent_id": None, "payload": payload}
            for id_, type_, at, payload, _ in OLD_ROWS
        ])
        connection.execute(old_timeline.insert(), [{
            "conversation_id": CONVERSATION, "seq": ROUTED.seq, "type": ROUTED.type.value, "at": ROUTED.at,
            "body": ROUTED.model_dump(mode="json"),
        }])

    migrate(engine)

    expected = {
        id_: (bodies.supervisors, None if bodies.workers == bodies.supervisors else bodies.workers)
        for id_, _, _, _, bodies in OLD_ROWS
    }
    assert _bodies(engine) == expected
    supervisors, workers = expected["e1"]
    assert workers is not None and "Spain" in supervisors and "Spain" not in workers

    # Down and up again: the payloads put back render to the same bytes.
    _to(engine, BEFORE, down=True)
    migrate(engine)
    assert _bodies(engine) == expected
