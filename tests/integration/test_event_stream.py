"""The live event stream end to end: the API under uvicorn on 127.0.0.1 (tests/sse.py), the
real worker writing the feed, read as server-sent events over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api import event_stream as stream_module
from console.session import CSRF_COOKIE, SESSION_COOKIE, open_session
from domain.models import utcnow
from store.db import make_engine, session_scope
from store.events_out import Cursor, read_after
from switchboard.composition import api_app
from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, unique, wait_for
from tests.sse import STREAM, EventReader, event_stream, of, serving

pytestmark = pytest.mark.integration


def app_of(stack: Stack) -> FastAPI:
    """One more API process on the stack's database and Temporal (the worker is the stack's)."""
    return api_app(stack.settings, stack.engine, stack.temporal)


def feed_after(stack: Stack, cursor: Cursor) -> list[tuple[str, str]]:
    """(id, type) of every row of the feed after `cursor`, in the order readers get them."""
    with session_scope(stack.engine) as session:
        return [(str(Cursor.of(row)), row.type) for row in read_after(session, cursor, 10_000)]


async def in_feed(stack: Stack, conversation: dict[str, Any], event_type: str) -> None:
    """Waits until the worker has written the conversation's event of this type to the feed."""

    def written() -> bool:
        with session_scope(stack.engine) as session:
            return any(row.type == event_type and row.conversation_id == conversation["id"]
                       for row in read_after(session, Cursor(), 10_000))

    async def check() -> bool:
        return await asyncio.to_thread(written)

    await wait_for(check)


async def agent_with_key(stack: Stack, *queue_ids: str) -> tuple[str, str]:
    body = {"displayName": unique("agent"), "email": f"{unique('agent')}@example.com"}
    response = await stack.http.post("/ccaas/1/agents", json=body)
    assert response.status_code == 201, response.text
    agent = response.json()
    for queue_id in queue_ids:
        member = await stack.http.post(f"/ccaas/1/agents/{agent['id']}/queues", json={"queueId": queue_id})
        assert member.status_code == 200, member.text
    return agent["id"], agent["apiKey"]


