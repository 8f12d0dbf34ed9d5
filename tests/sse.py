"""The live event stream from a test's side: the API under a real uvicorn server in this
process (httpx's ASGITransport waits for the end of an answer, and a stream has none), a
reader of server-sent events, and, for the tests that can only use ASGITransport, a client
that hangs up as soon as a stream's head has come."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from store.events_out import Cursor
from tests.helpers import wait_for

STREAM = "/ccaas/1/events/stream"


@dataclass
class Served:
    server: uvicorn.Server
    base_url: str

    async def idle(self) -> None:
        """Waits until no request is being answered (a stream whose client left has ended)."""

        async def nothing_running() -> bool:
            return not self.server.server_state.tasks

        await wait_for(nothing_running, timeout=10, interval=0.02)


@contextlib.asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[Served]:
    """The app on a free port of 127.0.0.1 until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=5))
    running = asyncio.create_task(server.serve())
    try:
        async def started() -> bool:
            assert not running.done(), running
            return server.started

        await wait_for(started, timeout=30, interval=0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield Served(server, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await running


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    body: dict[str, Any]

    @property
    def cursor(self) -> Cursor:
        return Cursor.parse(self.id)

    @property
    def conversation_id(self) -> str | None:
        conversation = self.body["data"].get("conversation")
        return conversation["id"] if conversation else None


def of(conversation: dict[str, Any], event_type: str) -> Callable[[Event], bool]:
    """`until`'s condition: the conversation's event of this type."""

    def matches(event: Event) -> bool:
        return event.type == event_type and event.conversation_id == conversation["id"]

    return matches


class EventReader:
    """Server-sent events off a streamed response, one at a time; comments (pings) skipped."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self) -> Event:
        fields: dict[str, str] = {}
        data: list[str] = []
        while True:
            line = await anext(self._lines)
            if not line:
                if data:
                    return Event(fields["id"], fields["event"], json.loads("\n".join(data)))
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            else:
                fields[name] = value

    async def until(self, done: Callable[[Event], bool], timeout: float = 30) -> list[Event]:
        """The events up to and with the first that is `done`, which must come within `timeout`."""
        events = []
        async with asyncio.timeout(timeout):
            while True:
                events.append(event := await self.next())
                if done(event):
                    return events


@contextlib.asynccontextmanager
async def event_stream(base_url: str, key: str, last_event_id: str | None = None,
                       params: dict[str, str] | None = None) -> AsyncIterator[EventReader]:
    """A stream open until the block ends (then the client hangs up). Once this has entered,
    the server has fixed where the stream starts."""
    headers = {"Authorization": f"App {key}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    async with httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10, read=None)) as http, \
            http.stream("GET", STREAM, headers=headers, params=params) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream"), response.headers
        yield EventReader(response)


def hang_up_on_streams(app: ASGIApp, paths: frozenset[str] = frozenset({STREAM})) -> ASGIApp:
    """The app as a client sees it that hangs up on a stream as soon as its head has come, and
    so gets an answer that ends: for httpx's ASGITransport, which waits for the end of the
    body. Other paths pass untouched."""

    async def app_hanging_up(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in paths:
            await app(scope, receive, send)
            return
        answered = asyncio.Event()
        request_read = complete = False

        async def receive_then_hang_up() -> Message:
            nonlocal request_read
            if not request_read:
                message = await receive()
                request_read = message["type"] != "http.request" or not message.get("more_body", False)
                return message
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send_noting(message: Message) -> None:
            nonlocal complete
            await send(message)
            if message["type"] == "http.response.start":
                answered.set()
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                complete = True

        await app(scope, receive_then_hang_up, send_noting)
        if answered.is_set() and not complete:  # cut off: the body ends where the client left
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app_hanging_up
