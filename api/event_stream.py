"""GET /ccaas/1/events/stream: the live stream of events out, as server-sent events.

Each message is one event of the feed (store.events_out): `id:` its cursor (opaque to clients:
they only hand it back), `event:` its type, `data:` its body as webhooks carry it, the very
text stored for the caller's audience. A caller gets only what it may read (Rights): a
supervisor everything; an agent the events of its queues' conversations (entering or leaving them) and
its own (assigned to it, its status); a bot those of the queues it serves. Rights are read
again every few seconds, so a new membership, a disabled agent or a deleted key takes effect
on open streams too (a caller no longer known ends its stream).

Resumable: `Last-Event-ID` (which EventSource sends by itself when it reconnects), or
`lastEventId` for clients that cannot set headers, starts after that event; without one the
stream starts with the events after the request. The process's one feed reader
(api.feed_reader) reads the feed for all its streams and hands each the rows it may see; a
stream reads by itself only to catch up (from an older `Last-Event-ID`, or having fallen
behind). All a stream holds is the cursor it also hands the client, so any API process serves
any reconnection. The console's pages use the same stream (console.live).
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Header, Query, Request
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.engine import Engine
from sqlmodel import col
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from api.auth import Principal, principal_for_key
from api.errors import bad_request
from api.feed_reader import FeedReader, Filter
from api.permissions import visible_queues
from api.query_params import split_values
from api.stream_slots import TOO_MANY_STREAMS, SlotResponse, StreamSlots
from domain.audience import Audience, audience_of
from domain.events_out import EVENT_TYPES
from store.events_out import Cursor, body_for, read_latest
from store.tables import EventFeedRow

router = APIRouter(prefix="/ccaas/1/events", tags=["events"])

# How often a connection reads its caller's rights again (memberships, a disabled agent).
RIGHTS_SECONDS = 5.0
# A comment line this often keeps proxies from closing a quiet stream.
PING_SECONDS = 15
# A client that takes nothing for this long is hung up on.
SEND_TIMEOUT_SECONDS = 30
# Both numbers fit a BIGINT (18 digits): a longer one cannot be an id of this feed.
EVENT_ID_PATTERN = r"^[0-9]{1,18}[.][0-9]{1,18}$"
BAD_EVENT_ID = "must be the `id` of an event of this stream, as it was sent"
TYPES_DESCRIPTION = f"Only events of these types (comma-separated or repeated): {', '.join(EVENT_TYPES)}."


def _list_pattern(names: tuple[str, ...]) -> str:
    """A comma-separated list of these names (blanks ignored), as split_values reads it."""
    part = rf"\s*(?:(?:{'|'.join(re.escape(name) for name in names)})\s*)?"
    return rf"^{part}(?:,{part})*$"


TYPES_SCHEMA = {"items": {"type": "string", "pattern": _list_pattern(EVENT_TYPES)}}


@dataclass(frozen=True)
class StreamStart:
    """Where a stream starts (None: after the last event now) and which types it carries."""

    after: Cursor | None
    types: frozenset[str] | None


def _event_id(field: str, value: str | None) -> Cursor | None:
    if value is None:
        return None
    if re.fullmatch(EVENT_ID_PATTERN, value) is None:
        raise bad_request(field, BAD_EVENT_ID)
    return Cursor.parse(value)


def stream_start(
    last_event_id: str | None = Header(
        default=None, alias="Last-Event-ID", json_schema_extra={"pattern": EVENT_ID_PATTERN},
        description="Start after this event: the `id` of the last event received (EventSource sends it "
                    "when it reconnects). Without it, or `lastEventId`, only events from now on come."),
    query_event_id: str | None = Query(
        default=None, alias="lastEventId", json_schema_extra={"pattern": EVENT_ID_PATTERN},
        description="As `Last-Event-ID`, for clients that cannot set headers; the header wins when "
                    "both are given."),
    types: list[str] | None = Query(
        default=None, json_schema_extra=TYPES_SCHEMA, description=TYPES_DESCRIPTION),
) -> StreamStart:
    """A dependency: what the request asks for, checked before the stream begins (a 400
    names the parameter)."""
    header_cursor = _event_id("Last-Event-ID", last_event_id)
    query_cursor = _event_id("lastEventId", query_event_id)
    wanted = split_values(types)
    for name in wanted or []:
        if name not in EVENT_TYPES:
            raise bad_request("types", f"{name!r} is not an event type; one of {', '.join(EVENT_TYPES)}")
    after = header_cursor if header_cursor is not None else query_cursor
    return StreamStart(after, frozenset(wanted) if wanted else None)


@dataclass(frozen=True)
class Rights:
    """What a caller may read of the feed: everything (queues None), or the events of these
    queues' conversations, entering or leaving them, and those of this agent."""

    queues: tuple[str, ...] | None
    agent_id: str | None = None
    # What of the events it receives: People's data only for supervisors (domain.audience).
    audience: Audience = Audience.WORKERS

    def condition(self, types: frozenset[str] | None) -> ColumnElement[bool] | None:
        parts: list[ColumnElement[bool]] = []
        if self.queues is not None:
            sees: list[ColumnElement[bool]] = [
                col(EventFeedRow.queue_id).in_(self.queues), col(EventFeedRow.from_queue_id).in_(self.queues)]
            if self.agent_id is not None:
                sees.append(col(EventFeedRow.agent_id) == self.agent_id)
            parts.append(or_(*sees))
        if types is not None:
            parts.append(col(EventFeedRow.type).in_(sorted(types)))
        return and_(*parts) if parts else None

    def sees(self, row: EventFeedRow, types: frozenset[str] | None) -> bool:
        """`condition` for one row in hand (the feed reader's): the same test, in Python."""
        if self.queues is not None:
            sees = row.queue_id in self.queues or row.from_queue_id in self.queues or (
                self.agent_id is not None and row.agent_id == self.agent_id)
            if not sees:
                return False
        return types is None or row.type in types

    def filter(self, types: frozenset[str] | None) -> Filter:
        return Filter(self.condition(types), lambda row: self.sees(row, types))


