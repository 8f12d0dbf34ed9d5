"""Messages: Infobip's shapes, filters and paging; what a message does to its conversation
(first message as routing facts, a customer reopening a SOLVED one); authors; refusals."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy.engine import Engine
from temporalio.client import Client

from domain.conversation import CLOSED_TEXT
from store.bootstrap import bootstrap
from switchboard.composition import api_app, worker_process
from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, put_routing, rule, unique
from tests.settings import stack_settings

C = "/ccaas/1/conversations"


def message(text: str = "Hello", **fields: Any) -> dict[str, Any]:
    return {"channel": "LIVE_CHAT", "from": "+447700900123", "to": "support", "contentType": "TEXT",
            "content": {"text": text}, **fields}


async def post(http: httpx.AsyncClient, cid: str, body: dict[str, Any], status: int = 201) -> dict:
    response = await http.post(f"{C}/{cid}/messages", json=body)
    assert response.status_code == status, response.text
    return response.json()


def client_with(stack: Stack, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=stack.http._transport, base_url=stack.http.base_url,
                             headers={"Authorization": f"App {key}"})


async def events_of(http: httpx.AsyncClient, cid: str) -> list[dict]:
    return (await http.get(f"{C}/{cid}/events")).json()["events"]


async def test_create_and_list_with_infobip_shapes(stack: Stack):
    queue = await create_queue(stack.http)
    cid = (await create_conversation(stack.http, queueId=queue["id"]))["id"]
    created = await post(stack.http, cid, message("Where is my parcel?", direction="INBOUND"))
    assert set(created) >= {"id", "conversationId", "channel", "from", "to", "direction", "authorType",
                            "authorId", "contentType", "content", "createdAt", "updatedAt"}
    assert created["conversationId"] == cid and created["channel"] == "LIVE_CHAT"
    assert created["from"] == "+447700900123" and created["to"] == "support"
    assert created["direction"] == "INBOUND" and created["authorType"] == "CUSTOMER"
    assert created["contentType"] == "TEXT" and created["content"] == {"text": "Where is my parcel?"}
    assert created["createdAt"].endswith("Z") and created["createdAt"] == created["updatedAt"]
    uuid.UUID(created["id"])

    reply = await post(stack.http, cid, message("On its way", **{"from": "support", "to": "+447700900123"}))
    # A supervisor's key writing OUTBOUND: an agent's reply.
    assert reply["direction"] == "OUTBOUND" and reply["authorType"] == "AGENT" and reply["authorId"]

    listed = (await stack.http.get(f"{C}/{cid}/messages")).json()
    assert [m["id"] for m in listed["messages"]] == [created["id"], reply["id"]]
    assert listed["messages"][0] == created
    assert listed["pagination"] == {"totalItems": 2, "page": 0, "limit": 10, "orderBy": "createdAt:asc"}


async def test_each_filter_and_paging(stack: Stack):
    cid = (await create_conversation(stack.http))["id"]
    made = []
    for n in range(5):
        made.append(await post(stack.http, cid, message(
            f"m{n}", channel="WHATSAPP" if n % 2 else "LIVE_CHAT", direction="INBOUND" if n < 3 else "OUTBOUND")))
    other = (await create_conversation(stack.http))["id"]
    await post(stack.http, other, message("elsewhere"))
    ids = [m["id"] for m in made]

    async def listed(**params: Any) -> list[str]:
        response = await stack.http.get(f"{C}/{cid}/messages", params=params)
        assert response.status_code == 200, response.text
        return [m["id"] for m in response.json()["messages"]]

    assert await listed() == ids
    assert await listed(messageIds=f"{ids[0]},{ids[3]}") == [ids[0], ids[3]]
    assert await listed(messageIds=[ids[1], ids[4]]) == [ids[1], ids[4]]
    assert await listed(channel="WHATSAPP") == [ids[1], ids[3]]
    assert await listed(direction="OUTBOUND") == [ids[3], ids[4]]
    assert await listed(direction="INBOUND", channel="LIVE_CHAT") == [ids[0], ids[2]]
    assert await listed(createdAfter=made[2]["createdAt"]) == ids[2:]
    assert await listed(createdBefore=made[2]["createdAt"]) == ids[:2]
    infobip_time = made[2]["createdAt"].replace("Z", "+0000")
    assert await listed(createdAfter=infobip_time) == ids[2:]
    assert await listed(limit=2, page=1) == ids[2:4]
    assert await listed(orderBy="createdAt:desc", limit=3) == ids[::-1][:3]
    page = (await stack.http.get(f"{C}/{cid}/messages", params={"limit": 2, "page": 2})).json()
    assert page["pagination"] == {"totalItems": 5, "page": 2, "limit": 2, "orderBy": "createdAt:asc"}
    assert len(page["messages"]) == 1

    for params, field in (({"channel": "PIGEON"}, "channel"), ({"direction": "SIDEWAYS"}, "direction"),
                          ({"orderBy": "text:asc"}, "orderBy"), ({"limit": 0}, "limit"),
                          ({"status": "OPEN"}, "status"), ({"createdAfter": "yesterday"}, "createdAfter")):
        assert_error(await stack.http.get(f"{C}/{cid}/messages", params=params), 400, "BAD_REQUEST", field)
    assert_error(await stack.http.get(f"{C}/{uuid.uuid4()}/messages"), 404, "NOT_FOUND")


async def test_the_first_message_is_the_routing_facts(stack: Stack):
    refunds = await create_queue(stack.http)
    await put_routing(stack.http, [rule("refunds", refunds["id"], {"$contains": {"message.content": "refund"}})])
    cid = (await create_conversation(stack.http))["id"]
    assert (await stack.http.get(f"{C}/{cid}")).json()["queueId"] != refunds["id"]

    await post(stack.http, cid, message("I want a refund please", channel="TELEGRAM", direction="INBOUND"))
    await post(stack.http, cid, message("and nothing else", direction="INBOUND"))
    updated = [e for e in await events_of(stack.http, cid) if e["type"] == "UPDATED"]
    assert len(updated) == 1 and updated[0]["reason"] == "first message: routing facts"

    routed = await stack.http.post(f"{C}/{cid}/route")
    assert routed.status_code == 200, routed.text
    assert routed.json()["queueId"] == refunds["id"]
    assert routed.json()["channel"] == "TELEGRAM"  # the first message's channel, too


async def test_a_customer_message_reopens_a_solved_conversation_and_a_reply_does_not(stack: Stack):
    queue = await create_queue(stack.http)
    cid = (await create_conversation(stack.http, queueId=queue["id"]))["id"]
    solved = await stack.http.patch(f"{C}/{cid}", json={"status": "SOLVED"})
    assert solved.status_code == 200, solved.text

    await post(stack.http, cid, message("Thanks, but one more thing", direction="INBOUND"))
    assert (await stack.http.get(f"{C}/{cid}")).json()["status"] == "OPEN"
    solving, reopened = [e for e in await events_of(stack.http, cid) if e["type"] == "STATUS_CHANGED"][-2:]
    assert (solving["status"], reopened["status"]) == ("SOLVED", "OPEN")
    assert reopened["reason"] == "the customer wrote again"

    assert (await stack.http.patch(f"{C}/{cid}", json={"status": "SOLVED"})).status_code == 200
    before = await events_of(stack.http, cid)
    await post(stack.http, cid, message("You're welcome"))  # OUTBOUND: a reply
    assert (await stack.http.get(f"{C}/{cid}")).json()["status"] == "SOLVED"
    assert len(await events_of(stack.http, cid)) == len(before)


async def test_a_closed_conversation_refuses_new_messages(stack: Stack):
    cid = (await create_conversation(stack.http))["id"]
    await post(stack.http, cid, message("before"))
    assert (await stack.http.patch(f"{C}/{cid}", json={"status": "CLOSED"})).status_code == 200
    error = assert_error(await stack.http.post(f"{C}/{cid}/messages", json=message("after")), 409, "CONFLICT")
    assert error["text"] == CLOSED_TEXT
    listed = (await stack.http.get(f"{C}/{cid}/messages")).json()
    assert [m["content"]["text"] for m in listed["messages"]] == ["before"]


async def test_bad_input_is_a_400_naming_the_field(stack: Stack):
    cid = (await create_conversation(stack.http))["id"]
    good = message()
    cases = [
        ({k: v for k, v in good.items() if k != "channel"}, "channel"),
        ({k: v for k, v in good.items() if k != "from"}, "from"),
        ({k: v for k, v in good.items() if k != "to"}, "to"),
        ({k: v for k, v in good.items() if k != "content"}, "content"),
        ({**good, "channel": "PIGEON"}, "channel"),
        ({**good, "contentType": "hologram"}, "contentType"),
        ({**good, "content": "just text"}, "content"),
        ({**good, "content": {}}, "content.text"),
        ({**good, "content": {"text": "   "}}, "content.text"),
        ({**good, "content": {"text": 42}}, "content.text"),
        ({**good, "contentType": "IMAGE", "content": {"caption": "x"}}, "content.url"),
        ({**good, "direction": "UP"}, "direction"),
        ({**good, "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        assert_error(await stack.http.post(f"{C}/{cid}/messages", json=body), 400, "BAD_REQUEST", field)
    image = await post(stack.http, cid, {**good, "contentType": "IMAGE",
                                         "content": {"url": "https://example.com/a.png", "caption": "a"}})
    assert image["content"] == {"url": "https://example.com/a.png", "caption": "a"}
    assert_error(await stack.http.post(f"{C}/{uuid.uuid4()}/messages", json=good), 404, "NOT_FOUND")
    assert len((await stack.http.get(f"{C}/{cid}/messages")).json()["messages"]) == 1


async def test_any_of_infobips_content_types_is_stored_as_sent(stack: Stack):
    """Infobip has 104 content types; one whose content we do not check is kept as it came."""
    cid = (await create_conversation(stack.http))["id"]
    content = {"text": "Pick one", "buttons": [{"type": "REPLY", "title": "Yes"}]}
    button = await post(stack.http, cid, message(contentType="BUTTON", content=content))
    assert (button["contentType"], button["content"]) == ("BUTTON", content)
    listed = (await stack.http.get(f"{C}/{cid}/messages")).json()["messages"]
    assert [(m["contentType"], m["content"]) for m in listed] == [("BUTTON", content)]
    for name in ("button", "TEXT MESSAGE", "X" * 65):
        assert_error(await stack.http.post(f"{C}/{cid}/messages", json=message(contentType=name)),
                     400, "BAD_REQUEST", "contentType")


async def test_a_retry_with_the_same_external_id_stores_one_message(stack: Stack):
    cid = (await create_conversation(stack.http))["id"]
    first = await post(stack.http, cid, message("once", externalId="wa-123", direction="INBOUND"))
    again = await post(stack.http, cid, message("once", externalId="wa-123", direction="INBOUND"), status=200)
    assert again == first and first["externalId"] == "wa-123"
    other = (await create_conversation(stack.http))["id"]
    elsewhere = await post(stack.http, other, message("once", externalId="wa-123"))
    assert elsewhere["id"] != first["id"]  # an externalId is the conversation's own
    assert (await stack.http.get(f"{C}/{cid}/messages")).json()["pagination"]["totalItems"] == 1


async def test_authors_and_rights_by_role(stack: Stack):
    bot = (await stack.http.post("/ccaas/1/bots", json={"displayName": unique("bot")})).json()
    queue = await create_queue(stack.http, botId=bot["id"])
    agents = {}
    for name in ("member", "stranger"):
        body = {"displayName": name, "email": f"{unique(name)}@example.com"}
        agents[name] = (await stack.http.post("/ccaas/1/agents", json=body)).json()
    joined = await stack.http.post(f"/ccaas/1/agents/{agents['member']['id']}/queues", json={"queueId": queue["id"]})
    assert joined.status_code == 200, joined.text
    person = (await stack.http.post("/people/2/persons", json={
        "firstName": "Ana", "contactInformation": {"phone": [{"number": "+385911234567"}]}})).json()
    # Routed (not placed by hand), so routing links the person by the `from` number.
    await put_routing(stack.http, [rule("chat", queue["id"], {"$eq": {"message.channel": "LIVE_CHAT"}})])
    created = await create_conversation(stack.http, channel="LIVE_CHAT", **{"from": "+385911234567"})
    cid = created["id"]
    assert created["queueId"] == queue["id"] and created["customerId"] == person["id"]

    async with client_with(stack, bot["apiKey"]) as as_bot, \
            client_with(stack, agents["member"]["apiKey"]) as as_member, \
            client_with(stack, agents["stranger"]["apiKey"]) as as_stranger:
        relayed = await post(as_bot, cid, message("hi", direction="INBOUND"))
        assert relayed["authorType"] == "CUSTOMER"
        assert relayed["authorId"] == person["id"]  # the conversation's person
        said = await post(as_bot, cid, message("Let me check"))
        assert said["authorType"] == "BOT" and said["authorId"] == bot["id"]
        replied = await post(as_member, cid, message("Hello Ana"))
        assert replied["authorType"] == "AGENT" and replied["authorId"] == agents["member"]["id"]
        assert_error(await as_member.post(f"{C}/{cid}/messages", json=message(direction="INBOUND")),
                     400, "BAD_REQUEST", "direction")
        assert len((await as_member.get(f"{C}/{cid}/messages")).json()["messages"]) == 3
        assert_error(await as_stranger.get(f"{C}/{cid}/messages"), 403, "FORBIDDEN")
        assert_error(await as_stranger.post(f"{C}/{cid}/messages", json=message()), 403, "FORBIDDEN")


@pytest_asyncio.fixture
async def no_worker(
    engine: Engine, database_url: str, temporal_client: Client,
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    key, settings = bootstrap(engine), stack_settings(database_url, f"test-{uuid.uuid4()}")
    app = api_app(settings, engine, temporal_client, update_deadline=2.0)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://switchboard.test",
                                 headers={"Authorization": f"App {key}"}) as http:
        yield http, lambda: worker_process(settings, engine, temporal_client)


async def test_a_message_the_workflow_does_not_take_in_time_is_kept_and_a_retry_finds_it(no_worker):
    http, worker = no_worker
    async with worker():
        cid = (await create_conversation(http))["id"]
        assert (await http.patch(f"{C}/{cid}", json={"status": "SOLVED"})).status_code == 200
    body = message("still there?", externalId="retry-1", direction="INBOUND")
    error = assert_error(await http.post(f"{C}/{cid}/messages", json=body), 503, "GENERAL_ERROR")
    assert "stored" in error["text"]
    kept = (await http.get(f"{C}/{cid}/messages")).json()["messages"]
    assert len(kept) == 1
    async with worker():
        retried = await post(http, cid, body, status=200)
        assert retried["id"] == kept[0]["id"]
        assert (await http.get(f"{C}/{cid}")).json()["status"] == "OPEN"
        reopened = [e for e in await events_of(http, cid) if e["type"] == "STATUS_CHANGED"]
        assert [e["reason"] for e in reopened][-1] == "the customer wrote again"
        assert len([e for e in reopened if e["reason"] == "the customer wrote again"]) == 1
    assert (await http.get(f"{C}/{cid}/messages")).json()["pagination"]["totalItems"] == 1
