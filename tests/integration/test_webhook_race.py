"""No event lost when a courier dies mid-delivery: an API, a worker and a courier process on
one database, conversations created while a slow receiver holds requests, the courier
SIGKILLed while a request is in flight, and a new courier started. The dead courier's leases
run out and the new courier sends them again under the same webhook-id: every event arrives,
at least once, and the one in flight twice."""

from __future__ import annotations

import asyncio
import secrets
import signal
import uuid
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.client import Client

from domain.models import utcnow
from store.bootstrap import bootstrap
from store.db import session_scope
from store.events_out import DELIVERED
from store.tables import EventFeedRow, WebhookDeliveryRow, WebhookSubscriptionRow
from tests.helpers import create_queue, wait_for
from tests.processes import healthy, switchboard_processes
from tests.webhook_receiver import FAST_SCHEDULE, running_receiver

pytestmark = pytest.mark.integration
CONVERSATIONS = 20


def delivery_states(engine: Engine) -> tuple[set[str], Counter[str]]:
    with session_scope(engine) as session:
        events = set(session.exec(select(EventFeedRow.id)).all())
        states = Counter(row.state for row in session.exec(select(WebhookDeliveryRow)).all())
        return events, states


async def test_a_courier_killed_mid_delivery_loses_no_event(engine: Engine, database_url: str, temporal_client: Client):
    key = secrets.token_urlsafe(32)
    bootstrap(engine, key)
    async with running_receiver() as receiver:
        receiver.delay = timedelta(milliseconds=300)  # requests stay in flight
        now = utcnow()
        with session_scope(engine) as session:
            session.add(WebhookSubscriptionRow(id=str(uuid.uuid4()), url=receiver.url, event_types=[],
                                               secret="whsec_" + "B" * 32, created_at=now, updated_at=now))
        with switchboard_processes(
            database_url, temporal_client, key, apis=1, workers=1, couriers=1, SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE="1",
            SWITCHBOARD_WEBHOOK_RETRY_SCHEDULE=FAST_SCHEDULE, SWITCHBOARD_WEBHOOK_TIMEOUT_SECONDS="1",
        ) as running:
            async with httpx.AsyncClient(base_url=running.api_urls[0], timeout=60,
                                         headers={"Authorization": f"App {key}"}) as http:
                await wait_for(lambda: healthy(http), timeout=60)
                queue = await create_queue(http)
                creates = [
                    asyncio.create_task(http.post("/ccaas/1/conversations", json={"queueId": queue["id"]}))
                    for _ in range(CONVERSATIONS)
                ]

                async def delivering() -> bool:
                    return len(receiver.received) >= 3

                await wait_for(delivering, timeout=60, interval=0.02)
                # The receiver holds the last request it took: that one is in flight.
                running.couriers[0].send_signal(signal.SIGKILL)
                running.couriers[0].wait()
                running.start_courier()
                assert {response.status_code for response in await asyncio.gather(*creates)} == {201}

                async def all_delivered() -> bool:
                    events, states = await asyncio.to_thread(delivery_states, engine)
                    # created and routed, for each conversation
                    return len(events) == 2 * CONVERSATIONS and states == {DELIVERED: len(events)}

                await wait_for(all_delivered, timeout=90)
    events, _ = delivery_states(engine)
    assert set(receiver.ids()) == events
    # At least once: what was in flight when the courier died came again, under its id.
    assert len(receiver.ids()) > len(events)
