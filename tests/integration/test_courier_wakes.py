"""When the courier passes: a slot freed while deliveries wait is refilled at once, not at the
next interval; and the feed watch brings a pass when an event is written. The interval is
set to a minute here, so anything that waited for it would miss the deadline."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from contract.events import for_everyone
from domain.models import utcnow
from services.courier import Courier
from services.feed_watch import FeedWatch
from services.loops import running
from store.db import migrate, session_scope
from store.events_out import DELIVERED, NewEvent, publish
from store.tables import WebhookDeliveryRow, WebhookSubscriptionRow
from store.webhooks import PER_SUBSCRIPTION
from tests.helpers import wait_for
from tests.webhook_receiver import FAST_WEBHOOKS, running_receiver

pytestmark = pytest.mark.integration


def subscribe(engine: Engine, url: str) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        session.add(WebhookSubscriptionRow(id=str(uuid.uuid4()), url=url, event_types=[], secret="whsec_" + "D" * 32,
                                           created_at=now, updated_at=now))


def publish_events(engine: Engine, count: int) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        publish(session, [NewEvent(source=f"test {uuid.uuid4()}", type="conversation.closed", at=now,
                                   bodies=for_everyone("conversation.closed", now, {}))
                          for _ in range(count)])


def delivered(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(WebhookDeliveryRow)
                            .where(WebhookDeliveryRow.state == DELIVERED)).one()


async def test_a_backlog_is_sent_slot_after_slot_without_waiting_for_the_interval(engine: Engine, monkeypatch) -> None:
    migrate(engine)
    monkeypatch.setattr(Courier, "interval", 60.0)
    backlog = 6 * PER_SUBSCRIPTION  # one subscription: at most PER_SUBSCRIPTION at a time
    async with running_receiver() as receiver:
        subscribe(engine, receiver.url)
        publish_events(engine, backlog)
        courier = Courier(engine, FAST_WEBHOOKS)
        # The watch's first pass wakes the courier once, for the backlog written before it.
        async with running(courier, FeedWatch(engine, on_moved=courier.wake)):
            await wait_for(lambda: _sent(receiver, backlog), timeout=20, interval=0.02)
    assert len(set(receiver.ids())) == backlog


async def test_the_feed_watch_brings_a_pass_for_an_event_written_later(engine: Engine, monkeypatch) -> None:
    migrate(engine)
    monkeypatch.setattr(Courier, "interval", 60.0)
    async with running_receiver() as receiver:
        subscribe(engine, receiver.url)
        courier = Courier(engine, FAST_WEBHOOKS)
        async with running(courier, FeedWatch(engine, on_moved=courier.wake)):
            await wait_for(lambda: _passed(courier), timeout=10, interval=0.02)  # its first pass: nothing due
            publish_events(engine, 1)
            await wait_for(lambda: _sent(receiver, 1), timeout=10, interval=0.02)


async def _sent(receiver, count: int) -> bool:
    return len(receiver.received) >= count


async def _passed(courier: Courier) -> bool:
    return courier.last_completed_pass >= 1
