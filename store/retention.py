"""Retention: the event feed, webhook deliveries and their attempts older than the retention
period (SWITCHBOARD_RETENTION_DAYS) are deleted; conversations, their timeline events and
messages are kept (they are the record, not a log).

What goes, in batches of `batch` rows, each batch its own short transaction (a big backlog
never holds the tables for long, and the courier and the writers of the feed go on between
batches):

- a delivery whose event is older than the cutoff (`created_at` is its event's time) and that
  is finished (DELIVERED or FAILED), with its whole attempt log. A PENDING one is never
  deleted, whatever its age: it is still to be sent (a supervisor's "Send again" of an old
  delivery makes it pending again, and it stays until sent or given up, then goes at the
  next pass);
- a feed event older than the cutoff that no delivery still refers to (so a pending
  delivery always finds its event: its body is rendered from it at every attempt).

A live stream resuming from a deleted event starts after it, as cursors only compare. The
indexes this reads by are migration 0012_retention_indexes'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from store.db import session_scope
from store.events_out import PENDING
from store.tables import EventFeedRow, WebhookAttemptRow, WebhookDeliveryRow

BATCH = 1000


@dataclass
class Pruned:
    feed: int = 0
    deliveries: int = 0
    attempts: int = 0

    def __iadd__(self, other: Pruned) -> Pruned:
        self.feed += other.feed
        self.deliveries += other.deliveries
        self.attempts += other.attempts
        return self

    @property
    def total(self) -> int:
        return self.feed + self.deliveries + self.attempts


def prune_deliveries(session: Session, cutoff: datetime, batch: int = BATCH) -> Pruned:
    """Up to `batch` finished deliveries of events before `cutoff`, with their attempts."""
    candidates = select(WebhookDeliveryRow.id).where(
        col(WebhookDeliveryRow.created_at) < cutoff, col(WebhookDeliveryRow.state) != PENDING,
    ).limit(batch)
    ids = list(session.exec(candidates).all())
    if not ids:
        return Pruned()
    # The state again in the delete: a delivery sent again meanwhile (PENDING) stays.
    deleted = list(session.exec(
        delete(WebhookDeliveryRow)
        .where(col(WebhookDeliveryRow.id).in_(ids), col(WebhookDeliveryRow.state) != PENDING)
        .returning(col(WebhookDeliveryRow.id))
    ).scalars())
    attempts = 0
    if deleted:
        attempts = session.exec(
            delete(WebhookAttemptRow).where(col(WebhookAttemptRow.delivery_id).in_(deleted))
        ).rowcount
    return Pruned(deliveries=len(deleted), attempts=attempts)


def prune_feed(session: Session, cutoff: datetime, batch: int = BATCH) -> Pruned:
    """Up to `batch` feed events before `cutoff` that no delivery refers to."""
    referred = exists().where(col(WebhookDeliveryRow.event_id) == col(EventFeedRow.id))
    candidates = select(EventFeedRow.position).where(col(EventFeedRow.at) < cutoff, ~referred).limit(batch)
    positions = list(session.exec(candidates).all())
    if not positions:
        return Pruned()
    deleted = session.exec(
        delete(EventFeedRow).where(col(EventFeedRow.position).in_(positions), ~referred)
    ).rowcount
    return Pruned(feed=deleted)


def prune_batch(engine: Engine, cutoff: datetime, batch: int = BATCH) -> Pruned:
    """One batch of each, deliveries first (their events may go next), each in its own
    transaction."""
    with session_scope(engine) as session:
        pruned = prune_deliveries(session, cutoff, batch)
    with session_scope(engine) as session:
        pruned += prune_feed(session, cutoff, batch)
    return pruned


def prune(engine: Engine, cutoff: datetime, batch: int = BATCH) -> Pruned:
    """Everything before `cutoff` that may go, batch after batch until none is left."""
    pruned = Pruned()
    while True:
        done = prune_batch(engine, cutoff, batch)
        pruned += done
        if done.deliveries < batch and done.feed < batch:
            return pruned
