"""Leasing deliveries: what is due and unheld, never one subscription's more than
PER_SUBSCRIPTION at once, and a lease that runs out makes a delivery due again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from contract.events import for_everyone
from domain.events_out import NextAttempt, Outcome
from store import webhooks
from store.db import migrate, session_scope
from store.events_out import DELIVERED, FAILED, PENDING, NewEvent, publish
from store.tables import WebhookDeliveryRow, WebhookSubscriptionRow

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def subscription(engine: Engine, **fields) -> str:
    row = WebhookSubscriptionRow(id=str(uuid.uuid4()), url="https://example.com/hook", secret="whsec_x",
                                 created_at=NOW, updated_at=NOW, **fields)
    with session_scope(engine) as session:
        session.add(row)
    return row.id


def events(engine: Engine, count: int, event_type: str = "conversation.created") -> None:
    with session_scope(engine) as session:
        publish(session, [NewEvent(source=f"test {uuid.uuid4()}", type=event_type, at=NOW,
                                   bodies=for_everyone(event_type, NOW, {}))
                          for _ in range(count)])


def lease(engine: Engine, at: datetime = NOW, limit: int = 32) -> list[webhooks.Leased]:
    with session_scope(engine) as session:
        return webhooks.lease_due(session, at, at + LEASE, limit)


def test_one_subscription_never_takes_more_than_its_share(engine: Engine) -> None:
    migrate(engine)
    slow, other = subscription(engine), subscription(engine, event_types=["conversation.closed"])
    events(engine, 20)
    events(engine, 5, "conversation.closed")
    first = lease(engine)
    by = [leased.subscription.id for leased in first]
    assert by.count(slow) == webhooks.PER_SUBSCRIPTION and by.count(other) == 5
    # Held: nothing more of either while the leases last.
    assert lease(engine) == []
    # Once they run out, they are due again (their courier died), as many as before.
    again = lease(engine, NOW + LEASE)
    assert [leased.subscription.id for leased in again].count(slow) == webhooks.PER_SUBSCRIPTION


def test_a_subscription_at_its_cap_hides_no_other_ones_deliveries(engine: Engine) -> None:
    """A lease of one slot finds the other subscription's delivery behind fifty of a capped one
    (read among them, it looked at the first four and leased nothing)."""
    migrate(engine)
    busy = subscription(engine, event_types=["conversation.created"])
    other = subscription(engine, event_types=["conversation.closed"])
    events(engine, 50)
    events(engine, 1, "conversation.closed")
    first = lease(engine, limit=webhooks.PER_SUBSCRIPTION)
    assert {leased.subscription.id for leased in first} == {busy}
    [then] = lease(engine, limit=1)
    assert then.subscription.id == other


def test_an_attempt_frees_its_slot_and_says_what_follows(engine: Engine) -> None:
    migrate(engine)
    subscription_id = subscription(engine)
    events(engine, webhooks.PER_SUBSCRIPTION + 1)
    first = lease(engine)
    assert len(first) == webhooks.PER_SUBSCRIPTION
    done, retried = first[0].delivery.id, first[1].delivery.id
    with session_scope(engine) as session:
        webhooks.record_attempt(session, done, webhooks.Attempt(NOW, 200, None, 12, "ok"),
                                NextAttempt(Outcome.DELIVERED, None))
        webhooks.record_attempt(session, retried, webhooks.Attempt(NOW, 503, None, 12, None),
                                NextAttempt(Outcome.RETRY, NOW + timedelta(minutes=5)))
    # Two slots freed: the one left waiting is leased; the retried one is not due yet.
    [next_one] = lease(engine)
    assert next_one.delivery.id not in {done, retried}
    with session_scope(engine) as session:
        assert session.get(WebhookDeliveryRow, done).state == DELIVERED  # type: ignore[union-attr]
        later = session.get(WebhookDeliveryRow, retried)
        assert later is not None and later.state == PENDING and later.attempts == 1
        webhooks.record_attempt(session, next_one.delivery.id, webhooks.Attempt(NOW, 410, None, 3, None),
                                NextAttempt(Outcome.GONE, None))
    with session_scope(engine) as session:
        gone = session.get(WebhookSubscriptionRow, subscription_id)
        assert gone is not None and not gone.enabled
        assert session.get(WebhookDeliveryRow, next_one.delivery.id).state == FAILED  # type: ignore[union-attr]
    # A disabled subscription's deliveries fail when their turn comes, unsent.
    assert lease(engine, NOW + timedelta(minutes=5)) == []
    with session_scope(engine) as session:
        assert session.get(WebhookDeliveryRow, retried).last_error == "subscription disabled"  # type: ignore[union-attr]
