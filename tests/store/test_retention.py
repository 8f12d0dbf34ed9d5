"""Retention (store.retention, run by the worker's services.retention loop), on SQLite and
PostgreSQL: the event feed, finished deliveries and their attempts older than the retention
period go, in batches; recent ones, pending deliveries (and the events they carry) and
conversations with their timeline events and messages stay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from contract.events import for_everyone
from domain.events_out import NextAttempt, Outcome
from services.retention import Retention
from store import webhooks
from store.db import migrate, session_scope
from store.events_out import PENDING, NewEvent, event_id, publish
from store.tables import (
    ConversationEventRow,
    ConversationRow,
    EventFeedRow,
    MessageRow,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookSubscriptionRow,
)
from switchboard.composition import courier_process
from tests.settings import stack_settings

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=40)
RECENT = NOW - timedelta(days=29)
CONVERSATION = "00000000-0000-4000-8000-0000000000c1"


def subscribe(engine: Engine) -> str:
    row = WebhookSubscriptionRow(id=str(uuid.uuid4()), url="https://example.com/hook", secret="whsec_x",
                                 created_at=OLD, updated_at=OLD)
    with session_scope(engine) as session:
        session.add(row)
    return row.id


def event(engine: Engine, name: str, at: datetime) -> str:
    """Publishes an event (with a delivery for each subscription); its id."""
    with session_scope(engine) as session:
        publish(session, [NewEvent(source=name, type="conversation.created", at=at,
                                   bodies=for_everyone("conversation.created", at, {}),
                                   conversation_id=CONVERSATION)])
    return event_id(name)


def delivery_of(session: Session, event: str) -> WebhookDeliveryRow:
    row = session.exec(select(WebhookDeliveryRow).where(WebhookDeliveryRow.event_id == event)).one()
    return row


def attempt(engine: Engine, event: str, then: NextAttempt, status: int = 200) -> None:
    with session_scope(engine) as session:
        delivery_id = delivery_of(session, event).id
        webhooks.record_attempt(session, delivery_id, webhooks.Attempt(OLD, status, None, 5, None), then)


def kept(engine: Engine) -> tuple[set[str], set[str], int, tuple[int, int, int]]:
    """Feed event ids, the event ids of deliveries, attempts, and (conversations, timeline
    events, messages)."""
    with session_scope(engine) as session:
        feed = set(session.exec(select(EventFeedRow.id)).all())
        deliveries = set(session.exec(select(WebhookDeliveryRow.event_id)).all())
        attempts = len(session.exec(select(WebhookAttemptRow.id)).all())
        record = (len(session.exec(select(ConversationRow.id)).all()),
                  len(session.exec(select(ConversationEventRow.seq)).all()),
                  len(session.exec(select(MessageRow.id)).all()))
    return feed, deliveries, attempts, record


def old_conversation(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(ConversationRow(id=CONVERSATION, status="CLOSED", priority="NORMAL", priority_rank=2,
                                    created_at=OLD, updated_at=OLD, closed_at=OLD))
        session.add(ConversationEventRow(conversation_id=CONVERSATION, seq=1, type="CREATED", at=OLD, body={}))
        session.add(MessageRow(id=str(uuid.uuid4()), conversation_id=CONVERSATION, direction="INBOUND",
                               author_type="CUSTOMER", channel="SMS", from_="+1", to="+2", content_type="TEXT",
                               content={"text": "hello"}, created_at=OLD, updated_at=OLD))


async def test_old_feed_and_finished_deliveries_go_the_rest_stays(engine: Engine) -> None:
    migrate(engine)
    old_conversation(engine)
    unsent = event(engine, "before any subscription", OLD)  # no delivery at all
    subscribe(engine)
    delivered, failed, pending = (event(engine, f"old {n}", OLD) for n in range(3))
    more_old = [event(engine, f"old batch {n}", OLD) for n in range(5)]  # more than one batch
    recent_delivered, recent_pending = event(engine, "recent 1", RECENT), event(engine, "recent 2", RECENT)
    for done in (delivered, recent_delivered, *more_old):
        attempt(engine, done, NextAttempt(Outcome.RETRY, OLD), status=503)
        attempt(engine, done, NextAttempt(Outcome.DELIVERED, None))
    attempt(engine, failed, NextAttempt(Outcome.FAILED, None), status=400)
    attempt(engine, pending, NextAttempt(Outcome.RETRY, NOW + timedelta(hours=1)), status=503)

    retention = Retention(engine, 30, clock=lambda: NOW, batch=2)
    pruned = await retention.prune_now()

    feed, deliveries, attempts, record = kept(engine)
    assert feed == {pending, recent_delivered, recent_pending}
    assert not {unsent, delivered, failed, *more_old} & (feed | deliveries)
    assert deliveries == {pending, recent_delivered, recent_pending}
    assert attempts == 1 + 2  # the pending one's and the recent delivered one's
    assert record == (1, 1, 1)  # conversations, their events and messages are kept
    assert (pruned.feed, pruned.deliveries, pruned.attempts) == (8, 7, 2 + 1 + 2 * 5)

    # Nothing more to do; once the pending one is delivered, it and its event go next time.
    assert (await retention.prune_now()).total == 0
    attempt(engine, pending, NextAttempt(Outcome.DELIVERED, None))
    await retention.prune_now()
    feed, deliveries, attempts, _ = kept(engine)
    assert feed == deliveries == {recent_delivered, recent_pending}
    assert attempts == 2


async def test_a_delivery_sent_again_is_pending_and_stays(engine: Engine) -> None:
    """A supervisor's "Send again" of an old delivery makes it pending: retention keeps it and
    the event it carries (and deletes them once it is finished again)."""
    migrate(engine)
    subscribe(engine)
    old = event(engine, "old", OLD)
    attempt(engine, old, NextAttempt(Outcome.FAILED, None), status=400)
    with session_scope(engine) as session:
        webhooks.retry_now(session, delivery_of(session, old), NOW)
    await Retention(engine, 30, clock=lambda: NOW).prune_now()
    feed, deliveries, attempts, _ = kept(engine)
    assert feed == deliveries == {old} and attempts == 1
    with session_scope(engine) as session:
        assert session.exec(select(WebhookDeliveryRow.state).where(
            col(WebhookDeliveryRow.event_id) == old)).one() == PENDING


async def test_every_courier_runs_retention_with_its_setting(engine: Engine, database_url: str) -> None:
    """switchboard courier builds its retention loop from SWITCHBOARD_RETENTION_DAYS."""
    settings = stack_settings(database_url, f"retention-{uuid.uuid4()}", SWITCHBOARD_RETENTION_DAYS="7")
    process = courier_process(settings, engine)
    assert isinstance(process.retention, Retention) and process.retention.days == 7
