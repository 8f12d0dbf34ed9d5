"""Webhook delivery end to end: the real worker's courier posting to a real receiver on
127.0.0.1, with the fast retry schedule of tests/webhook_receiver.py."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlmodel import col, select
from standardwebhooks.webhooks import Webhook

from contract.events import for_everyone
from domain.models import utcnow
from store.db import session_scope
from store.events_out import DELIVERED, FAILED, PENDING, NewEvent, publish
from store.tables import EventFeedRow, WebhookAttemptRow, WebhookDeliveryRow, WebhookSubscriptionRow
from store.webhooks import PER_SUBSCRIPTION
from tests.conftest import Stack
from tests.helpers import create_queue, wait_for
from tests.processes import free_port
from tests.webhook_receiver import Receiver, running_receiver

pytestmark = pytest.mark.integration
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def subscribe(stack: Stack, url: str, event_types: list[str] | None = None) -> str:
    now = utcnow()
    row = WebhookSubscriptionRow(id=str(uuid.uuid4()), url=url, event_types=event_types or [], secret=SECRET,
                                 created_at=now, updated_at=now)
    with session_scope(stack.engine) as session:
        session.add(row)
    return row.id


async def create_conversation(stack: Stack, queue_id: str) -> str:
    response = await stack.http.post("/ccaas/1/conversations", json={"queueId": queue_id, "topic": "hello"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def feed_ids(stack: Stack) -> set[str]:
    with session_scope(stack.engine) as session:
        return set(session.exec(select(EventFeedRow.id)).all())


def deliveries(stack: Stack) -> list[WebhookDeliveryRow]:
    with session_scope(stack.engine) as session:
        return list(session.exec(select(WebhookDeliveryRow)).all())


def attempts_of(stack: Stack, delivery_id: str) -> list[WebhookAttemptRow]:
    with session_scope(stack.engine) as session:
        return list(session.exec(select(WebhookAttemptRow).where(col(WebhookAttemptRow.delivery_id) == delivery_id)
                                 .order_by(col(WebhookAttemptRow.at))).all())


async def settled(stack: Stack, count: int, state: str = DELIVERED) -> list[WebhookDeliveryRow]:
    """Waits until `count` deliveries exist and all are in `state`."""
    async def done() -> list[WebhookDeliveryRow] | None:
        rows = await asyncio.to_thread(deliveries, stack)
        return rows if len(rows) == count and all(row.state == state for row in rows) else None

    return await wait_for(done)


async def test_every_event_of_a_conversation_arrives_signed_once(stack: Stack) -> None:
    async with running_receiver() as receiver:
        subscribe(stack, receiver.url)
        queue = await create_queue(stack.http)
        conversation_id = await create_conversation(stack, queue["id"])
        closed = await stack.http.patch(f"/ccaas/1/conversations/{conversation_id}", json={"status": "CLOSED"})
        assert closed.status_code == 200, closed.text
        await settled(stack, 3)

        bodies = [Webhook(SECRET).verify(item.body, item.headers) for item in receiver.received]
        assert sorted(receiver.ids()) == sorted(feed_ids(stack))
        by_seq = sorted(bodies, key=lambda body: body["data"]["event"]["seq"])
        assert [body["type"] for body in by_seq] == [
            "conversation.created", "conversation.routed", "conversation.closed"]
        assert all(body["data"]["conversation"]["id"] == conversation_id for body in bodies)
        assert by_seq[-1]["data"]["conversation"]["status"] == "CLOSED"
        assert by_seq[0]["timestamp"].endswith("Z")


async def test_each_subscription_keeps_its_connections_alive_between_deliveries(stack: Stack) -> None:
    """Four subscriptions, thirty events each, all due at once: the courier's 32 requests in
    flight go over at most PER_SUBSCRIPTION connections a subscription, kept from one delivery
    to the next (one pool for all closed idle connections past 20, so most requests opened
    one)."""
    async with running_receiver() as receiver:
        for k in range(4):
            subscribe(stack, f"{receiver.url}/{k}", ["conversation.closed"])
        now = utcnow()
        with session_scope(stack.engine) as session:
            publish(session, [NewEvent(source=f"test {uuid.uuid4()}", type="conversation.closed", at=now,
                                       bodies=for_everyone("conversation.closed", now, {}))
                              for _ in range(30)])
        await settled(stack, 120)
    connections = {(item.path, item.peer) for item in receiver.received}
    assert all(peer is not None for _, peer in connections)
    for k in range(4):
        assert 1 <= sum(path.endswith(f"/{k}") for path, _ in connections) <= PER_SUBSCRIPTION


async def test_a_wrong_secret_does_not_verify(stack: Stack) -> None:
    async with running_receiver() as receiver:
        subscribe(stack, receiver.url)
        await create_conversation(stack, (await create_queue(stack.http))["id"])
        await arrived(receiver)
        other = Webhook("whsec_" + "A" * 32)
        with pytest.raises(Exception, match="signature"):
            other.verify(receiver.received[0].body, receiver.received[0].headers)


async def test_a_receiver_down_for_a_while_gets_every_event_afterwards_with_the_same_ids(stack: Stack) -> None:
    port = free_port()
    subscribe(stack, f"http://127.0.0.1:{port}/hook")
    queue = await create_queue(stack.http)
    for _ in range(3):
        await create_conversation(stack, queue["id"])

    async def all_failed_once() -> bool:
        rows = await asyncio.to_thread(deliveries, stack)
        return len(rows) == 6 and all(row.attempts >= 1 for row in rows)

    await wait_for(all_failed_once)
    expected = feed_ids(stack)
    assert all(row.last_error and row.last_status_code is None for row in deliveries(stack))
    async with running_receiver(port=port) as receiver:
        await settled(stack, len(expected))
        assert set(receiver.ids()) == expected
    assert all(row.attempts >= 2 for row in deliveries(stack))


async def test_a_410_disables_the_subscription(stack: Stack) -> None:
    async with running_receiver() as receiver:
        receiver.answers = [410]
        subscription_id = subscribe(stack, receiver.url, ["conversation.created"])
        queue = await create_queue(stack.http)
        await create_conversation(stack, queue["id"])
        [delivery] = await settled(stack, 1, FAILED)
        assert delivery.last_status_code == 410
        with session_scope(stack.engine) as session:
            subscription = session.get(WebhookSubscriptionRow, subscription_id)
            assert subscription is not None and not subscription.enabled
            assert subscription.disabled_reason and "410" in subscription.disabled_reason
        # Nothing more is sent to it: the next conversation makes no delivery.
        await create_conversation(stack, queue["id"])
        assert len(deliveries(stack)) == 1 and len(receiver.received) == 1


async def test_429_waits_for_retry_after_and_other_4xx_are_not_retried(stack: Stack) -> None:
    async with running_receiver() as receiver:
        receiver.answers, receiver.retry_after = [429], "2"
        subscribe(stack, receiver.url, ["conversation.created"])
        queue = await create_queue(stack.http)
        await create_conversation(stack, queue["id"])
        [delivery] = await settled(stack, 1)
        first, second = receiver.received
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        # The schedule says 100 ms; the receiver said 2 s.
        assert second.at - first.at >= 1.9
        assert [attempt.status_code for attempt in attempts_of(stack, delivery.id)] == [429, 200]

    async with running_receiver() as refusing:
        refusing.answers = [400]
        with session_scope(stack.engine) as session:
            for row in session.exec(select(WebhookSubscriptionRow)).all():
                session.delete(row)
        subscribe(stack, refusing.url, ["conversation.created"])
        await create_conversation(stack, queue["id"])

        async def failed() -> WebhookDeliveryRow | None:
            rows = await asyncio.to_thread(deliveries, stack)
            return next((row for row in rows if row.state == FAILED), None)

        refused = await wait_for(failed)
        assert refused.attempts == 1 and refused.last_status_code == 400
        assert len(refusing.received) == 1


async def test_a_receiver_slower_than_the_timeout_holds_up_nothing(stack: Stack) -> None:
    """Each attempt ends at the courier's timeout (2 s here) and is retried; conversations
    are created and routed meanwhile as ever."""
    async with running_receiver() as receiver:
        receiver.delay = timedelta(seconds=3)
        subscribe(stack, receiver.url, ["conversation.created"])
        queue = await create_queue(stack.http)
        conversation_ids = [await create_conversation(stack, queue["id"]) for _ in range(3)]
        for conversation_id in conversation_ids:
            events = await stack.http.get(f"/ccaas/1/conversations/{conversation_id}/events")
            assert [event["type"] for event in events.json()["events"]] == ["CREATED", "ROUTED"]

        async def timed_out() -> bool:
            rows = await asyncio.to_thread(deliveries, stack)
            return len(rows) == 3 and all(row.last_error == "no answer within 2 s" for row in rows)

        await wait_for(timed_out)
        assert all(row.state == PENDING for row in deliveries(stack))


async def arrived(receiver: Receiver, count: int = 1) -> None:
    async def enough() -> bool:
        return len(receiver.received) >= count

    await wait_for(enough)


async def test_a_message_and_an_agents_status_go_out_with_their_subjects(stack: Stack) -> None:
    async with running_receiver() as receiver:
        subscribe(stack, receiver.url, ["message.created", "agent.status_changed"])
        conversation_id = await create_conversation(stack, (await create_queue(stack.http))["id"])
        posted = await stack.http.post(f"/ccaas/1/conversations/{conversation_id}/messages", json={
            "channel": "LIVE_CHAT", "from": "+447700900123", "to": "support", "contentType": "TEXT",
            "content": {"text": "my card is blocked"}})
        assert posted.status_code == 201, posted.text
        agent = (await stack.http.post("/ccaas/1/agents", json={"displayName": "Ana", "role": "AGENT"})).json()
        # Setting the status it has already is no change, and tells nothing.
        for status in ("ACTIVE", "AWAY"):
            changed = await stack.http.put(f"/ccaas/1/agents/{agent['id']}/status", json={"status": status})
            assert changed.status_code == 200, changed.text
        await settled(stack, 2)

        bodies = {body["type"]: body for body in
                  (Webhook(SECRET).verify(item.body, item.headers) for item in receiver.received)}
        assert set(bodies) == {"message.created", "agent.status_changed"}
        message = bodies["message.created"]["data"]
        assert message["message"] == posted.json()
        assert message["conversation"]["id"] == conversation_id
        assert bodies["agent.status_changed"]["data"]["agent"]["status"] == "AWAY"
