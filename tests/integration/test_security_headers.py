"""Every answer carries the security headers (api/security_headers.py): the API's answers and
its errors, however made (a route, a middleware, the 500 of Starlette's own), the console's
pages and files, both event streams, and the documentation; and /docs needs no other host."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from api.limits import MAX_BODY_BYTES
from console.session import CSRF_COOKIE, SESSION_COOKIE, open_session
from domain.models import utcnow
from switchboard.composition import api_app
from tests.conftest import Stack
from tests.sse import STREAM, hang_up_on_streams

pytestmark = pytest.mark.integration

CONSOLE_STREAM = "/console/events/stream"


def assert_secured(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    policy = response.headers.get("content-security-policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives.get("default-src") == ["'self'"], (where, policy)
    assert directives.get("frame-ancestors") == ["'none'"], (where, policy)
    assert response.headers.get("referrer-policy") == "same-origin", where
    assert response.headers.get("x-content-type-options") == "nosniff", where


async def boom(request: Request) -> Response:
    raise RuntimeError("an error nobody handles")


@pytest_asyncio.fixture
async def app(stack: Stack) -> FastAPI:
    """An API process on the stack's database and Temporal, with one route that fails."""
    app = api_app(stack.settings, stack.engine, stack.temporal)
    app.add_route("/boom", boom)
    return app


@pytest_asyncio.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Without a key; hangs up on a stream as soon as its head has come."""
    transport = httpx.ASGITransport(app=hang_up_on_streams(app, frozenset({STREAM, CONSOLE_STREAM})),
                                    raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
        yield client


def key_header(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"App {stack.supervisor_key}"}


async def test_api_answers_carry_the_security_headers(stack: Stack, http: httpx.AsyncClient):
    key = key_header(stack)
    for response in [
        await http.get("/health"),
        await http.get("/metrics"),
        await http.get("/openapi.json"),
        await http.get("/ccaas/1/queues", headers=key),
        await http.post("/ccaas/1/queues", headers=key, json={"name": "Front desk"}),
    ]:
        assert response.status_code < 300, response.text
        assert_secured(response)


async def test_error_answers_carry_the_security_headers(stack: Stack, http: httpx.AsyncClient):
    key = key_header(stack)
    answers = {
        401: await http.get("/ccaas/1/queues"),  # AuthMiddleware's own answer
        404: await http.get("/ccaas/1/nowhere", headers=key),
        400: await http.get("/ccaas/1/queues", headers=key, params={"nonsense": "1"}),
        405: await http.patch("/ccaas/1/queues", headers=key, json={}),
        413: await http.post("/ccaas/1/queues", headers={**key, "Content-Length": str(MAX_BODY_BYTES + 1)},
                             content=b"{}"),  # BodySizeLimit's own answer
        500: await http.get("/boom", headers=key),  # Starlette's outermost error middleware
    }
    for status, response in answers.items():
        assert response.status_code == status, (status, response.text)
        assert response.json()["requestError"]["serviceException"]["text"]
        assert_secured(response)


async def test_console_pages_and_files_carry_the_security_headers(stack: Stack, app: FastAPI, http: httpx.AsyncClient):
    session = open_session(stack.engine, stack.supervisor_key, utcnow(), timedelta(hours=1))
    signed_in = {"Cookie": f"{SESSION_COOKIE}={session}; {CSRF_COOKIE}={'a' * 43}"}
    answers = [
        (401, await http.get("/console")),  # the sign-in page
        (200, await http.get("/console", headers=signed_in)),
        (200, await http.get("/console/routing", headers=signed_in)),
        (404, await http.get("/console/nowhere", headers=signed_in)),
        (200, await http.get("/console/static/console.js")),
        (200, await http.get("/console/static/console.css")),
    ]
    for status, response in answers:
        assert response.status_code == status, response.request.url
        assert_secured(response)
    page = answers[1][1].text
    # Nothing inline that the policy would refuse: every script is a file of this origin.
    assert "<style" not in page and " style=" not in page
    for script in re.findall(r"<script[^>]*>", page):
        assert 'src="/' in script or 'type="application/json"' in script, script


async def test_both_event_streams_carry_the_security_headers(stack: Stack, http: httpx.AsyncClient):
    session = open_session(stack.engine, stack.supervisor_key, utcnow(), timedelta(hours=1))
    for response in [
        await http.get(STREAM, headers=key_header(stack)),
        await http.get(CONSOLE_STREAM, headers={"Cookie": f"{SESSION_COOKIE}={session}"}),
    ]:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/event-stream")
        assert_secured(response)


async def test_docs_load_only_files_of_this_origin_and_those_are_served(stack: Stack, http: httpx.AsyncClient):
    page = await http.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert_secured(page)
    assert "//" not in page.text  # no address of another host, with or without a scheme
    # No inline script (the policy would refuse it): each one is a file, like the styles.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.DOTALL)
    assert scripts and all('src="' in attributes and not body.strip() for attributes, body in scripts)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css",
            "/docs/assets/swagger-init.js"} <= set(assets)
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset
        served = await http.get(asset)  # no key: the docs are open
        assert served.status_code == 200 and served.content, asset
        assert_secured(served)
    assert (await http.get("/docs/assets/nothing.js")).status_code == 404
    # FastAPI's CDN pages are gone: ReDoc is not offered (its inline styles break the policy).
    for gone in ("/redoc", "/docs/oauth2-redirect"):
        assert (await http.get(gone, headers=key_header(stack))).status_code == 404
