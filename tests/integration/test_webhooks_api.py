"""The webhooks API (/ccaas/1/webhooks and a bot's webhookUrl) against the real stack: its
worker's courier posts to a real receiver on 127.0.0.1 (the stack allows private addresses;
a second app on the same database shows what is refused where they are not allowed)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from switchboard.composition import api_app
from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, unique, wait_for
from tests.settings import stack_settings
from tests.webhook_receiver import Receiver, running_receiver

pytestmark = pytest.mark.integration
H = "/ccaas/1/webhooks"
B = "/ccaas/1/bots"
ANSWER_FIELDS = {"id", "url", "eventTypes", "enabled", "description", "disabledReason", "botId",
                 "createdAt", "updatedAt"}


async def subscribe(stack: Stack, url: str, **fields: Any) -> dict[str, Any]:
    response = await stack.http.post(H, json={"url": url, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def subscription_count(stack: Stack) -> int:
    response = await stack.http.get(H)
    assert response.status_code == 200, response.text
    return response.json()["pagination"]["totalItems"]


async def deliveries(stack: Stack, webhook_id: str, **params: Any) -> list[dict[str, Any]]:
    response = await stack.http.get(f"{H}/{webhook_id}/deliveries", params=params)
    assert response.status_code == 200, response.text
    return response.json()["deliveries"]


async def all_delivered(stack: Stack, webhook_id: str, count: int) -> list[dict[str, Any]]:
    """Waits until the webhook has `count` deliveries, every one DELIVERED."""
    async def done() -> list[dict[str, Any]] | None:
        found = await deliveries(stack, webhook_id, limit=999)
        return found if len(found) == count and all(d["state"] == "DELIVERED" for d in found) else None

    return await wait_for(done)


async def received(receiver: Receiver, count: int) -> None:
    async def enough() -> bool:
        return len(receiver.received) >= count

    await wait_for(enough)


@pytest.fixture
async def strict(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """The API on the stack's database as deployed: webhooks to private addresses refused."""
    settings = stack_settings(stack.database_url, stack.task_queue, SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE="0")
    app = api_app(settings, stack.engine, stack.temporal)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://switchboard.test",
                                 headers={"Authorization": f"App {stack.supervisor_key}"}) as http:
        yield http


