"""Webhook delivery end to end: a real receiver on 127.0.0.1, the real worker's courier."""

from __future__ import annotations

import uuid

import pytest
from standardwebhooks.webhooks import Webhook

from domain.models import utcnow
from store.db import session_scope
from store.tables import WebhookSubscriptionRow
from tests.conftest import Stack
from tests.helpers import create_queue, wait_for
from tests.webhook_receiver import running_receiver

pytestmark = pytest.mark.integration
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def subscribe(stack: Stack, url: str, event_types: list[str] | None = None) -> str:
    now = utcnow()
    row = WebhookSubscriptionRow(id=str(uuid.uuid4()), url=url, event_types=event_types or [], secret=SECRET,
                                 created_at=now, updated_at=now)
    with session_scope(stack.engine) as session:
        session.add(row)
    return row.id


async def test_every_event_of_a_conversation_arrives_signed(stack: Stack) -> None:
    async with running_receiver() as receiver:
        subscribe(stack, receiver.url)
        queue = await create_queue(stack.http)
        response = await stack.http.post("/ccaas/1/conversations", json={"queueId": queue["id"], "topic": "hi"})
        assert response.status_code == 201, response.text
        conversation = response.json()
        async def arrived() -> bool:
            return len(receiver.received) >= 2

        await wait_for(arrived)
        verifier = Webhook(SECRET)
        bodies = [verifier.verify(item.body, item.headers) for item in receiver.received]
        assert bodies[0]["type"] == "conversation.created"
        assert bodies[0]["data"]["conversation"]["id"] == conversation["id"]
        assert bodies[0]["data"]["event"]["seq"] == 1
