"""The headers every answer carries: the console's pages, the API's answers and errors, the
event streams, the documentation and its files.

- `Content-Security-Policy`: scripts, styles, images, fonts and connections from this origin
  only (`default-src 'self'`; the console and /docs keep every script and style in files, no
  inline code), no `<base>` elsewhere, forms post here only, no framing by any site. /docs
  also allows images in `data:` addresses: Swagger UI's stylesheet draws its icons so.
- `Referrer-Policy: same-origin`: addresses (conversation ids, People look-ups) never leave in
  a Referer, as to the Temporal UI. Not `no-referrer`: browsers then send `Origin: null` on the
  console's own form posts, which its CSRF check (console/session.py) would refuse.
- `X-Content-Type-Options: nosniff`: an answer is only ever what its Content-Type says.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY + "; img-src 'self' data:"
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
DOCS_PAGE = "/docs"


def headers_for(path: str) -> dict[str, str]:
    if path == DOCS_PAGE:
        return {**SECURITY_HEADERS, "Content-Security-Policy": DOCS_CONTENT_SECURITY_POLICY}
    return SECURITY_HEADERS


class SecurityHeaders:
    """Pure ASGI, outermost but for Starlette's own error middleware (whose 500 answer
    api.errors gives these headers itself), so answers made by other middleware (401, 413)
    and streams get them too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        wanted = headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