async def test_a_webhook_round_trip_shows_its_secret_once(stack: Stack) -> None:
    created = await subscribe(stack, "http://127.0.0.1:9/hook", eventTypes=["conversation.closed"] * 2,
                              description="  CRM sync  ")
    assert set(created) == ANSWER_FIELDS | {"secret"}
    assert created["secret"].startswith("whsec_")
    assert 24 <= len(base64.b64decode(created["secret"].removeprefix("whsec_"))) <= 32
    Webhook(created["secret"])  # a Standard Webhooks secret
    assert (created["url"], created["eventTypes"], created["enabled"], created["description"]) == (
        "http://127.0.0.1:9/hook", ["conversation.closed"], True, "CRM sync")
    assert created["disabledReason"] is None and created["botId"] is None

    fetched = (await stack.http.get(f"{H}/{created['id']}")).json()
    assert fetched == {key: value for key, value in created.items() if key != "secret"}
    listed = (await stack.http.get(H)).json()
    assert listed["webhooks"] == [fetched] and listed["pagination"]["totalItems"] == 1
    assert created["secret"] not in (await stack.http.get(H)).text

    replaced = await stack.http.put(f"{H}/{created['id']}", json={"url": "https://example.com/events"})
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert (body["url"], body["eventTypes"], body["enabled"], body["description"]) == (
        "https://example.com/events", [], True, None)
    assert "secret" not in body and body["createdAt"] == created["createdAt"]
    disabled = await stack.http.put(f"{H}/{created['id']}", json={"url": body["url"], "enabled": False})
    assert disabled.json()["enabled"] is False

    deleted = await stack.http.delete(f"{H}/{created['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["id"] == created["id"] and "secret" not in deleted.json()
    assert_error(await stack.http.get(f"{H}/{created['id']}"), 404, "NOT_FOUND")
    assert_error(await stack.http.delete(f"{H}/{created['id']}"), 404, "NOT_FOUND")
    assert await subscription_count(stack) == 0


async def test_rotation_signs_with_the_new_secret_at_once(stack: Stack) -> None:
    async with running_receiver() as receiver:
        created = await subscribe(stack, receiver.url, eventTypes=["conversation.created"])
        queue = await create_queue(stack.http)
        await create_conversation(stack.http, queueId=queue["id"])
        await received(receiver, 1)
        first = receiver.received[0]
        assert Webhook(created["secret"]).verify(first.body, first.headers)["type"] == "conversation.created"

        rotated = await stack.http.post(f"{H}/{created['id']}/secret")
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        assert new_secret != created["secret"] and rotated.json()["id"] == created["id"]
        assert new_secret not in (await stack.http.get(f"{H}/{created['id']}")).text

        await create_conversation(stack.http, queueId=queue["id"])
        await received(receiver, 2)
        second = receiver.received[1]
        assert Webhook(new_secret).verify(second.body, second.headers)["type"] == "conversation.created"
        with pytest.raises(WebhookVerificationError):
            Webhook(created["secret"]).verify(second.body, second.headers)


BAD_SYNTAX = [
    ({"url": "file:///etc/passwd"}, "url"),
    ({"url": "ftp://x"}, "url"),
    ({"url": "http://"}, "url"),
    ({"url": "http://user:pw@example.com/"}, "url"),
    ({"url": "http://exa mple.com/"}, "url"),
    ({"url": "http://example.com:0/"}, "url"),
    ({}, "url"),
    ({"url": "https://example.com/", "eventTypes": ["conversation.created", "conversation.exploded"]},
     "eventTypes[1]"),
    ({"url": "https://example.com/", "eventTypes": "conversation.created"}, "eventTypes"),
    ({"url": "https://example.com/", "description": "x" * 1001}, "description"),
    ({"url": "https://example.com/", "enabled": "yes"}, "enabled"),
    ({"url": "https://example.com/", "secret": "whsec_mine"}, "secret"),
]


@pytest.mark.parametrize(("body", "field"), BAD_SYNTAX, ids=[field for _, field in BAD_SYNTAX])
@pytest.mark.sqlite_only
async def test_a_bad_webhook_is_refused_at_its_field_and_nothing_is_saved(stack: Stack, body, field) -> None:
    error = assert_error(await stack.http.post(H, json=body), 400, "BAD_REQUEST", field)
    if field == "eventTypes[1]":
        assert "conversation.exploded" in error["validationErrors"][field][0]
    assert await subscription_count(stack) == 0
    # A PUT is held to the same rules, and changes nothing either.
    kept = await subscribe(stack, "https://example.com/kept")
    assert_error(await stack.http.put(f"{H}/{kept['id']}", json=body), 400, "BAD_REQUEST", field)
    assert (await stack.http.get(f"{H}/{kept['id']}")).json()["url"] == "https://example.com/kept"
    # And a bot's webhookUrl.
    if field == "url" and "url" in body:
        bot = {"displayName": unique("bot"), "webhookUrl": body["url"]}
        assert_error(await stack.http.post(B, json=bot), 400, "BAD_REQUEST", "webhookUrl")


PRIVATE = ["http://127.0.0.1/", "http://10.0.0.1/", "http://192.168.1.20:8080/hook", "http://[::1]/",
           "http://[::ffff:10.0.0.1]/", "http://169.254.169.254/latest/meta-data", "http://localhost/",
           "http://api.localhost:8000/", "http://0.0.0.0/", "http://100.100.100.200/latest/meta-data",
           "http://[2002:7f00:1::1]/", "http://[fec0::1]/", "http://192.88.99.1/"]


@pytest.mark.parametrize("url", PRIVATE)
@pytest.mark.sqlite_only
async def test_private_addresses_are_refused_unless_allowed(stack: Stack, strict: httpx.AsyncClient, url) -> None:
    error = assert_error(await strict.post(H, json={"url": url}), 400, "BAD_REQUEST", "url")
    assert "public addresses only" in error["validationErrors"]["url"][0]
    bot = await strict.post(B, json={"displayName": unique("bot"), "webhookUrl": url})
    assert_error(bot, 400, "BAD_REQUEST", "webhookUrl")
    assert await subscription_count(stack) == 0
    # (No event happens here, and they are disabled: nothing is sent to these.)
    public = await strict.post(H, json={"url": "https://1.1.1.1/hook", "enabled": False})
    assert public.status_code == 201, public.text
    assert_error(await strict.put(f"{H}/{public.json()['id']}", json={"url": url}), 400, "BAD_REQUEST", "url")
    # A name that does not resolve now is taken: the courier checks again at every send.
    unresolved = await strict.post(H, json={"url": f"https://{unique('nowhere')}.invalid/hook", "enabled": False})
    assert unresolved.status_code == 201, unresolved.text
    # The stack (SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE) takes the same URL.
    assert (await stack.http.post(H, json={"url": url})).status_code == 201


async def test_the_101st_subscription_is_refused(stack: Stack) -> None:
    for number in range(99):
        await subscribe(stack, f"https://example.com/hook/{number}")
    bot = await stack.http.post(B, json={"displayName": unique("bot"), "webhookUrl": "https://example.com/bot"})
    assert bot.status_code == 201, bot.text  # a bot's webhook counts: the 100th
    assert_error(await stack.http.post(H, json={"url": "https://example.com/one-more"}), 409, "CONFLICT")
    other_bot = await stack.http.post(B, json={"displayName": unique("bot"), "webhookUrl": "https://example.com/b"})
    assert_error(other_bot, 409, "CONFLICT")
    assert (await stack.http.get(B, params={"limit": 999})).json()["pagination"]["totalItems"] == 1
    assert await subscription_count(stack) == 100
    # Room again once one goes.
    first = (await stack.http.get(H)).json()["webhooks"][0]
    assert (await stack.http.delete(f"{H}/{first['id']}")).status_code == 200
    assert (await stack.http.post(H, json={"url": "https://example.com/one-more"})).status_code == 201


async def test_agents_and_bots_may_not_touch_webhooks(stack: Stack) -> None:
    webhook = await subscribe(stack, "https://example.com/hook")
    agent = (await stack.http.post("/ccaas/1/agents", json={"displayName": "Ann"})).json()
    bot = (await stack.http.post(B, json={"displayName": unique("bot")})).json()
    for key in (agent["apiKey"], bot["apiKey"]):
        headers = {"Authorization": f"App {key}"}
        for method, path, body in [("GET", H, None), ("POST", H, {"url": "https://example.com/x"}),
                                   ("GET", f"{H}/{webhook['id']}", None),
                                   ("POST", f"{H}/{webhook['id']}/secret", None),
                                   ("GET", f"{H}/{webhook['id']}/deliveries", None),
                                   ("POST", f"{B}/{bot['id']}/webhook-secret", None)]:
            response = await stack.http.request(method, path, json=body, headers=headers)
            assert_error(response, 403, "FORBIDDEN")
    assert await subscription_count(stack) == 1


async def test_the_deliveries_log_shows_each_attempt_and_a_retry_sends_again(stack: Stack) -> None:
    async with running_receiver() as receiver:
        receiver.answers = [500]
        webhook = await subscribe(stack, receiver.url, eventTypes=["conversation.created"])
        conversation = await create_conversation(stack.http, queueId=(await create_queue(stack.http))["id"])
        [delivery] = await all_delivered(stack, webhook["id"], 1)
        assert delivery["eventType"] == "conversation.created" and delivery["attempts"] == 2
        assert delivery["lastStatusCode"] == 200 and delivery["nextAttemptAt"] is None
        log = delivery["attemptLog"]
        assert [attempt["statusCode"] for attempt in log] == [500, 200]
        assert log[0]["at"] <= log[1]["at"]
        assert all(attempt["durationMs"] >= 0 and attempt["responsePrefix"].startswith("okok") for attempt in log)
        assert all(attempt["error"] is None for attempt in log)
        assert receiver.ids() == [delivery["eventId"]] * 2

        assert await deliveries(stack, webhook["id"], state="DELIVERED", eventType="conversation.created")
        assert await deliveries(stack, webhook["id"], state="FAILED") == []
        assert await deliveries(stack, webhook["id"], eventType="conversation.closed") == []
        assert_error(await stack.http.get(f"{H}/{webhook['id']}/deliveries", params={"state": "LOST"}),
                     400, "BAD_REQUEST", "state")
        assert_error(await stack.http.get(f"{H}/{webhook['id']}/deliveries", params={"eventType": "x.y"}),
                     400, "BAD_REQUEST", "eventType")

        retried = await stack.http.post(f"{H}/{webhook['id']}/deliveries/{delivery['id']}/retry")
        assert retried.status_code == 202, retried.text
        assert retried.json()["state"] == "PENDING" and retried.json()["id"] == delivery["id"]
        await received(receiver, 3)
        again = receiver.received[2]
        assert again.headers["webhook-id"] == delivery["eventId"]
        body = Webhook(webhook["secret"]).verify(again.body, again.headers)
        assert body["data"]["conversation"]["id"] == conversation["id"]
        [after] = await all_delivered(stack, webhook["id"], 1)
        assert after["attempts"] == 3 and [a["statusCode"] for a in after["attemptLog"]] == [500, 200, 200]

        assert_error(await stack.http.post(f"{H}/{webhook['id']}/deliveries/{unique('d')}/retry"), 404, "NOT_FOUND")
        other = await subscribe(stack, "https://example.com/other")
        assert_error(await stack.http.post(f"{H}/{other['id']}/deliveries/{delivery['id']}/retry"),
                     404, "NOT_FOUND")
        await stack.http.put(f"{H}/{webhook['id']}", json={"url": receiver.url, "enabled": False})
        assert_error(await stack.http.post(f"{H}/{webhook['id']}/deliveries/{delivery['id']}/retry"),
                     409, "CONFLICT")


async def test_a_bots_webhook_gets_the_events_of_its_queues_only(stack: Stack) -> None:
    async with running_receiver() as receiver:
        created = await stack.http.post(B, json={"displayName": unique("bot"), "webhookUrl": receiver.url})
        assert created.status_code == 201, created.text
        bot = created.json()
        secret = bot["webhookSecret"]
        assert secret.startswith("whsec_") and bot["webhookUrl"] == receiver.url and bot["webhookId"]
        fetched = (await stack.http.get(f"{B}/{bot['id']}")).json()
        assert fetched["webhookId"] == bot["webhookId"] and "webhookSecret" not in fetched
        assert secret not in (await stack.http.get(B)).text
        listed = (await stack.http.get(H)).json()["webhooks"]
        assert [(hook["id"], hook["botId"]) for hook in listed] == [(bot["webhookId"], bot["id"])]

        served = await create_queue(stack.http, botId=bot["id"])
        elsewhere = await create_queue(stack.http)
        await create_conversation(stack.http, queueId=elsewhere["id"])
        mine = await create_conversation(stack.http, queueId=served["id"])

        async def settled() -> list[dict[str, Any]] | None:
            found = await deliveries(stack, bot["webhookId"], limit=999)
            types = {delivery["eventType"] for delivery in found}
            done = all(delivery["state"] == "DELIVERED" for delivery in found)
            wanted = {"conversation.created", "conversation.bot_started"} <= types
            return found if done and wanted and len(receiver.received) == len(found) else None

        await wait_for(settled)
        bodies = [Webhook(secret).verify(item.body, item.headers) for item in receiver.received]
        # The conversation of the other queue was created first: its events, had they been
        # wanted, would have had their deliveries written with them, before its 201.
        assert {body["data"]["conversation"]["id"] for body in bodies} == {mine["id"]}

        # The same URL again (the edit form sends it back) is no new webhook; left out, it stays.
        same = await stack.http.put(f"{B}/{bot['id']}", json={"displayName": "Renamed", "webhookUrl": receiver.url})
        assert same.status_code == 200, same.text
        assert same.json()["webhookSecret"] is None and same.json()["webhookId"] == bot["webhookId"]
        kept = await stack.http.put(f"{B}/{bot['id']}", json={"displayName": "Renamed"})
        assert kept.json()["webhookUrl"] == receiver.url

        rotated = await stack.http.post(f"{B}/{bot['id']}/webhook-secret")
        assert rotated.status_code == 200, rotated.text
        assert set(rotated.json()) == {"webhookSecret"} and rotated.json()["webhookSecret"] != secret

        cleared = await stack.http.put(f"{B}/{bot['id']}", json={"displayName": "Renamed", "webhookUrl": None})
        assert (cleared.json()["webhookUrl"], cleared.json()["webhookId"]) == (None, None)
        assert_error(await stack.http.get(f"{H}/{bot['webhookId']}"), 404, "NOT_FOUND")
        assert_error(await stack.http.post(f"{B}/{bot['id']}/webhook-secret"), 409, "CONFLICT")

        again = await stack.http.put(f"{B}/{bot['id']}", json={"displayName": "Renamed", "webhookUrl": receiver.url})
        assert again.json()["webhookSecret"] and again.json()["webhookId"] not in (None, bot["webhookId"])


async def test_deleting_a_bot_deletes_its_webhook(stack: Stack) -> None:
    bot = (await stack.http.post(B, json={"displayName": unique("bot"), "webhookUrl": "https://example.com/b"})).json()
    deleted = await stack.http.delete(f"{B}/{bot['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["webhookUrl"] is None
    assert_error(await stack.http.get(f"{H}/{bot['webhookId']}"), 404, "NOT_FOUND")
    assert await subscription_count(stack) == 0


async def test_event_types_choose_what_a_webhook_gets(stack: Stack) -> None:
    async with running_receiver("/all") as everything, running_receiver("/closed") as closings:
        every = await subscribe(stack, everything.url)
        closed_only = await subscribe(stack, closings.url, eventTypes=["conversation.closed"])
        conversation = await create_conversation(stack.http, queueId=(await create_queue(stack.http))["id"])
        response = await stack.http.patch(f"/ccaas/1/conversations/{conversation['id']}", json={"status": "CLOSED"})
        assert response.status_code == 200, response.text
        types = [d["eventType"] for d in await all_delivered(stack, every["id"], 3)]
        assert sorted(types) == ["conversation.closed", "conversation.created", "conversation.routed"]
        [delivery] = await all_delivered(stack, closed_only["id"], 1)
        assert delivery["eventType"] == "conversation.closed"
        assert [Webhook(closed_only["secret"]).verify(item.body, item.headers)["type"]
                for item in closings.received] == ["conversation.closed"]
