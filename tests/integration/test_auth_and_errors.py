"""`Authorization: App <key>` on every route, and the one error shape for every failure."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from store import keys
from store.db import session_scope
from tests.helpers import assert_error, create_queue, put_routing, rule, unique

# Authentication and the error shape come before the store: checked on SQLite (conftest: sqlite_only).
pytestmark = pytest.mark.sqlite_only

QUEUES = "/ccaas/1/queues"
ROUTING = "/ccaas/1/routing"
SETTINGS = "/ccaas/1/routing/settings"
CONVERSATIONS = "/ccaas/1/conversations"
TELEGRAM = {"$eq": {"message.channel": "TELEGRAM"}}


async def send(stack, method: str, url: str, authorization: str | None, **kwargs: Any) -> httpx.Response:
    """A request whose Authorization header replaces the supervisor's (None: no header at all)."""
    request = stack.http.build_request(method, url, **kwargs)
    del request.headers["Authorization"]
    if authorization is not None:
        request.headers["Authorization"] = authorization
    assert request.headers.get("Authorization") == authorization
    return await stack.http.send(request)


async def state(stack) -> dict[str, Any]:
    """Everything a refused request could have changed, as the supervisor reads it."""
    queues = await stack.http.get(QUEUES, params={"limit": 999})
    routing = await stack.http.get(ROUTING)
    settings = await stack.http.get(SETTINGS)
    conversations = await stack.http.get(CONVERSATIONS, params={"limit": 999})
    for response in (queues, routing, settings, conversations):
        assert response.status_code == 200, response.text
    return {
        "queues": queues.json(),
        "routing": routing.json(),
        "settings": settings.json(),
        "conversations": conversations.json()["pagination"]["totalItems"],
    }


def disabled_supervisor_key(stack) -> str:
    key = keys.new_key()
    with session_scope(stack.engine) as session:
        row = keys.store_key(session, key, principal_type="SUPERVISOR", principal_id=None, name="off")
        row.enabled = False
    return key


async def principal_key(stack, kind: str) -> str:
    """A key of an agent or a bot, made as a supervisor makes one: through the API."""
    if kind == "AGENT":
        body = {"displayName": unique("agent"), "email": f"{unique('agent')}@example.com"}
        response = await stack.http.post("/ccaas/1/agents", json=body)
    else:
        response = await stack.http.post("/ccaas/1/bots", json={"displayName": unique("bot")})
    assert response.status_code == 201, response.text
    return response.json()["apiKey"]


# Requests a caller without a valid key might send; none of them may do anything.
GUARDED = [
    pytest.param("GET", QUEUES, None, id="list queues"),
    pytest.param("POST", QUEUES, {"name": "intruder"}, id="create queue"),
    pytest.param("GET", f"{QUEUES}/{{queue}}", None, id="get queue"),
    pytest.param("PUT", f"{QUEUES}/{{queue}}", {"name": "renamed"}, id="put queue"),
    pytest.param("DELETE", f"{QUEUES}/{{queue}}", None, id="delete queue"),
    pytest.param("GET", ROUTING, None, id="get routing"),
    pytest.param("PUT", ROUTING, [], id="put routing"),
    pytest.param("DELETE", ROUTING, None, id="delete routing"),
    pytest.param("GET", "/ccaas/1/routing/versions", None, id="list versions"),
    pytest.param("PUT", SETTINGS, {"defaultQueueId": "{queue}"}, id="put settings"),
    pytest.param("GET", CONVERSATIONS, None, id="list conversations"),
    pytest.param("POST", CONVERSATIONS, {"topic": "intruder"}, id="create conversation"),
    pytest.param("PATCH", QUEUES, None, id="wrong method"),
    pytest.param("GET", "/ccaas/1/nowhere", None, id="unknown path"),
]


def _fill(value: Any, queue_id: str) -> Any:
    return json.loads(json.dumps(value).replace("{queue}", queue_id)) if value is not None else None


@pytest.mark.parametrize(("method", "url", "body"), GUARDED)
async def test_no_authorization_header_is_401_and_changes_nothing(stack, method, url, body):
    queue = await create_queue(stack.http)
    await put_routing(stack.http, [rule("r", queue["id"], TELEGRAM)])
    before = await state(stack)
    kwargs = {} if body is None else {"json": _fill(body, queue["id"])}
    response = await send(stack, method, url.replace("{queue}", queue["id"]), None, **kwargs)
    assert_error(response, 401, "UNAUTHORIZED")
    assert await state(stack) == before


