"""One feed reader per API process (api.feed_reader) feeds all its live streams: each stream
gets exactly the events it got when it read the feed itself (the SQL of api.event_stream.Rights
is the oracle), in order, once; a stream resuming from an old cursor while events keep coming
hands over from its own read to the reader's without a gap or a duplicate; many streams cost
one read per interval; a slow stream holds up no other. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import col

from api import feed_reader
from api.auth import principal_for_key
from api.event_stream import Rights, rights_of
from api.feed_reader import FeedReader, Subscription
from contract.events import for_everyone
from domain.audience import Audience
from domain.models import utcnow
from store.db import session_scope
from store.events_out import Cursor, NewEvent, event_id, latest, publish, read_after
from store.tables import EventFeedRow
from switchboard.composition import api_app
from tests.conftest import Stack
from tests.helpers import create_queue, unique, wait_for
from tests.sse import EventReader, event_stream, serving

INTERVAL = 0.05  # the readers made here read often: the tests wait less


def publish_some(engine: Engine, count: int, queues: tuple[str | None, ...] = (None,),
                 agents: tuple[str | None, ...] = (None,)) -> str:
    """`count` events in one transaction, spread over these queues and agents, of two types;
    the id of the last."""
    at = utcnow()
    events = []
    for n in range(count):
        type_ = "conversation.created" if n % 3 else "conversation.closed"
        events.append(NewEvent(source=f"test {uuid.uuid4()}", type=type_, at=at,
                               bodies=for_everyone(type_, at, {"n": n}),
                               queue_id=queues[n % len(queues)], agent_id=agents[n % len(agents)]))
    with session_scope(engine) as session:
        publish(session, events)
    return event_id(events[-1].source)


async def published(engine: Engine, count: int, queues: tuple[str | None, ...] = (None,),
                    agents: tuple[str | None, ...] = (None,)) -> None:
    """publish_some, then waits until readers can read them: on PostgreSQL a row is read once
    every transaction older than the oldest one running has ended, and the server is shared."""
    last = await asyncio.to_thread(publish_some, engine, count, queues, agents)

    def readable() -> bool:
        with session_scope(engine) as session:
            return bool(read_after(session, Cursor(), 1, col(EventFeedRow.id) == last))

    await wait_for(lambda: asyncio.to_thread(readable), interval=0.01)


def feed(engine: Engine, after: Cursor, rights: Rights | None = None,
         types: frozenset[str] | None = None) -> list[str]:
    """The ids a caller with these rights reads itself after `after`: today's SQL filter."""
    condition = rights.condition(types) if rights is not None else None
    with session_scope(engine) as session:
        return [str(Cursor.of(row)) for row in read_after(session, after, 100_000, condition)]


def end_of(engine: Engine) -> Cursor:
    with session_scope(engine) as session:
        return latest(session)


async def taken(subscription: Subscription, until: str, timeout: float = 30) -> list[str]:
    """The ids the subscription gives up to and with `until`."""
    ids: list[str] = []
    async with asyncio.timeout(timeout):
        while until not in ids:
            rows = await subscription.next(timeout=1)
            assert rows is not None
            ids += [str(Cursor.of(row)) for row in rows]
    return ids


@contextlib.asynccontextmanager
async def subscribed(reader: FeedReader, after: Cursor, rights: Rights | None = None,
                     types: frozenset[str] | None = None) -> AsyncIterator[Subscription]:
    subscription = await reader.subscribe(after, (rights or Rights(None)).filter(types))
    try:
        yield subscription
    finally:
        subscription.close()


async def test_each_subscription_gets_what_its_own_filter_reads_in_order_once(engine: Engine) -> None:
    reader = FeedReader(engine, INTERVAL)
    callers = [
        (Rights(None, audience=Audience.SUPERVISORS), None),
        (Rights(None, audience=Audience.SUPERVISORS), frozenset({"conversation.closed"})),
        (Rights(("q1",), "a1"), None),
        (Rights(("q2", "q3"), "a2"), None),
        (Rights(("q3",)), frozenset({"conversation.created"})),
        (Rights(()), None),
    ]
    start = await asyncio.to_thread(end_of, engine)
    async with contextlib.AsyncExitStack() as stack:
        subscriptions = [await stack.enter_async_context(subscribed(reader, start, rights, types))
                         for rights, types in callers]
        for _ in range(5):  # in several transactions while the reader reads
            await published(engine, 40, ("q1", "q2", "q3", None), ("a1", None, "a2"))
        for subscription, (rights, types) in zip(subscriptions, callers, strict=True):
            expected = await asyncio.to_thread(feed, engine, start, rights, types)
            assert expected or rights.queues == ()
            if expected:
                assert await taken(subscription, expected[-1]) == expected
    assert reader.streams == 0


