"""/ccaas/1/tags: tags as a resource, on SQLite and (SWITCHBOARD_TEST_DATABASE_URL) PostgreSQL.

Tags are shared by the whole database, and every test gets a fresh one, so lists are exact."""

from __future__ import annotations

import asyncio
import re

import httpx

from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, unique, wait_for

T, C = "/ccaas/1/tags", "/ccaas/1/conversations"
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def names(http: httpx.AsyncClient, **params) -> list[str]:
    response = await http.get(T, params={"limit": 999, **params})
    assert response.status_code == 200, response.text
    return [tag["name"] for tag in response.json()["tags"]]


async def test_create_read_and_delete_a_tag(stack: Stack):
    created = await stack.http.post(T, json={"name": "vip"})  # Infobip's CreateTagApiRequest
    assert created.status_code == 201, created.text
    tag = created.json()
    assert set(tag) == {"id", "name", "createdAt", "updatedAt"}
    assert tag["name"] == "vip" and TIME.match(tag["createdAt"]) and TIME.match(tag["updatedAt"])

    listed = (await stack.http.get(T)).json()
    assert listed == {
        "tags": [tag],
        "pagination": {"totalItems": 1, "page": 0, "limit": 10, "orderBy": "name:asc"},
    }

    deleted = await stack.http.delete(f"{T}/vip")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {**tag, "statusCode": "SUCCESS", "message": "Tag deleted"}
    assert await names(stack.http) == []
    assert_error(await stack.http.delete(f"{T}/vip"), 404, "NOT_FOUND")


async def test_creating_an_existing_tag_answers_it_again(stack: Stack):
    first = await stack.http.post(T, json={"name": "  billing "})
    assert first.status_code == 201 and first.json()["name"] == "billing"
    again = await stack.http.post(T, json={"name": "billing"})
    assert again.status_code == 200 and again.json() == first.json()
    # Names are case-sensitive, as conversations compare their tags.
    other = await stack.http.post(T, json={"name": "Billing"})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    # Racing creations of one name make one tag.
    racing = await asyncio.gather(*(stack.http.post(T, json={"name": "race"}) for _ in range(5)))
    assert sorted(response.status_code for response in racing) == [200] * 4 + [201]
    assert len({response.json()["id"] for response in racing}) == 1
    assert await names(stack.http) == ["Billing", "billing", "race"]


async def test_bad_input_is_a_400_naming_the_field(stack: Stack):
    assert_error(await stack.http.post(T, json={}), 400, "BAD_REQUEST", "name")
    assert_error(await stack.http.post(T, json={"name": "   "}), 400, "BAD_REQUEST", "name")
    assert_error(await stack.http.post(T, json={"name": "x" * 256}), 400, "BAD_REQUEST", "name")
    assert_error(await stack.http.post(T, json={"name": 7}), 400, "BAD_REQUEST", "name")
    assert_error(await stack.http.post(T, json={"name": "a", "colour": "red"}), 400, "BAD_REQUEST", "colour")
    assert_error(await stack.http.get(T, params={"limit": 0}), 400, "BAD_REQUEST", "limit")
    assert_error(await stack.http.get(T, params={"limit": 1000}), 400, "BAD_REQUEST", "limit")
    assert_error(await stack.http.get(T, params={"limit": "ten"}), 400, "BAD_REQUEST", "limit")
    assert_error(await stack.http.get(T, params={"page": -1}), 400, "BAD_REQUEST", "page")
    assert_error(await stack.http.get(T, params={"orderBy": "colour:asc"}), 400, "BAD_REQUEST", "orderBy")
    assert_error(await stack.http.get(T, params={"orderBy": "name:up"}), 400, "BAD_REQUEST", "orderBy")
    assert_error(await stack.http.get(T, params={"name": "x" * 256}), 400, "BAD_REQUEST", "name")
    assert_error(await stack.http.get(T, params={"tagName": "x"}), 400, "BAD_REQUEST", "tagName")


async def test_paging_order_and_name_filter(stack: Stack):
    for name in ("delta", "Alpha", "charlie", "bravo", "alphabet"):
        assert (await stack.http.post(T, json={"name": name})).status_code == 201
    assert await names(stack.http) == ["Alpha", "alphabet", "bravo", "charlie", "delta"]
    assert await names(stack.http, orderBy="name:desc") == ["delta", "charlie", "bravo", "alphabet", "Alpha"]
    assert await names(stack.http, orderBy="createdAt:desc") == ["alphabet", "bravo", "charlie", "Alpha", "delta"]
    assert await names(stack.http, orderBy="createdAt") == ["delta", "Alpha", "charlie", "bravo", "alphabet"]
    by_id = (await stack.http.get(T, params={"orderBy": "id:asc"})).json()["tags"]
    assert [tag["id"] for tag in by_id] == sorted(tag["id"] for tag in by_id)

    page = (await stack.http.get(T, params={"page": 1, "limit": 2})).json()
    assert [tag["name"] for tag in page["tags"]] == ["bravo", "charlie"]
    assert page["pagination"] == {"totalItems": 5, "page": 1, "limit": 2, "orderBy": "name:asc"}
    assert (await stack.http.get(T, params={"page": 3, "limit": 2})).json()["tags"] == []

    # `name` is "contains", ignoring case; LIKE's wildcards are plain characters.
    assert await names(stack.http, name="ALPHA") == ["Alpha", "alphabet"]
    assert await names(stack.http, name="har") == ["charlie"]
    assert await names(stack.http, name="%") == []
    filtered = (await stack.http.get(T, params={"name": "a", "limit": 2})).json()["pagination"]
    assert filtered["totalItems"] == 5