BAD_AUTHORIZATIONS = [
    pytest.param(lambda key: f"Bearer {key}", id="bearer scheme"),
    pytest.param(lambda key: f"app {key}", id="lowercase scheme"),
    pytest.param(lambda key: key, id="no scheme"),
    pytest.param(lambda key: f"App {keys.new_key()}", id="unknown key"),
    pytest.param(lambda key: f"App {key[:-1]}", id="truncated key"),
    pytest.param(lambda key: f"App {key}x", id="key with a suffix"),
    pytest.param(lambda key: f"App {key} {key}", id="key twice"),
    pytest.param(lambda key: "App ", id="empty key"),
    pytest.param(lambda key: "App", id="scheme alone"),
    pytest.param(lambda key: "", id="empty header"),
    pytest.param(lambda key: "App " + "k" * 20_000, id="huge key"),
]


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATIONS)
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [("GET", QUEUES, None), ("POST", QUEUES, {"name": "intruder"}), ("PUT", ROUTING, [])],
    ids=["list queues", "create queue", "put routing"],
)
async def test_a_bad_key_is_401_and_changes_nothing(stack, authorization, method, url, body):
    before = await state(stack)
    kwargs = {} if body is None else {"json": body}
    response = await send(stack, method, url, authorization(stack.supervisor_key), **kwargs)
    assert_error(response, 401, "UNAUTHORIZED")
    assert await state(stack) == before


async def test_a_disabled_key_is_401(stack):
    key = disabled_supervisor_key(stack)
    before = await state(stack)
    assert_error(await send(stack, "GET", QUEUES, f"App {key}"), 401, "UNAUTHORIZED")
    response = await send(stack, "POST", QUEUES, f"App {key}", json={"name": unique("q")})
    assert_error(response, 401, "UNAUTHORIZED")
    assert await state(stack) == before


async def test_auth_comes_before_the_body_is_parsed(stack):
    before = await state(stack)
    for authorization in [None, "App not-a-key"]:
        for method, url in [("POST", QUEUES), ("PUT", ROUTING), ("PUT", SETTINGS)]:
            response = await send(
                stack, method, url, authorization,
                content=b'{"name": "broken', headers={"Content-Type": "application/json"},
            )
            assert_error(response, 401, "UNAUTHORIZED")
    assert await state(stack) == before


@pytest.mark.parametrize("principal_type", ["AGENT", "BOT"])
async def test_a_known_key_without_the_right_is_403_and_changes_nothing(stack, principal_type):
    key = f"App {await principal_key(stack, principal_type)}"
    queue = await create_queue(stack.http)
    before = await state(stack)
    # Reading is everyone's right.
    for url in [QUEUES, f"{QUEUES}/{queue['id']}", ROUTING, SETTINGS, "/ccaas/1/routing/versions"]:
        response = await send(stack, "GET", url, key)
        assert response.status_code == 200, (url, response.text)
    # Changing queues, routing and settings is a supervisor's.
    for method, url, body in [
        ("POST", QUEUES, {"name": unique("q")}),
        ("PUT", f"{QUEUES}/{queue['id']}", {"name": unique("q")}),
        ("DELETE", f"{QUEUES}/{queue['id']}", None),
        ("PUT", ROUTING, [rule("r", queue["id"], TELEGRAM)]),
        ("DELETE", ROUTING, None),
        ("PUT", SETTINGS, {"defaultQueueId": queue["id"]}),
    ]:
        response = await send(stack, method, url, key, **({} if body is None else {"json": body}))
        assert_error(response, 403, "FORBIDDEN")
    assert await state(stack) == before


@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/docs", "/docs/assets/swagger-ui-bundle.js"])
async def test_health_and_documentation_need_no_key(stack, path):
    response = await send(stack, "GET", path, None)
    assert response.status_code == 200, response.text
    if path == "/health":
        assert response.json() == {"status": "UP"}
    if path == "/openapi.json":
        document = response.json()
        assert "/ccaas/1/queues" in document["paths"] and "/ccaas/1/routing" in document["paths"]


async def test_openapi_documents_no_framework_default_error(stack):
    document = (await send(stack, "GET", "/openapi.json", None)).json()
    operations = [op for path in document["paths"].values() for op in path.values()]
    statuses = {status for op in operations for status in op["responses"]}
    assert "422" not in statuses
    assert "HTTPValidationError" not in document.get("components", {}).get("schemas", {})


# --- errors with a valid key ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/ccaas/1/nowhere", "/ccaas/2/queues", "/ccaas/1/queues/a/b", "/", "/favicon.ico"]
)
async def test_unknown_path_is_404_in_the_error_shape(stack, path):
    assert_error(await stack.http.get(path), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PATCH", QUEUES),
        ("PUT", QUEUES),
        ("DELETE", QUEUES),
        ("POST", ROUTING),
        ("PATCH", ROUTING),
        ("DELETE", SETTINGS),
        ("POST", "/ccaas/1/routing/versions"),
        ("POST", "/health"),
    ],
)
async def test_wrong_method_is_405_in_the_error_shape(stack, method, url):
    before = await state(stack)
    response = await stack.http.request(method, url, json={"name": unique("q")})
    assert_error(response, 405, "BAD_REQUEST")
    assert "allow" in response.headers
    assert await state(stack) == before


async def test_405_allow_header_lists_every_method_of_the_resource(stack):
    response = await stack.http.patch(QUEUES)
    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers.get("allow", "").split(",")}
    assert {"GET", "POST"} <= allowed, response.headers.get("allow")


MALFORMED = [b'{"name": "unterminated', b"{name: 'single quotes'}", b"", b"\xff\xfe not utf-8", b"[1, 2,]"]