# Who a stream is for, asked again with its rights: the holder of the request's key now (a
# console session's user for the console's stream), None once it signs nobody in.
Caller = Callable[[], Principal | None]


def rights_of(engine: Engine, caller: Caller) -> Rights | None:
    """The rights of the caller now; None when it no longer signs anyone in."""
    principal = caller()
    if principal is None:
        return None
    visible = visible_queues(engine, principal)
    audience = audience_of(principal.actor.type)
    if visible is None:
        return Rights(None, audience=audience)
    queues, agent_id = visible
    return Rights(tuple(queues), agent_id, audience)


def latest_cursor(engine: Engine) -> Cursor:
    """Where the feed ends now: a stream from here gets what is written from now on."""
    return read_latest(engine)


async def events_after(
    reader: FeedReader, caller: Caller, after: Cursor, types: frozenset[str] | None,
) -> AsyncIterator[ServerSentEvent]:
    """The stream of one connection: the events after `after` the caller may read, as the
    process's feed reader brings them, until it signs nobody in (or the client goes:
    sse-starlette cancels it, or the reader stops with the app)."""
    rights = await run_in_threadpool(rights_of, reader.engine, caller)
    if rights is None:
        return
    rights_read_at = time.monotonic()
    subscription = await reader.subscribe(after, rights.filter(types))
    try:
        while True:
            wait = max(0.0, rights_read_at + RIGHTS_SECONDS - time.monotonic())
            rows = await subscription.next(timeout=wait)
            if rows is None:
                return
            for row in rows:
                yield ServerSentEvent(body_for(row, rights.audience), id=str(Cursor.of(row)), event=row.type)
            if time.monotonic() - rights_read_at >= RIGHTS_SECONDS:
                rights = await run_in_threadpool(rights_of, reader.engine, caller)
                if rights is None:
                    return
                subscription.filter, rights_read_at = rights.filter(types), time.monotonic()
    finally:
        subscription.close()


async def event_stream_response(
    reader: FeedReader, caller: Caller, start: StreamStart, slots: StreamSlots, key_id: str,
) -> EventSourceResponse:
    """The answer of a stream request: a slot of the caller's key first (a 429 beyond
    api.stream_slots' bounds), held until the answer ends; where it starts is fixed now,
    before its head is sent, so a client that has the head misses nothing written after."""
    slot = slots.take(key_id)
    try:
        after = start.after if start.after is not None else await run_in_threadpool(latest_cursor, reader.engine)
        return SlotResponse(
            events_after(reader, caller, after, start.types), ping=PING_SECONDS,
            send_timeout=SEND_TIMEOUT_SECONDS, slot=slot,
        )
    except BaseException:
        slot.release()  # no answer will: release is once only, so a late finalizer is harmless
        raise


def request_key(request: Request) -> str:
    """The key the request was let in with (api.auth.AuthMiddleware checked it)."""
    return request.headers.get("authorization", "").partition(" ")[2].strip()


STREAM_DESCRIPTION = """\
Server-sent events (`text/event-stream`), one message per event, as they happen:

```
id: <event id>
event: conversation.routed
data: {"type": "conversation.routed", "timestamp": "...", "data": {"event": {...}, "conversation": {...}}}
```

`data` is the event's body as webhooks receive it. Only the events the caller may read: a
supervisor all; an agent those of its queues' conversations (entering or leaving them) and its
own (assigned to it, its status); a bot those of the queues it serves. Rights are read again
every few seconds. The `id` is opaque: give the last one received back as `Last-Event-ID` (or
`lastEventId`) to resume after it, on any API process. A comment line (`: ping`) comes every
15 seconds on a quiet stream. An API process holds a few streams per key and a bounded number
in all (SWITCHBOARD_STREAMS_PER_KEY, SWITCHBOARD_STREAMS_PER_PROCESS); beyond, 429 with
`Retry-After`."""


@router.get(
    "/stream",
    summary="Live stream of events (server-sent events)",
    description=STREAM_DESCRIPTION,
    response_class=EventSourceResponse,
    responses={200: {
        "description": "An endless stream of server-sent events",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }, 429: TOO_MANY_STREAMS},
)
async def stream_events(request: Request, start: StreamStart = Depends(stream_start)) -> EventSourceResponse:
    engine, key = request.app.state.engine, request_key(request)
    return await event_stream_response(request.app.state.feed_reader, lambda: principal_for_key(engine, key), start,
                                       request.app.state.stream_slots, request.state.principal.key_id)
