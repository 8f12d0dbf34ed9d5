"""agent.status_changed is coalesced per agent and subscription (store.events_out): a newer
status replaces the deliveries of earlier ones still waiting, one being sent is dropped once
its attempt fails behind a newer one, a receiver in back-off is not called sooner, and every
other delivery is untouched. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from contract.events import for_everyone
from domain.events_out import AGENT_STATUS_CHANGED, NextAttempt, Outcome
from domain.models import as_utc, utcnow
from store import webhooks
from store.db import migrate, session_scope
from store.events_out import PENDING, NewEvent, event_id, publish
from store.tables import EventFeedRow, WebhookAttemptRow, WebhookDeliveryRow, WebhookSubscriptionRow

AGENT, OTHER = "00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000a2"
LEASE = timedelta(seconds=30)


def subscribe(engine: Engine, **fields) -> str:
    now = utcnow()
    row = WebhookSubscriptionRow(id=str(uuid.uuid4()), url="https://example.com/hook", secret="whsec_x",
                                 created_at=now, updated_at=now, **fields)
    with session_scope(engine) as session:
        session.add(row)
    return row.id


def status(engine: Engine, agent_id: str, value: str) -> str:
    """Publishes the agent's new status as the API does; the event's id."""
    at = utcnow()
    source = f"agent {agent_id} status {value} {uuid.uuid4()}"
    with session_scope(engine) as session:
        bodies = for_everyone(AGENT_STATUS_CHANGED, at, {"agent": {"id": agent_id, "status": value}})
        publish(session, [NewEvent(source=source, type=AGENT_STATUS_CHANGED, at=at, bodies=bodies, agent_id=agent_id)])
    return event_id(source)


def waiting(engine: Engine, subscription_id: str) -> list[tuple[WebhookDeliveryRow, EventFeedRow]]:
    with session_scope(engine) as session:
        return list(session.exec(
            select(WebhookDeliveryRow, EventFeedRow)
            .join(EventFeedRow, col(EventFeedRow.id) == col(WebhookDeliveryRow.event_id))
            .where(col(WebhookDeliveryRow.subscription_id) == subscription_id)
            .order_by(col(EventFeedRow.position))
        ).all())


def lease(engine: Engine) -> list[webhooks.Leased]:
    now = utcnow()
    with session_scope(engine) as session:
        return webhooks.lease_due(session, now, now + LEASE, 32)


def fail(engine: Engine, leased: webhooks.Leased, retry_at: datetime) -> None:
    with session_scope(engine) as session:
        webhooks.record_attempt(session, leased.delivery.id, webhooks.Attempt(utcnow(), 503, None, 3, None),
                                NextAttempt(Outcome.RETRY, retry_at))


def test_toggling_leaves_one_waiting_delivery_per_subscription_with_the_last_status(engine: Engine) -> None:
    migrate(engine)
    first, second = subscribe(engine), subscribe(engine, event_types=[AGENT_STATUS_CHANGED])
    only_conversations = subscribe(engine, event_types=["conversation.created"])
    statuses = ["BUSY", "AVAILABLE", "AWAY"] * 100 + ["OFFLINE"]
    for value in statuses:
        last = status(engine, AGENT, value)
    other = status(engine, OTHER, "BUSY")
    with session_scope(engine) as session:
        publish(session, [NewEvent(source=f"conversation {uuid.uuid4()}", type="conversation.created", at=utcnow(),
                                   bodies=for_everyone("conversation.created", utcnow(), {}), agent_id=AGENT)])
    for subscription_id, count in ((first, 3), (second, 2)):
        rows = waiting(engine, subscription_id)
        by_agent = {event.agent_id: (delivery, event) for delivery, event in rows
                    if event.type == AGENT_STATUS_CHANGED}
        assert len(rows) == count  # AGENT's last status, OTHER's, and (all types) the conversation event
        assert by_agent[AGENT][1].id == last
        assert json.loads(by_agent[AGENT][1].body)["data"]["agent"]["status"] == "OFFLINE"
        assert by_agent[OTHER][1].id == other  # another agent's status is its own
    assert len(waiting(engine, only_conversations)) == 1
    # Every status stays in the feed (the live stream has them all).
    with session_scope(engine) as session:
        assert len(session.exec(select(EventFeedRow.id).where(
            col(EventFeedRow.type) == AGENT_STATUS_CHANGED)).all()) == len(statuses) + 1


def test_one_being_sent_is_kept_then_dropped_behind_a_newer_one_and_back_off_holds(engine: Engine) -> None:
    migrate(engine)
    subscription_id = subscribe(engine, event_types=[AGENT_STATUS_CHANGED])
    status(engine, AGENT, "BUSY")
    [sending] = lease(engine)
    newer = status(engine, AGENT, "AWAY")  # the one being sent stays: it is in flight
    assert len(waiting(engine, subscription_id)) == 2
    # Its attempt fails: it is not retried behind the newer one, and leaves no attempt log.
    fail(engine, sending, utcnow() + timedelta(minutes=5))
    [(delivery, event)] = waiting(engine, subscription_id)
    assert event.id == newer and delivery.state == PENDING
    with session_scope(engine) as session:
        assert session.exec(select(WebhookAttemptRow).where(
            col(WebhookAttemptRow.delivery_id) == sending.delivery.id)).first() is None

    # The newer one fails too and backs off; a status after it waits as long, not less.
    [sending] = lease(engine)
    backed_off = utcnow() + timedelta(minutes=5)
    fail(engine, sending, backed_off)
    latest = status(engine, AGENT, "AVAILABLE")
    [(delivery, event)] = waiting(engine, subscription_id)
    assert event.id == latest and delivery.attempts == 0
    assert delivery.next_attempt_at is not None and as_utc(delivery.next_attempt_at) == backed_off
    assert lease(engine) == []  # not due before then

    # Delivered, a later status is a new delivery of its own, due at once.
    with session_scope(engine) as session:
        found = session.get(WebhookDeliveryRow, delivery.id)
        assert found is not None
        found.next_attempt_at = datetime(2000, 1, 1, tzinfo=UTC)
    [sending] = lease(engine)
    with session_scope(engine) as session:
        webhooks.record_attempt(session, sending.delivery.id, webhooks.Attempt(utcnow(), 200, None, 3, None),
                                NextAttempt(Outcome.DELIVERED, None))
    status(engine, AGENT, "BUSY")
    assert [delivery.state for delivery, _ in waiting(engine, subscription_id)] == ["DELIVERED", PENDING]
    assert len(lease(engine)) == 1
