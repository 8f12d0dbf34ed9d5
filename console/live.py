"""Live pages: the API's event stream (api.event_stream) for the signed-in user, served under
/console, where the sign-in cookie goes (EventSource cannot send an Authorization header),
and where the feed stood when a page was read, so that the page's stream misses nothing
written while it loaded. console.js fetches a page's live parts again when an event tells
of a change they show."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from api.event_stream import StreamStart, event_stream_response, latest_cursor, stream_start
from console.session import console_user, session_watch

router = APIRouter(dependencies=[Depends(console_user)])


@router.get("/console/events/stream")
async def console_event_stream(request: Request, start: StreamStart = Depends(stream_start)) -> EventSourceResponse:
    """The same stream as GET /ccaas/1/events/stream for the signed-in user: what it may read,
    until its session ends. It counts against the streams of the user's key."""
    return await event_stream_response(request.app.state.feed_reader, session_watch(request), start,
                                       request.app.state.stream_slots, request.state.principal.key_id)


async def live_page(request: Request) -> None:
    """A dependency of a page with live parts, run before it reads anything: where its stream
    is to start (rendered as the page's data-live-after)."""
    request.state.live_after = str(await run_in_threadpool(latest_cursor, request.app.state.engine))
