"""Live streams are bounded (api.stream_slots): SWITCHBOARD_STREAMS_PER_KEY per API key and
SWITCHBOARD_STREAMS_PER_PROCESS per API process; beyond, 429 in the spec's error shape with
Retry-After, and a stream that ends (its client hanging up) gives its slot back. The API is
built as `switchboard api` builds it, under uvicorn on 127.0.0.1; no worker or Temporal is
needed (a stream reads only the store)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import cast

import httpx
import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client

from store.bootstrap import bootstrap
from switchboard.composition import api_app
from tests.helpers import assert_error, unique, wait_for
from tests.settings import stack_settings
from tests.sse import STREAM, Served, event_stream, serving

pytestmark = pytest.mark.integration

# Nothing here reaches Temporal: the stream and the calls used read and write the store only.
NO_TEMPORAL = cast(Client, None)


@contextlib.asynccontextmanager
async def api(engine: Engine, database_url: str, **variables: str) -> AsyncIterator[tuple[Served, str]]:
    """The API with these settings, served, and the supervisor key."""
    key = bootstrap(engine)
    assert key is not None
    settings = stack_settings(database_url, unique("unused"), **variables)
    async with serving(api_app(settings, engine, NO_TEMPORAL)) as served:
        yield served, key


async def agent_key(served: Served, supervisor_key: str) -> str:
    async with httpx.AsyncClient(base_url=served.base_url, headers={"Authorization": f"App {supervisor_key}"}) as http:
        body = {"displayName": unique("agent"), "email": f"{unique('agent')}@example.com"}
        response = await http.post("/ccaas/1/agents", json=body)
        assert response.status_code == 201, response.text
        return response.json()["apiKey"]


async def refused(served: Served, key: str) -> dict:
    """A stream request that must be refused: the 429, its error and Retry-After."""
    async with httpx.AsyncClient(base_url=served.base_url, timeout=10) as http:
        response = await http.get(STREAM, headers={"Authorization": f"App {key}"})
    exception = assert_error(response, 429, "TOO_MANY_REQUESTS")
    assert int(response.headers["retry-after"]) > 0
    return exception


async def opens_again(served: Served, key: str, streams: contextlib.AsyncExitStack) -> None:
    """Opens a stream of this key, held until `streams` ends, as soon as one is let in again
    (once the server has noticed a client that left)."""

    async def let_in() -> bool:
        try:
            await streams.enter_async_context(event_stream(served.base_url, key))
        except AssertionError:  # still refused
            return False
        return True

    await wait_for(let_in, timeout=15, interval=0.1)


async def test_the_sixth_stream_of_a_key_is_refused_while_other_keys_stream(engine: Engine, database_url: str) -> None:
    async with api(engine, database_url) as (served, supervisor_key):
        busy, other = await agent_key(served, supervisor_key), await agent_key(served, supervisor_key)
        async with contextlib.AsyncExitStack() as streams:
            first = await streams.enter_async_context(contextlib.AsyncExitStack())  # closed below
            await first.enter_async_context(event_stream(served.base_url, busy))
            for _ in range(4):  # the default: five per key
                await streams.enter_async_context(event_stream(served.base_url, busy))
            exception = await refused(served, busy)
            assert "5" in exception["text"]
            # Another key, and the supervisor's, still stream.
            await streams.enter_async_context(event_stream(served.base_url, other))
            await streams.enter_async_context(event_stream(served.base_url, supervisor_key))
            # One of the five ends: its slot is free again, and only that one.
            await first.aclose()
            await opens_again(served, busy, streams)
            await refused(served, busy)
        await served.idle()


async def test_a_process_holds_at_most_its_streams(engine: Engine, database_url: str) -> None:
    async with api(engine, database_url, SWITCHBOARD_STREAMS_PER_PROCESS="3") as (served, supervisor_key):
        keys = [await agent_key(served, supervisor_key) for _ in range(3)]
        async with contextlib.AsyncExitStack() as streams:
            first = await streams.enter_async_context(contextlib.AsyncExitStack())
            await first.enter_async_context(event_stream(served.base_url, keys[0]))
            await streams.enter_async_context(event_stream(served.base_url, keys[0]))
            await streams.enter_async_context(event_stream(served.base_url, keys[1]))
            # A key with none open is refused too: the process is full.
            await refused(served, keys[2])
            await refused(served, supervisor_key)
            await first.aclose()
            await opens_again(served, keys[2], streams)
            await refused(served, keys[0])
        await served.idle()
