"""Webhook deliveries: a courier leases the due ones, and records each attempt and what follows.

A lease (`leased_until`) is how couriers in several processes share the work without
sending one delivery twice at once; a courier that dies mid-delivery leaves its lease to run
out, and any courier sends the delivery again, under the same webhook-id (at least once)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from domain.events_out import AGENT_STATUS_CHANGED, NextAttempt, Outcome
from store.db import take_write_lock
from store.events_out import DELIVERED, FAILED, PENDING
from store.tables import AgentRow, EventFeedRow, WebhookAttemptRow, WebhookDeliveryRow, WebhookSubscriptionRow


@dataclass(frozen=True)
class Leased:
    """A delivery this courier holds until `leased_until`, with what sending it needs."""

    delivery: WebhookDeliveryRow
    subscription: WebhookSubscriptionRow
    event: EventFeedRow


# Requests in flight to one subscription, over all couriers: a slow receiver takes up no
# more, so the others' deliveries still go out.
PER_SUBSCRIPTION = 8


def lease_due(session: Session, now: datetime, leased_until: datetime, limit: int) -> list[Leased]:
    """Leases up to `limit` deliveries due by `now` that nobody holds, at most
    PER_SUBSCRIPTION in flight for any subscription. PostgreSQL skips rows another courier
    is leasing at this moment; SQLite takes its write lock first."""
    take_write_lock(session)
    in_flight = Counter(dict(session.exec(
        select(WebhookDeliveryRow.subscription_id, func.count())
        .where(col(WebhookDeliveryRow.state) == PENDING, col(WebhookDeliveryRow.leased_until) > now)
        .group_by(col(WebhookDeliveryRow.subscription_id))
    ).all()))
    # The candidates as (id, subscription) pairs, none of a subscription already at its cap
    # (read among them, a few slots freed found only that subscription's backlog and leased
    # nothing: a backlog of four subscriptions drained one at a time). Up to 4 × limit, to
    # pass those this lease brings to their cap; building a full row for each was most of a
    # lease's time.
    capped = [subscription_id for subscription_id, count in in_flight.items() if count >= PER_SUBSCRIPTION]
    query = (
        select(WebhookDeliveryRow.id, WebhookDeliveryRow.subscription_id)
        .where(
            col(WebhookDeliveryRow.state) == PENDING,
            col(WebhookDeliveryRow.next_attempt_at) <= now,
            or_(col(WebhookDeliveryRow.leased_until).is_(None), col(WebhookDeliveryRow.leased_until) <= now),
            col(WebhookDeliveryRow.subscription_id).not_in(capped),
        )
        .order_by(col(WebhookDeliveryRow.next_attempt_at))
        .limit(4 * limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    chosen: list[str] = []
    for delivery_id, subscription_id in session.exec(query).all():
        if in_flight[subscription_id] < PER_SUBSCRIPTION and len(chosen) < limit:
            in_flight[subscription_id] += 1
            chosen.append(delivery_id)
    if not chosen:
        return []
    session.exec(
        update(WebhookDeliveryRow).where(col(WebhookDeliveryRow.id).in_(chosen)).values(leased_until=leased_until)
    )
    by_id = {row.id: row for row in session.exec(
        select(WebhookDeliveryRow).where(col(WebhookDeliveryRow.id).in_(chosen))
    ).all()}
    deliveries = [by_id[delivery_id] for delivery_id in chosen]
    subscriptions = {row.id: row for row in session.exec(select(WebhookSubscriptionRow).where(
        col(WebhookSubscriptionRow.id).in_({delivery.subscription_id for delivery in deliveries})
    )).all()}
    events = {row.id: row for row in session.exec(select(EventFeedRow).where(
        col(EventFeedRow.id).in_({delivery.event_id for delivery in deliveries})
    )).all()}
    leased = []
    for delivery in deliveries:
        delivery.leased_until = leased_until
        subscription = subscriptions.get(delivery.subscription_id)
        if subscription is None or not subscription.enabled:
            delivery.state, delivery.leased_until = FAILED, None
            delivery.last_error = "subscription deleted" if subscription is None else "subscription disabled"
            session.add(delivery)
            continue
        leased.append(Leased(delivery, subscription, events[delivery.event_id]))
    return leased


@dataclass(frozen=True)
class Attempt:
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    response_prefix: str | None


def record_attempt(session: Session, delivery_id: str, attempt: Attempt, then: NextAttempt) -> None:
    """The attempt, and the delivery's next state (as record_attempts)."""
    record_attempts(session, [(delivery_id, attempt, then)])


