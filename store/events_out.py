"""The outbox of events out: publishing an event (in the writer's own transaction, with its
webhook deliveries) and reading the feed in commit order from a cursor.

One format: every publisher (the projection in the worker, the API) hands over the event's
body already rendered for each audience (contract.events), and the feed keeps those JSON
texts. Readers send them as stored, the live stream and the courier alike (`body_for`), so
nothing renders a row after it was written and a retried webhook carries the same bytes.

Commit order: a row's `position` is taken when it is inserted, before its transaction
commits, so on PostgreSQL a reader that went by position alone could pass a position whose
transaction commits later, and never see it. Readers there take only rows of transactions
that have all ended (`txid` below the snapshot's xmin, the oldest transaction still running)
in (`txid`, `position`) order: no later commit can land before such a cursor. SQLite has one
writer at a time, so its positions are commit order and `txid` is 0.

Coalescing: `agent.status_changed` tells a state, not a step, so a subscriber needs the latest
one, not every one. A new one replaces, per subscription, the deliveries of that agent's
earlier statuses still waiting (PENDING, not being sent now): they are deleted with their
attempt log, and the new delivery is not due before the earliest of them was, so a receiver in
back-off is not called sooner. One being sent meanwhile is dropped once its attempt fails, if
a newer one waits (store.webhooks.record_attempt). So an agent toggling its status while a
receiver is down makes one waiting delivery per subscription, not one per toggle, and the
receiver, back, gets the final status. Every other type is delivered event by event.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Table, and_, delete, literal, or_, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from contract import events
from contract.agents import AgentOut
from contract.base import format_time
from contract.conversations import ConversationRecord
from contract.events import Bodies
from contract.messages import MessageRecord
from domain.audience import Audience
from domain.events_out import AGENT_STATUS_CHANGED, MESSAGE_CREATED
from domain.models import as_utc, utcnow
from store.db import INSERTS, insert_ignoring_duplicates, session_scope
from store.tables import EventFeedRow, QueueRow, WebhookAttemptRow, WebhookDeliveryRow, WebhookSubscriptionRow

FEED: Table = EventFeedRow.__table__  # type: ignore[attr-defined]
DELIVERIES: Table = WebhookDeliveryRow.__table__  # type: ignore[attr-defined]
EVENT_ID_NAMESPACE = uuid.UUID("1b0c7f52-3c1e-4d55-9a51-0c5e2f3a7d10")

PENDING, DELIVERED, FAILED = "PENDING", "DELIVERED", "FAILED"
# Adds events to the feed and says which were new, per dialect.
_PUBLISH = {
    dialect: insert(FEED).on_conflict_do_nothing().returning(FEED.c.id) for dialect, insert in INSERTS.items()
}


def event_id(source: str) -> str:
    """The public id of the event told of by `source` (e.g. 'conversation <id> 3'): the same
    on every write, so a retried writer publishes it once."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, source))


@dataclass(frozen=True)
class NewEvent:
    source: str
    type: str
    at: datetime
    bodies: Bodies
    conversation_id: str | None = None
    queue_id: str | None = None
    from_queue_id: str | None = None
    agent_id: str | None = None


def publish(session: Session, events: Sequence[NewEvent]) -> None:
    """Adds the events to the feed, and a delivery for each subscription that wants one,
    within the caller's transaction. An event already published is skipped, with its
    deliveries (they were made with it)."""
    if not events:
        return
    dialect = session.get_bind().dialect.name
    rows = [
        {"id": event_id(event.source), "type": event.type, "at": event.at,
         "body": event.bodies.supervisors,
         # NULL when agents and bots read what supervisors do (most events): stored once.
         "workers_body": None if event.bodies.workers == event.bodies.supervisors else event.bodies.workers,
         "conversation_id": event.conversation_id, "queue_id": event.queue_id,
         "from_queue_id": event.from_queue_id, "agent_id": event.agent_id}
        for event in events
    ]
    # The rows as the statement's parameters, not in its VALUES: so it is compiled once.
    new_ids = set(session.connection().execute(_PUBLISH[dialect], rows).scalars())
    fresh = [event for event, row in zip(events, rows, strict=True) if row["id"] in new_ids]
    if fresh:
        _fan_out(session, fresh)


def message_created(message: MessageRecord, conversation: ConversationRecord, at: datetime) -> NewEvent:
    """message.created: the message, and its conversation as it is now."""
    return NewEvent(
        source=f"message {message.id}", type=MESSAGE_CREATED, at=at,
        bodies=events.message_created(message, conversation, at),
        conversation_id=conversation.id, queue_id=conversation.queue_id, agent_id=conversation.agent_id,
    )