async def test_a_supervisor_sees_the_events_of_a_new_conversation_in_order(stack: Stack) -> None:
    queue = await create_queue(stack.http)
    before = await create_conversation(stack.http, queueId=queue["id"])
    await in_feed(stack, before, "conversation.routed")
    async with serving(app_of(stack)) as served:
        async with event_stream(served.base_url, stack.supervisor_key) as stream, \
                event_stream(served.base_url, stack.supervisor_key, params={"types": "conversation.closed"}) as closes:
            conversation = await create_conversation(stack.http, queueId=queue["id"], topic="streamed")
            closed = await stack.http.patch(f"/ccaas/1/conversations/{conversation['id']}", json={"status": "CLOSED"})
            assert closed.status_code == 200, closed.text
            events = await stream.until(of(conversation, "conversation.closed"))
            only_closes = await closes.until(of(conversation, "conversation.closed"))
        await served.idle()  # the client left: its streams ended on the server too

    # Only what came after the request (not the conversation before it), in commit order.
    assert [(event.type, event.conversation_id) for event in events] == [
        ("conversation.created", conversation["id"]), ("conversation.routed", conversation["id"]),
        ("conversation.closed", conversation["id"])]
    seqs = [event.body["data"]["event"]["seq"] for event in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    cursors = [event.cursor for event in events]
    assert cursors == sorted(cursors) and len(set(cursors)) == 3
    for event in events:
        assert set(event.body) == {"type", "timestamp", "data"} and event.body["type"] == event.type
        assert event.body["data"]["conversation"]["topic"] == "streamed"
    assert events[-1].body["data"]["conversation"]["status"] == "CLOSED"
    # The same event, with the same id, on a stream of closes only.
    assert [(event.id, event.type) for event in only_closes] == [(events[-1].id, "conversation.closed")]


async def test_agents_and_bots_see_only_their_queues_and_an_agent_its_own(stack: Stack) -> None:
    bot = (await stack.http.post("/ccaas/1/bots", json={"displayName": unique("bot")})).json()
    agents_queue = await create_queue(stack.http, unique("agents"))
    bots_queue = await create_queue(stack.http, unique("bots"), botId=bot["id"])
    nobodys_queue = await create_queue(stack.http, unique("nobody"))
    agent_id, agent_key = await agent_with_key(stack, agents_queue["id"])
    async with serving(app_of(stack)) as served, \
            event_stream(served.base_url, stack.supervisor_key) as everything, \
            event_stream(served.base_url, agent_key) as agents, \
            event_stream(served.base_url, bot["apiKey"]) as bots:
        # Others' conversations first, seen by the supervisor before the agent's own comes: so
        # the agent's stream has had every chance to show them, had it been going to.
        elsewhere = await create_conversation(stack.http, queueId=nobodys_queue["id"])
        at_the_bot = await create_conversation(stack.http, queueId=bots_queue["id"])
        for conversation in (elsewhere, at_the_bot):
            await everything.until(of(conversation, "conversation.routed"))
        own = await create_conversation(stack.http, queueId=agents_queue["id"])
        seen_by_agent = await agents.until(of(own, "conversation.routed"))
        assert {event.conversation_id for event in seen_by_agent} == {own["id"]}

        # Its own status, though no queue's.
        status = await stack.http.put(f"/ccaas/1/agents/{agent_id}/status", json={"status": "BUSY"},
                                      headers={"Authorization": f"App {agent_key}"})
        assert status.status_code == 200, status.text
        (changed,) = await agents.until(lambda event: event.type == "agent.status_changed")
        assert changed.body["data"]["agent"]["id"] == agent_id and changed.body["data"]["agent"]["status"] == "BUSY"

        # A conversation leaving the agent's queue: the agent sees it go; into the bot's: the bot sees it come.
        for queue in (nobodys_queue, bots_queue):
            moved = await stack.http.patch(f"/ccaas/1/conversations/{own['id']}", json={"queueId": queue["id"]})
            assert moved.status_code == 200, moved.text
        (left,) = await agents.until(of(own, "conversation.rerouted"))
        assert left.body["data"]["event"]["fromQueueId"] == agents_queue["id"]
        seen_by_bot = await bots.until(of(own, "conversation.rerouted"))
        assert {event.conversation_id for event in seen_by_bot} == {at_the_bot["id"], own["id"]}
        assert [event.type for event in seen_by_bot if event.conversation_id == own["id"]] == ["conversation.rerouted"]
        assert seen_by_bot[-1].body["data"]["event"]["toQueueId"] == bots_queue["id"]
        assert "conversation.routed" in [event.type for event in seen_by_bot]

        # The second reroute (nobody's queue to the bot's) is none of the agent's: the agent's
        # next event is its own status again.
        again = await stack.http.put(f"/ccaas/1/agents/{agent_id}/status", json={"status": "ACTIVE"},
                                     headers={"Authorization": f"App {agent_key}"})
        assert again.status_code == 200, again.text
        rest = await agents.until(lambda event: event.type == "agent.status_changed")
        assert [event.type for event in rest] == ["agent.status_changed"]


async def test_a_new_membership_and_a_rotated_key_take_effect_on_an_open_stream(stack: Stack, monkeypatch) -> None:
    monkeypatch.setattr(stream_module, "RIGHTS_SECONDS", 0.2)
    queue = await create_queue(stack.http)
    agent_id, agent_key = await agent_with_key(stack)
    async with serving(app_of(stack)) as served, event_stream(served.base_url, agent_key) as agents:
        member = await stack.http.post(f"/ccaas/1/agents/{agent_id}/queues", json={"queueId": queue["id"]})
        assert member.status_code == 200, member.text
        # Its rights are read again within moments; what is written after that, it sees.
        created: set[str] = set()
        for _attempt in range(10):
            conversation = await create_conversation(stack.http, queueId=queue["id"])
            created.add(conversation["id"])
            try:
                seen = await agents.until(of(conversation, "conversation.routed"), timeout=3)
                break
            except TimeoutError:
                continue
        else:
            pytest.fail("the agent never saw its new queue's conversations")
        assert {event.conversation_id for event in seen} <= created

        # A new key for the agent: the old one signs nobody in, and its stream ends.
        rotated = await stack.http.post(f"/ccaas/1/agents/{agent_id}/api-key")
        assert rotated.status_code == 200, rotated.text
        with pytest.raises(StopAsyncIteration):
            async with asyncio.timeout(10):
                while True:
                    await agents.next()


async def test_the_consoles_stream_ends_when_its_session_is_signed_out(stack: Stack, monkeypatch) -> None:
    monkeypatch.setattr(stream_module, "RIGHTS_SECONDS", 0.2)
    session = open_session(stack.engine, stack.supervisor_key, utcnow(), timedelta(hours=1))
    signed_in = {"Cookie": f"{SESSION_COOKIE}={session}; {CSRF_COOKIE}={'a' * 43}"}
    async with serving(app_of(stack)) as served, \
            httpx.AsyncClient(base_url=served.base_url, timeout=httpx.Timeout(10, read=None)) as http, \
            http.stream("GET", "/console/events/stream", headers=signed_in) as response:
        assert response.status_code == 200
        out = await http.post("/console/sign-out", data={"csrf_token": "a" * 43}, headers=signed_in)
        assert out.status_code == 303
        with pytest.raises(StopAsyncIteration):  # within moments its rights are asked again: none
            async with asyncio.timeout(10):
                await EventReader(response).next()


async def test_a_stream_resumes_after_the_last_event_id_with_nothing_missed_or_twice(stack: Stack) -> None:
    queue = await create_queue(stack.http)
    async with serving(app_of(stack)) as served:
        async with event_stream(served.base_url, stack.supervisor_key) as stream:
            start = await asyncio.to_thread(feed_after, stack, Cursor())
            first = await create_conversation(stack.http, queueId=queue["id"])
            before = await stream.until(of(first, "conversation.created"))
        # Away: more happens meanwhile.
        await stack.http.patch(f"/ccaas/1/conversations/{first['id']}", json={"status": "CLOSED"})
        second = await create_conversation(stack.http, queueId=queue["id"])
        await in_feed(stack, second, "conversation.routed")
        await in_feed(stack, first, "conversation.closed")
        async with event_stream(served.base_url, stack.supervisor_key, last_event_id=before[-1].id) as resumed:
            marker = await create_conversation(stack.http, queueId=queue["id"])
            after = await resumed.until(of(marker, "conversation.created"))

    received = [(event.id, event.type) for event in before + after]
    # Exactly the feed from where the first stream began to the marker: none twice, none missing.
    feed = [row for row in await asyncio.to_thread(feed_after, stack, Cursor()) if row not in start]
    assert received == feed[:len(received)]
    assert len({event_id for event_id, _ in received}) == len(received)
    assert received[-1] == (after[-1].id, "conversation.created")
    missed = {(event.type, event.conversation_id) for event in after}
    assert {("conversation.closed", first["id"]), ("conversation.routed", second["id"])} <= missed


async def test_a_client_resumes_on_another_api_process(stack: Stack) -> None:
    queue = await create_queue(stack.http)
    conversation = await create_conversation(stack.http, queueId=queue["id"])
    await stack.http.patch(f"/ccaas/1/conversations/{conversation['id']}", json={"status": "CLOSED"})
    await in_feed(stack, conversation, "conversation.closed")
    other_engine = make_engine(stack.database_url)  # as another process would have its own
    try:
        async with serving(app_of(stack)) as one, \
                serving(api_app(stack.settings, other_engine, stack.temporal)) as two:
            everything = str(Cursor())
            async with event_stream(one.base_url, stack.supervisor_key, last_event_id=everything) as stream:
                on_one = await stream.until(of(conversation, "conversation.closed"))
            async with event_stream(two.base_url, stack.supervisor_key, last_event_id=everything) as stream:
                on_two = await stream.until(of(conversation, "conversation.closed"))
            # The same ids and bodies from either process.
            assert [(event.id, event.body) for event in on_one] == [(event.id, event.body) for event in on_two]
            assert len(on_one) >= 3
            # Left the first after one event; resumed on the second: the rest, as the first had them.
            async with event_stream(one.base_url, stack.supervisor_key, last_event_id=everything) as stream:
                first = await stream.next()
            async with event_stream(two.base_url, stack.supervisor_key, last_event_id=first.id) as stream:
                rest = await stream.until(of(conversation, "conversation.closed"))
            assert [first.id] + [event.id for event in rest] == [event.id for event in on_one]
    finally:
        other_engine.dispose()


async def test_a_malformed_event_id_or_type_is_a_400_at_its_field(stack: Stack) -> None:
    for headers, params, field in (
        ({"Last-Event-ID": "yesterday"}, {}, "Last-Event-ID"),
        ({"Last-Event-ID": "12"}, {}, "Last-Event-ID"),
        ({"Last-Event-ID": "1.2.3"}, {}, "Last-Event-ID"),
        ({"Last-Event-ID": "1" * 19 + ".1"}, {}, "Last-Event-ID"),
        ({}, {"lastEventId": "-1.0"}, "lastEventId"),
        ({"Last-Event-ID": "1.2"}, {"lastEventId": "x"}, "lastEventId"),
        ({}, {"types": "conversation.created,conversation.exploded"}, "types"),
    ):
        response = await stack.http.get(STREAM, headers=headers, params=params)
        assert_error(response, 400, "BAD_REQUEST", field)
    assert_error(await stack.http.get(STREAM, params={"since": "1.2"}), 400, "BAD_REQUEST", "since")
    assert_error(await stack.http.get(STREAM, headers={"Authorization": "App nope"}), 401, "UNAUTHORIZED")