def record_attempts(session: Session, outcomes: Sequence[tuple[str, Attempt, NextAttempt]]) -> None:
    """Each attempt, and its delivery's next state; a 410 (GONE) disables its subscription. A
    failed agent.status_changed that a newer status of the same agent waits behind is dropped
    instead of retried (store.events_out: coalescing). The deliveries are read in one query
    (one each was most of a courier's time writing them)."""
    deliveries = {row.id: row for row in session.exec(
        select(WebhookDeliveryRow)
        .where(col(WebhookDeliveryRow.id).in_({delivery_id for delivery_id, _, _ in outcomes}))
        .order_by(col(WebhookDeliveryRow.id))  # locked in one order by every writer
        .with_for_update()
    ).all()}
    _hold_retried_statuses_agents(session, [deliveries[delivery_id] for delivery_id, _, then in outcomes
                                            if then.outcome is Outcome.RETRY and delivery_id in deliveries])
    for delivery_id, attempt, then in outcomes:
        delivery = deliveries.get(delivery_id)
        if delivery is not None:  # else its subscription was deleted meanwhile
            _record(session, delivery, attempt, then)


def _record(session: Session, delivery: WebhookDeliveryRow, attempt: Attempt, then: NextAttempt) -> None:
    if then.outcome is Outcome.RETRY and delivery.event_type == AGENT_STATUS_CHANGED and _superseded(session, delivery):
        session.exec(delete(WebhookAttemptRow).where(col(WebhookAttemptRow.delivery_id) == delivery.id))
        session.delete(delivery)
        return
    session.add(WebhookAttemptRow(
        id=str(uuid.uuid4()), delivery_id=delivery.id, at=attempt.at, status_code=attempt.status_code,
        error=attempt.error, duration_ms=attempt.duration_ms, response_prefix=attempt.response_prefix,
    ))
    delivery.attempts += 1
    delivery.last_status_code = attempt.status_code
    delivery.last_error = attempt.error
    delivery.leased_until = None
    delivery.updated_at = attempt.at
    if then.outcome is Outcome.RETRY:
        delivery.state, delivery.next_attempt_at = PENDING, then.at
    else:
        delivery.state = DELIVERED if then.outcome is Outcome.DELIVERED else FAILED
        delivery.next_attempt_at = None
    session.add(delivery)
    if then.outcome is Outcome.GONE:
        disable(session, delivery.subscription_id, "the receiver answered 410 Gone", attempt.at)


def _hold_retried_statuses_agents(session: Session, retried: Sequence[WebhookDeliveryRow]) -> None:
    """PostgreSQL: shares the lock on the agents whose failed statuses are about to be retried
    or dropped, so a status change of one of them writing its newer delivery now commits first
    (then `_superseded` sees it) or waits for this record (then it replaces the retried one):
    otherwise both pass each other and one more delivery waits than coalescing promises."""
    statuses = [delivery.event_id for delivery in retried if delivery.event_type == AGENT_STATUS_CHANGED]
    if not statuses or session.get_bind().dialect.name != "postgresql":
        return
    agents = select(EventFeedRow.agent_id).where(col(EventFeedRow.id).in_(statuses))
    session.exec(select(AgentRow.id).where(col(AgentRow.id).in_(agents))
                 .order_by(col(AgentRow.id)).with_for_update(read=True)).all()


def _superseded(session: Session, delivery: WebhookDeliveryRow) -> bool:
    """Whether a later status of the same agent waits for the same subscription. Later by
    position: an agent's statuses are written one after the other (each changes its row)."""
    mine = session.exec(
        select(EventFeedRow.agent_id, EventFeedRow.position).where(col(EventFeedRow.id) == delivery.event_id)
    ).first()
    if mine is None or mine[0] is None:
        return False
    agent_id, position = mine
    newer = session.exec(
        select(WebhookDeliveryRow.id)
        .join(EventFeedRow, col(EventFeedRow.id) == col(WebhookDeliveryRow.event_id))
        .where(col(WebhookDeliveryRow.subscription_id) == delivery.subscription_id,
               col(WebhookDeliveryRow.event_type) == AGENT_STATUS_CHANGED,
               col(WebhookDeliveryRow.state) == PENDING,
               col(EventFeedRow.agent_id) == agent_id, col(EventFeedRow.position) > position)
        .limit(1)
    ).first()
    return newer is not None


def disable(session: Session, subscription_id: str, reason: str, at: datetime) -> None:
    subscription = session.get(WebhookSubscriptionRow, subscription_id)
    if subscription is not None and subscription.enabled:
        subscription.enabled, subscription.disabled_reason, subscription.updated_at = False, reason, at
        session.add(subscription)


def retry_now(session: Session, delivery: WebhookDeliveryRow, now: datetime) -> None:
    """A supervisor's replay: the delivery is due again at once (the same webhook-id), with
    a fresh schedule; a lease in force is left to its holder."""
    delivery.state, delivery.next_attempt_at, delivery.attempts = PENDING, now, 0
    delivery.updated_at = now
    session.add(delivery)