async def test_a_stream_from_an_old_cursor_hands_over_to_the_reader_with_no_gap_or_duplicate(
        engine: Engine) -> None:
    reader = FeedReader(engine, INTERVAL)
    await published(engine, 3 * feed_reader.BATCH + 7)  # more than one read behind
    async with subscribed(reader, await asyncio.to_thread(end_of, engine)) as live:
        publishing = True

        async def keep_publishing() -> None:
            while publishing:
                await published(engine, 3)

        publisher = asyncio.create_task(keep_publishing())
        try:
            # The reader is under way, well past the start, with events still coming.
            await wait_for(lambda: asyncio.sleep(0, reader.reads >= 3), interval=0.01)
            async with subscribed(reader, Cursor()) as resumed:
                assert resumed.catching_up  # it starts with its own read
                ids: list[str] = []
                while resumed.catching_up:
                    ids += [str(Cursor.of(row)) for row in await resumed.next(timeout=1) or []]
                # Caught up; the reader hands it what is published since.
                await wait_for(lambda: asyncio.sleep(0, bool(resumed.handed)), interval=0.01)
                publishing = False
                await publisher
                everything = await asyncio.to_thread(feed, engine, Cursor())
                assert ids + await taken(resumed, everything[-1]) == everything
                assert await taken(live, everything[-1])  # and the live one went on meanwhile
        finally:
            publishing = False
            await publisher


async def test_a_slow_stream_does_not_hold_up_a_fast_one_and_then_catches_up(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed_reader, "BUFFER", 10)
    reader = FeedReader(engine, INTERVAL)
    start = await asyncio.to_thread(end_of, engine)
    async with subscribed(reader, start) as slow, subscribed(reader, start) as fast:
        for _ in range(5):
            await published(engine, 7)
        expected = await asyncio.to_thread(feed, engine, start)
        # The fast one takes everything while the slow one takes nothing.
        assert await taken(fast, expected[-1]) == expected
        assert slow.behind and not slow.handed  # past its buffer: the reader hands it nothing
        # Then it reads what it missed itself and rides the reader again.
        assert await taken(slow, expected[-1]) == expected
        assert not slow.behind and not slow.catching_up
        await published(engine, 3)
        more = await asyncio.to_thread(feed, engine, Cursor.parse(expected[-1]))
        assert await taken(slow, more[-1]) == more
        assert await taken(fast, more[-1]) == more


async def test_the_reader_stops_with_the_last_stream_and_starts_again(engine: Engine) -> None:
    reader = FeedReader(engine, INTERVAL)
    async with subscribed(reader, Cursor()):
        await wait_for(lambda: asyncio.sleep(0, reader.reads >= 2), interval=0.01)
    await wait_for(lambda: asyncio.sleep(0, reader._task is None), interval=0.01)
    reads = reader.reads
    await published(engine, 5)
    async with subscribed(reader, Cursor()) as again:
        expected = await asyncio.to_thread(feed, engine, Cursor())
        assert await taken(again, expected[-1]) == expected
    assert reader.reads > reads


async def test_when_the_reader_stops_its_streams_end(engine: Engine) -> None:
    reader = FeedReader(engine, INTERVAL)
    async with subscribed(reader, Cursor()) as one, subscribed(reader, Cursor()) as other:
        await reader.stop()  # as the app does when it stops
        assert await one.next(timeout=5) is None and await other.next(timeout=5) is None
    assert reader._task is None


async def agent_key(stack: Stack, queue_id: str) -> str:
    response = await stack.http.post("/ccaas/1/agents", json={
        "displayName": unique("agent"), "email": f"{unique('agent')}@example.com"})
    assert response.status_code == 201, response.text
    agent = response.json()
    member = await stack.http.post(f"/ccaas/1/agents/{agent['id']}/queues", json={"queueId": queue_id})
    assert member.status_code == 200, member.text
    return str(agent["apiKey"])