def agent_status_changed(agent: AgentOut, at: datetime, reason: str | None = None) -> NewEvent:
    """agent.status_changed: the agent as the API answers it (and why, where Switchboard
    changed it)."""
    return NewEvent(
        source=f"agent {agent.id} status {format_time(at)}", type=AGENT_STATUS_CHANGED, at=at,
        bodies=events.agent_status_changed(agent, at, reason), agent_id=agent.id,
    )


def _fan_out(session: Session, events: list[NewEvent]) -> None:
    subscriptions = session.exec(
        select(WebhookSubscriptionRow).where(col(WebhookSubscriptionRow.enabled))
    ).all()
    if not subscriptions:
        return
    bot_queues = _queues_of_bots(session, {s.bot_id for s in subscriptions if s.bot_id is not None})
    now = events[0].at
    # The last status of each agent in this batch: the earlier ones are replaced at once.
    last_status = {event.agent_id: event for event in events
                   if event.type == AGENT_STATUS_CHANGED and event.agent_id is not None}
    events = [event for event in events if event.type != AGENT_STATUS_CHANGED or event.agent_id is None
              or last_status[event.agent_id] is event]
    # Replaced only where the new status goes (a status has no queue: the same subscriptions
    # want every one).
    status_subscriptions = {subscription.id for subscription in subscriptions for event in last_status.values()
                            if wants(subscription, event, bot_queues)}
    due = _replace_waiting_statuses(session, set(last_status), status_subscriptions)
    deliveries = [
        {"id": str(uuid.uuid4()), "subscription_id": subscription.id, "event_id": event_id(event.source),
         "event_type": event.type, "state": PENDING, "attempts": 0,
         "next_attempt_at": _due(now, due, subscription.id, event),
         "created_at": event.at, "updated_at": event.at}
        for event in events
        for subscription in subscriptions
        if wants(subscription, event, bot_queues)
    ]
    insert_ignoring_duplicates(session, DELIVERIES, deliveries)


def _due(now: datetime, due: dict[tuple[str, str | None], datetime], subscription_id: str,
         event: NewEvent) -> datetime:
    """Now, or for a status that replaces waiting ones, not before the earliest was due."""
    if event.type != AGENT_STATUS_CHANGED:
        return now
    return max(as_utc(now), due.get((subscription_id, event.agent_id), as_utc(now)))


def waiting_statuses(agent_ids: set[str], now: datetime) -> ColumnElement[bool]:
    """Deliveries of these agents' statuses that wait: PENDING and not being sent."""
    return and_(
        col(WebhookDeliveryRow.event_type) == AGENT_STATUS_CHANGED,
        col(WebhookDeliveryRow.state) == PENDING,
        or_(col(WebhookDeliveryRow.leased_until).is_(None), col(WebhookDeliveryRow.leased_until) <= now),
        col(WebhookDeliveryRow.event_id).in_(
            select(EventFeedRow.id).where(col(EventFeedRow.agent_id).in_(agent_ids))
            .where(col(EventFeedRow.type) == AGENT_STATUS_CHANGED)),
    )


def _replace_waiting_statuses(
    session: Session, agent_ids: set[str], subscription_ids: set[str],
) -> dict[tuple[str, str | None], datetime]:
    """Deletes the waiting deliveries of these agents' earlier statuses to these subscriptions
    (see the module docstring), with their attempts; when each (subscription, agent) was next
    due."""
    if not agent_ids or not subscription_ids:
        return {}
    now = utcnow()
    query = (
        select(WebhookDeliveryRow.id, WebhookDeliveryRow.subscription_id, WebhookDeliveryRow.next_attempt_at,
               EventFeedRow.agent_id)
        .join(EventFeedRow, col(EventFeedRow.id) == col(WebhookDeliveryRow.event_id))
        .where(waiting_statuses(agent_ids, now), col(WebhookDeliveryRow.subscription_id).in_(subscription_ids))
    )
    if session.get_bind().dialect.name == "postgresql":
        # A courier leasing one now keeps it (it is being sent), and nobody waits on anybody.
        query = query.with_for_update(of=WebhookDeliveryRow, skip_locked=True)
    found = session.exec(query).all()
    if not found:
        return {}
    due: dict[tuple[str, str | None], datetime] = {}
    for _, subscription_id, next_attempt_at, agent_id in found:
        if next_attempt_at is not None:
            key = (subscription_id, agent_id)
            due[key] = min(due.get(key, as_utc(next_attempt_at)), as_utc(next_attempt_at))
    ids = [row[0] for row in found]
    session.exec(delete(WebhookAttemptRow).where(col(WebhookAttemptRow.delivery_id).in_(ids)))
    session.exec(delete(WebhookDeliveryRow).where(col(WebhookDeliveryRow.id).in_(ids)))
    return due