@pytest.mark.parametrize(
    "content", MALFORMED, ids=["unterminated", "not json", "empty", "bytes", "trailing comma"]
)
@pytest.mark.parametrize(("method", "url"), [("POST", QUEUES), ("PUT", ROUTING), ("PUT", SETTINGS)])
async def test_malformed_json_is_400_at_body(stack, content, method, url):
    before = await state(stack)
    response = await stack.http.request(
        method, url, content=content, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "BAD_REQUEST", "body")
    assert await state(stack) == before


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        pytest.param("POST", QUEUES, [{"name": "in a list"}], "body", id="array for a queue"),
        pytest.param("POST", QUEUES, "Front desk", "body", id="string for a queue"),
        pytest.param("POST", QUEUES, None, "body", id="null for a queue"),
        pytest.param("PUT", SETTINGS, [], "body", id="array for settings"),
        pytest.param("PUT", ROUTING, {"name": "one rule"}, "body", id="object for routing"),
        pytest.param("PUT", ROUTING, [["not", "a", "rule"]], "[0]", id="array of arrays for routing"),
        pytest.param("POST", CONVERSATIONS, [1], "body", id="array for a conversation"),
    ],
)
async def test_json_of_the_wrong_kind_is_400(stack, method, url, body, field):
    before = await state(stack)
    response = await stack.http.request(method, url, json=body)
    assert_error(response, 400, "BAD_REQUEST", field)
    assert await state(stack) == before


async def test_a_body_that_is_not_declared_json_is_400(stack):
    before = await state(stack)
    response = await stack.http.post(
        QUEUES, content=json.dumps({"name": unique("q")}), headers={"Content-Type": "text/plain"}
    )
    assert_error(response, 400, "BAD_REQUEST")
    assert await state(stack) == before


async def test_deeply_nested_json_is_400_not_a_crash(stack):
    before = await state(stack)
    nested = b"[" * 100_000 + b"]" * 100_000
    for method, url in [("PUT", ROUTING), ("POST", QUEUES)]:
        response = await stack.http.request(
            method, url, content=nested, headers={"Content-Type": "application/json"}
        )
        assert_error(response, 400, "BAD_REQUEST")
    assert await state(stack) == before


HUGE = "x" * 1_000_000


@pytest.mark.parametrize(
    ("method", "url", "make_body", "field"),
    [
        pytest.param("POST", QUEUES, lambda q: {"name": HUGE}, "name", id="queue name"),
        pytest.param(
            "POST", QUEUES, lambda q: {"name": "ok", "externalId": HUGE}, "externalId", id="externalId"
        ),
        pytest.param("PUT", f"{QUEUES}/{{queue}}", lambda q: {"name": HUGE}, "name", id="queue rename"),
        pytest.param("PUT", ROUTING, lambda q: [rule(HUGE, q, TELEGRAM)], "[0].name", id="rule name"),
        pytest.param(
            "PUT",
            ROUTING,
            lambda q: [rule("r", q, {"$eq": {"message.channel": HUGE}})],
            "[0].expression.$eq",
            id="expression value",
        ),
        pytest.param("PUT", SETTINGS, lambda q: {"defaultQueueId": HUGE}, "defaultQueueId", id="settings"),
        pytest.param("POST", CONVERSATIONS, lambda q: {"topic": HUGE}, "topic", id="conversation topic"),
    ],
)
async def test_a_huge_string_is_400_at_its_field(stack, method, url, make_body, field):
    queue = await create_queue(stack.http)
    before = await state(stack)
    url = url.replace("{queue}", queue["id"])
    response = await stack.http.request(method, url, json=make_body(queue["id"]))
    exception = assert_error(response, 400, "BAD_REQUEST", field)
    # The message names the limit; it does not echo the megabyte back.
    assert len(json.dumps(exception)) < 10_000
    assert await state(stack) == before


async def test_unknown_ids_are_404_in_the_error_shape(stack):
    missing = "00000000-0000-0000-0000-000000000000"
    for method, url in [
        ("GET", f"{QUEUES}/{missing}"),
        ("PUT", f"{QUEUES}/{missing}"),
        ("DELETE", f"{QUEUES}/{missing}"),
        ("GET", f"{CONVERSATIONS}/{missing}"),
        ("GET", "/ccaas/1/routing/versions/7"),
    ]:
        kwargs = {"json": {"name": unique("q")}} if method == "PUT" else {}
        assert_error(await stack.http.request(method, url, **kwargs), 404, "NOT_FOUND")


async def test_a_body_too_large_is_413_in_the_error_shape(stack):
    before = await state(stack)
    response = await stack.http.post(QUEUES, content=b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}',
                                     headers={"Content-Type": "application/json"})
    assert_error(response, 413, "BAD_REQUEST")
    assert await state(stack) == before


async def test_a_streamed_body_without_a_length_is_411_in_the_error_shape(stack):
    async def chunks():
        yield b'{"name": "streamed"}'

    before = await state(stack)
    response = await stack.http.post(QUEUES, content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(response, 411, "BAD_REQUEST")
    assert await state(stack) == before