async def test_tagging_a_conversation_creates_its_tags(stack: Stack):
    await stack.http.post(T, json={"name": "known"})
    conversation = await create_conversation(stack.http, tags=["known", "new-at-creation"])
    cid = conversation["id"]
    assert await names(stack.http) == ["known", "new-at-creation"]

    tagged = await stack.http.post(f"{C}/{cid}/tags", json={"tagName": "added-later"})  # Infobip's shape
    assert tagged.status_code == 200, tagged.text

    async def created() -> bool:
        return "added-later" in await names(stack.http)

    await wait_for(created)
    assert await names(stack.http, conversationId=cid) == ["added-later", "known", "new-at-creation"]
    other = await create_conversation(stack.http, tags=["known"])
    assert await names(stack.http, conversationId=other["id"]) == ["known"]
    assert await names(stack.http, conversationId="00000000-0000-4000-8000-000000000000") == []

    # Untagging keeps the tag: it is a name the service knows.
    assert (await stack.http.delete(f"{C}/{cid}/tags/added-later")).status_code == 200
    assert "added-later" in await names(stack.http)

    # Many conversations racing with the same new names make each tag once.
    await asyncio.gather(*(create_conversation(stack.http, tags=["busy", f"own-{n}"]) for n in range(6)))
    listed = await names(stack.http)
    assert listed.count("busy") == 1 and {f"own-{n}" for n in range(6)} <= set(listed)


async def test_a_tag_on_an_open_conversation_cannot_be_deleted(stack: Stack):
    cid = (await create_conversation(stack.http, tags=["urgent-care"]))["id"]
    refused = assert_error(await stack.http.delete(f"{T}/urgent-care"), 409, "CONFLICT")
    assert "1 open conversation" in refused["text"]
    assert await names(stack.http) == ["urgent-care"]

    # Closed conversations keep their history and their tags; the tag can go.
    closed = await stack.http.patch(f"{C}/{cid}", json={"status": "CLOSED"})
    assert closed.status_code == 200, closed.text
    assert (await stack.http.delete(f"{T}/urgent-care")).status_code == 200
    assert await names(stack.http) == []
    after = (await stack.http.get(f"{C}/{cid}")).json()
    assert after["tags"] == ["urgent-care"]
    listed = (await stack.http.get(C, params={"tagNames": "urgent-care"})).json()["conversations"]
    assert [conversation["id"] for conversation in listed] == [cid]

    # Using the name again creates it again.
    await create_conversation(stack.http, tags=["urgent-care"])
    assert await names(stack.http) == ["urgent-care"]


async def test_untagging_the_open_conversations_lets_the_tag_go(stack: Stack):
    cid = (await create_conversation(stack.http, tags=["temp"]))["id"]
    assert_error(await stack.http.delete(f"{T}/temp"), 409, "CONFLICT")
    assert (await stack.http.delete(f"{C}/{cid}/tags/temp")).status_code == 200
    assert (await stack.http.delete(f"{T}/temp")).status_code == 200


async def test_agents_and_bots_read_tags_and_create_them_only_by_tagging(stack: Stack):
    bot = (await stack.http.post("/ccaas/1/bots", json={"displayName": unique("bot")})).json()
    queue = await create_queue(stack.http, botId=bot["id"])
    body = {"displayName": "Ann", "email": f"{unique('ann')}@example.com"}
    agent = (await stack.http.post("/ccaas/1/agents", json=body)).json()
    stranger = (await stack.http.post(
        "/ccaas/1/agents", json={"displayName": "Sid", "email": f"{unique('sid')}@example.com"}
    )).json()
    member = await stack.http.post(f"/ccaas/1/agents/{agent['id']}/queues", json={"queueId": queue["id"]})
    assert member.status_code == 200, member.text
    cid = (await create_conversation(stack.http, queueId=queue["id"], tags=["secret-case"]))["id"]

    def client(key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=stack.http._transport, base_url=stack.http.base_url,
                                 headers={"Authorization": f"App {key}"})

    async with client(agent["apiKey"]) as ann, client(bot["apiKey"]) as bot_http, \
            client(stranger["apiKey"]) as sid:
        for http in (ann, bot_http):
            assert_error(await http.post(T, json={"name": "mine"}), 403, "FORBIDDEN")
            assert_error(await http.delete(f"{T}/secret-case"), 403, "FORBIDDEN")
            assert await names(http) == ["secret-case"]
            assert await names(http, conversationId=cid) == ["secret-case"]
        # Another agent reads the tag list, but not which tags a conversation it may not see carries.
        assert await names(sid) == ["secret-case"]
        assert await names(sid, conversationId=cid) == []
        # Tagging a conversation it works creates the tag.
        assert (await ann.post(f"{C}/{cid}/tags", json={"tagName": "agent-made"})).status_code == 200

        async def created() -> bool:
            return "agent-made" in await names(sid)

        await wait_for(created)