def wants(subscription: WebhookSubscriptionRow, event: NewEvent, bot_queues: dict[str, set[str]]) -> bool:
    if subscription.event_types and event.type not in subscription.event_types:
        return False
    if subscription.bot_id is None:
        return True
    # A bot's own webhook: the conversations in its queues (entering or leaving them).
    queues = bot_queues.get(subscription.bot_id, set())
    return bool({event.queue_id, event.from_queue_id} & queues)


def _queues_of_bots(session: Session, bot_ids: set[str]) -> dict[str, set[str]]:
    if not bot_ids:
        return {}
    found: dict[str, set[str]] = {}
    for queue_id, bot_id in session.exec(
        select(QueueRow.id, QueueRow.bot_id).where(col(QueueRow.bot_id).in_(bot_ids))
    ).all():
        assert bot_id is not None
        found.setdefault(bot_id, set()).add(queue_id)
    return found


# The feed, in commit order from a cursor.

def body_for(row: EventFeedRow, audience: Audience) -> str:
    """The event's body as `audience` receives it, as it was stored when published."""
    if audience.sees_people or row.workers_body is None:
        return row.body
    return row.workers_body


def subscription_audience(subscription: WebhookSubscriptionRow) -> Audience:
    """Whom a webhook's deliveries are for: a bot's own webhook (`webhookUrl`) is the bot's; a
    subscription of /ccaas/1/webhooks (supervisors make them) is supervisors'."""
    return Audience.WORKERS if subscription.bot_id is not None else Audience.SUPERVISORS


@dataclass(frozen=True, order=True)
class Cursor:
    """Where a reader is: after the row (txid, position). Written as 'txid.position' (the
    live stream's event ids), and 0.0 before the first row."""

    txid: int = 0
    position: int = 0

    def __str__(self) -> str:
        return f"{self.txid}.{self.position}"

    @classmethod
    def parse(cls, text_: str) -> Cursor:
        """ValueError unless 'txid.position' with two non-negative integers."""
        txid, dot, position = text_.strip().partition(".")
        if not dot or not txid.isdigit() or not position.isdigit():
            raise ValueError(f"{text_!r} is not an event id of this feed")
        return cls(int(txid), int(position))

    @classmethod
    def of(cls, row: EventFeedRow) -> Cursor:
        assert row.txid is not None and row.position is not None
        return cls(row.txid, row.position)


def _ended_transactions(dialect: str) -> ColumnElement[bool]:
    if dialect != "postgresql":
        return literal(True)
    return col(EventFeedRow.txid) < text("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")


def read_after(
    session: Session, cursor: Cursor, limit: int, visible: ColumnElement[bool] | None = None,
    until: Cursor | None = None,
) -> list[EventFeedRow]:
    """Up to `limit` rows after `cursor` in commit order, of those `visible` (None: all), up
    to and with `until` if given."""
    after = or_(
        col(EventFeedRow.txid) > cursor.txid,
        and_(col(EventFeedRow.txid) == cursor.txid, col(EventFeedRow.position) > cursor.position),
    )
    query = select(EventFeedRow).where(after, _ended_transactions(session.get_bind().dialect.name))
    if until is not None:
        query = query.where(or_(
            col(EventFeedRow.txid) < until.txid,
            and_(col(EventFeedRow.txid) == until.txid, col(EventFeedRow.position) <= until.position),
        ))
    if visible is not None:
        query = query.where(visible)
    return list(session.exec(
        query.order_by(col(EventFeedRow.txid), col(EventFeedRow.position)).limit(limit)
    ).all())


def latest(session: Session) -> Cursor:
    """The cursor after the last row readers can see now: a new reader starts here."""
    return _end(session.connection())


def read_latest(engine: Engine) -> Cursor:
    """latest, read on a connection of its own, without the ORM: a courier's feed watch asks
    ten times a second (services.feed_watch), and a session cost four times the query."""
    with engine.connect() as connection:
        return _end(connection)


def _end(connection: Connection) -> Cursor:
    row = connection.execute(
        select(EventFeedRow.txid, EventFeedRow.position).where(_ended_transactions(connection.dialect.name))
        .order_by(col(EventFeedRow.txid).desc(), col(EventFeedRow.position).desc()).limit(1)
    ).first()
    return Cursor() if row is None else Cursor(row[0], row[1])


def read_rows(
    engine: Engine, cursor: Cursor, limit: int, visible: ColumnElement[bool] | None = None,
    until: Cursor | None = None,
) -> list[EventFeedRow]:
    """read_after, in a transaction of its own: what a reader of the feed takes each time
    (api.feed_reader's, for all of a process's streams; a stream's own, catching up)."""
    with session_scope(engine) as session:
        return read_after(session, cursor, limit, visible, until)