async def ids_until(reader: EventReader, last: str, timeout: float = 30) -> list[str]:
    ids: list[str] = []
    async with asyncio.timeout(timeout):
        while last not in ids:
            ids.append((await reader.next()).id)
    return ids


@pytest.mark.integration
async def test_many_streams_of_different_callers_each_get_their_events_once_on_one_read_per_interval(
        stack: Stack) -> None:
    queues = [(await create_queue(stack.http))["id"] for _ in range(3)]
    keys = [await agent_key(stack, queue_id) for queue_id in queues]
    bot = (await stack.http.post("/ccaas/1/bots", json={"displayName": unique("bot")})).json()
    bot_queue = (await create_queue(stack.http, botId=bot["id"]))["id"]
    # Five streams of each key (the most one key may hold), 25 in all.
    callers: list[tuple[str, dict[str, str] | None]] = []
    for key in [stack.supervisor_key, *keys, bot["apiKey"]]:
        callers += [(key, None)] * 4 + [(key, {"types": "conversation.closed"})]
    app = api_app(stack.settings, stack.engine, stack.temporal)
    reader: FeedReader = app.state.feed_reader
    feed_reads = 0

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal feed_reads
        # Reads of rows (their bodies): the stack's courier also asks where the feed ends.
        if "event_feed.body" in statement:
            feed_reads += 1

    async with serving(app) as served, contextlib.AsyncExitStack() as streams:
        start = await asyncio.to_thread(end_of, stack.engine)
        readers = [await streams.enter_async_context(event_stream(served.base_url, key, params=params))
                   for key, params in callers]
        await wait_for(lambda: asyncio.sleep(0, reader.streams == len(callers)), interval=0.01)

        # However many streams are open, the feed is read once per interval.
        event.listen(stack.engine, "before_cursor_execute", count)
        try:
            reads, feed_reads = reader.reads, 0
            await wait_for(lambda: asyncio.sleep(0, reader.reads >= reads + 6), interval=0.01)
            window_reads, window_feed_reads = reader.reads - reads, feed_reads
        finally:
            event.remove(stack.engine, "before_cursor_execute", count)
        assert window_reads - 1 <= window_feed_reads <= window_reads + 1  # one under way when counting began or ended

        for _ in range(4):
            await published(stack.engine, 25, (*queues, bot_queue, None))
        for (key, params), stream in zip(callers, readers, strict=True):
            rights = await asyncio.to_thread(
                rights_of, stack.engine, functools.partial(principal_for_key, stack.engine, key))
            assert rights is not None
            types = frozenset({"conversation.closed"}) if params else None
            expected = await asyncio.to_thread(feed, stack.engine, start, rights, types)
            assert expected, key
            assert await ids_until(stream, expected[-1]) == expected


@pytest.mark.integration
async def test_a_stream_from_an_old_last_event_id_gets_every_event_once_while_events_keep_coming(
        stack: Stack) -> None:
    await published(stack.engine, 2 * feed_reader.BATCH + 11)
    app = api_app(stack.settings, stack.engine, stack.temporal)
    reader: FeedReader = app.state.feed_reader
    async with serving(app) as served, event_stream(served.base_url, stack.supervisor_key) as live:
        await wait_for(lambda: asyncio.sleep(0, reader.reads >= 2), interval=0.01)  # the reader is under way
        publishing, batches = True, 0

        async def keep_publishing() -> None:
            nonlocal batches
            while publishing:
                await published(stack.engine, 3)
                batches += 1

        publisher = asyncio.create_task(keep_publishing())
        try:
            async with event_stream(served.base_url, stack.supervisor_key, last_event_id=str(Cursor())) as resumed:
                first = await ids_until(resumed, (await asyncio.to_thread(feed, stack.engine, Cursor()))[-1])
                now = batches
                await wait_for(lambda: asyncio.sleep(0, batches >= now + 2), interval=0.01)
                publishing = False
                await publisher
                everything = await asyncio.to_thread(feed, stack.engine, Cursor())
                assert first + await ids_until(resumed, everything[-1]) == everything
                assert await ids_until(live, everything[-1])
        finally:
            publishing = False
            await publisher
