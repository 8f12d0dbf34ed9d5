"""A request body larger than the API ever needs is refused before it is read."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_response

# The largest routing (999 rules) fits many times over.
MAX_BODY_BYTES = 2 * 1024 * 1024


class BodySizeLimit:
    """Answers in the spec's error shape: 413 when Content-Length is too large, 411 for a
    streamed body that does not say its length (no JSON client of this API needs to stream)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            if length is None and b"chunked" in headers.get(b"transfer-encoding", b"").lower():
                await error_response(411, "A request body must have a Content-Length")(scope, receive, send)
                return
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
                text = f"Request body larger than {MAX_BODY_BYTES} bytes"
                await error_response(413, text)(scope, receive, send)
                return
        await self.app(scope, receive, send)
