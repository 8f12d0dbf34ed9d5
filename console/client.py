"""The console's only way to read or change anything: the API itself, as the signed-in user.

Requests go through the whole application in process (authentication, the permission
table, validation), so the console can never do what the same key could not do over HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import IN_PROCESS_PRINCIPAL, Principal


@dataclass
class Refusal:
    """An error answer of the API, ready to show: the text, and messages by field path."""

    status: int
    text: str
    fields: dict[str, list[str]] = field(default_factory=dict)

    def at(self, path: str) -> list[str]:
        return self.fields.get(path, [])


class ApiFailed(Exception):
    """An answer the page cannot go on from (403 or 404 on the thing it shows)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.text)
        self.refusal = refusal


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def refusal(self) -> Refusal | None:
        if self.ok:
            return None
        exception = (self.body or {}).get("requestError", {}).get("serviceException", {})
        return Refusal(self.status, exception.get("text", "Request failed"),
                       exception.get("validationErrors") or {})


class Api:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def call(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Answer:
        if any(part in path for part in ("?", "#", "/../", "/./")) or path.endswith(("/..", "/.")):
            # An id from the console's address must stay one path segment of the call it names.
            return Answer(404, {"requestError": {"serviceException": {"text": "Not found"}}})
        response = await self._http.request(method, path, json=json, params=params)
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else None
        return Answer(response.status_code, body)

    async def read(self, path: str, params: Any = None) -> Any:
        """A GET the page needs: its refusal becomes the page's answer."""
        answer = await self.call("GET", path, params=params)
        if (refusal := answer.refusal) is not None:
            raise ApiFailed(refusal)
        return answer.body

    async def read_all(self, path: str, items: str, params: dict[str, Any] | None = None) -> list[Any]:
        """The `items` of a list endpoint, up to the API's page limit of 999."""
        body = await self.read(path, {**(params or {}), "limit": 999})
        return body[items]


def as_user(app: ASGIApp, principal: Principal) -> ASGIApp:
    """The API application, called in process as this signed-in user: the API's AuthMiddleware
    takes the user from the request's scope (no key travels: the console never has one after
    sign-in)."""

    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, IN_PROCESS_PRINCIPAL: principal}, receive, send)

    return call


async def api(request: Request) -> AsyncIterator[Api]:
    """A dependency: one client for all the calls of one console request, as its user, to the
    API the console was made with (console.app)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=as_user(request.app.state.api, request.state.principal)),
        base_url="http://console.internal",
    ) as http:
        yield Api(http)
