"""agent.status_changed end to end (issue 20: 300 toggles with 20 subscriptions made 6,000
deliveries): an agent toggling its status while the receiver is down leaves a bounded number
of deliveries per subscription, and the receiver, back, gets the final status, signed, under
the final event's webhook-id. The real API and worker (its courier), a real receiver."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter

import pytest
from sqlmodel import select
from standardwebhooks.webhooks import Webhook

from domain.events_out import AGENT_STATUS_CHANGED
from domain.models import utcnow
from store.db import session_scope
from store.events_out import DELIVERED
from store.tables import EventFeedRow, WebhookDeliveryRow, WebhookSubscriptionRow
from tests.conftest import Stack
from tests.helpers import wait_for
from tests.processes import free_port
from tests.webhook_receiver import running_receiver

pytestmark = pytest.mark.integration
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SUBSCRIPTIONS = 4
TOGGLES = 60
# Per subscription at any moment: the one waiting, and one being sent when the next came.
BOUND = 3


def subscribe(stack: Stack, url: str) -> str:
    now = utcnow()
    row = WebhookSubscriptionRow(id=str(uuid.uuid4()), url=url, event_types=[AGENT_STATUS_CHANGED], secret=SECRET,
                                 created_at=now, updated_at=now)
    with session_scope(stack.engine) as session:
        session.add(row)
    return row.id


def deliveries(stack: Stack) -> list[WebhookDeliveryRow]:
    with session_scope(stack.engine) as session:
        return list(session.exec(select(WebhookDeliveryRow)).all())


def last_status_event(stack: Stack) -> EventFeedRow:
    with session_scope(stack.engine) as session:
        rows = session.exec(select(EventFeedRow).where(EventFeedRow.type == AGENT_STATUS_CHANGED)).all()
        return max(rows, key=lambda row: row.position or 0)


async def test_toggling_while_the_receiver_is_down_delivers_the_final_status_not_every_one(stack: Stack) -> None:
    port = free_port()
    subscriptions = {subscribe(stack, f"http://127.0.0.1:{port}/hook") for _ in range(SUBSCRIPTIONS)}
    agent = (await stack.http.post("/ccaas/1/agents", json={"displayName": "Ana", "role": "AGENT"})).json()
    statuses = [("BUSY", "AWAY", "ACTIVE")[n % 3] for n in range(TOGGLES)] + ["INVISIBLE"]
    for status in statuses:  # nobody listens on the port: every attempt fails and is retried
        changed = await stack.http.put(f"/ccaas/1/agents/{agent['id']}/status", json={"status": status})
        assert changed.status_code == 200, changed.text
        per_subscription = Counter(row.subscription_id for row in await asyncio.to_thread(deliveries, stack))
        assert set(per_subscription) == subscriptions and max(per_subscription.values()) <= BOUND, per_subscription

    # Settled: one each, the final status (earlier ones being sent were dropped after failing).
    async def one_each() -> bool:
        return sorted(Counter(row.subscription_id for row in await asyncio.to_thread(deliveries, stack)).values()) \
            == [1] * SUBSCRIPTIONS

    await wait_for(one_each, timeout=10, interval=0.05)
    final = await asyncio.to_thread(last_status_event, stack)
    assert json.loads(final.body)["data"]["agent"]["status"] == "INVISIBLE"
    assert {row.event_id for row in await asyncio.to_thread(deliveries, stack)} == {final.id}

    async with running_receiver(port=port) as receiver:
        async def delivered() -> bool:
            rows = await asyncio.to_thread(deliveries, stack)
            return len(rows) == SUBSCRIPTIONS and all(row.state == DELIVERED for row in rows)

        await wait_for(delivered, timeout=15, interval=0.05)
        bodies = [Webhook(SECRET).verify(item.body, item.headers) for item in receiver.received]
    assert len(bodies) == SUBSCRIPTIONS  # one request per subscription, not one per toggle
    assert receiver.ids() == [final.id] * SUBSCRIPTIONS
    assert {body["data"]["agent"]["status"] for body in bodies} == {"INVISIBLE"}
