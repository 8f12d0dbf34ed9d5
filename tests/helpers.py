"""Small helpers the integration tests share: API calls and error-shape assertions."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from services.loops import PassLoop


def unique(prefix: str) -> str:
    """Names and external ids that never collide across tests on the shared Temporal server."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def assert_error(
    response: httpx.Response, status: int, message_id: str, field: str | None = None
) -> dict[str, Any]:
    """The spec's error shape, with the field named when one is expected."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"requestError"}, body
    exception = body["requestError"]["serviceException"]
    assert exception["messageId"] == message_id, body
    assert isinstance(exception["text"], str) and exception["text"]
    if field is not None:
        assert field in exception.get("validationErrors", {}), body
    return exception


async def create_queue(http: httpx.AsyncClient, name: str | None = None, **fields: Any) -> dict:
    response = await http.post("/ccaas/1/queues", json={"name": name or unique("queue"), **fields})
    assert response.status_code == 201, response.text
    return response.json()


def rule(name: str, queue_id: str, expression: Any, **fields: Any) -> dict[str, Any]:
    return {"name": name, "queueId": queue_id, "expression": expression, **fields}


async def put_routing(http: httpx.AsyncClient, rules: list[dict[str, Any]]) -> dict:
    response = await http.put("/ccaas/1/routing", json=rules)
    assert response.status_code == 200, response.text
    return response.json()


async def create_conversation(http: httpx.AsyncClient, **fields: Any) -> dict:
    response = await http.post("/ccaas/1/conversations", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def wait_for(
    condition: Callable[[], Awaitable[Any]], timeout: float = 30.0, interval: float = 0.1
) -> Any:
    """Polls until the condition returns something truthy, or fails at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = await condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


async def dispatcher_passed(dispatcher: PassLoop, timeout: float = 30.0) -> None:
    """Returns once a dispatcher pass begun after this call has run to its end and every claim
    it made has been told (and assigned, projected, or refused): what the dispatcher would
    assign after what the test did is assigned now. Before it, "not assigned" proves nothing.
    The dispatcher is woken, as a projection would, so that the pass comes at once."""
    before = dispatcher.passes_begun
    dispatcher.wake()

    async def passed() -> bool:
        return dispatcher.last_completed_pass > before and not dispatcher.busy

    await wait_for(passed, timeout=timeout, interval=0.02)
