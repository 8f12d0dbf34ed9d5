"""Reads come from the store: a conversation and its timeline stay readable with no worker
and after Temporal has dropped its history; a change no worker answers is a clean 503."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest_asyncio
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from store.bootstrap import bootstrap
from switchboard.composition import api_app, worker_process
from switchboard.settings import Settings
from switchboard.temporal import DATA_CONVERTER
from tests.conftest import TEMPORAL_BINARY
from tests.helpers import assert_error, create_conversation, create_queue, put_routing, rule, unique, wait_for
from tests.settings import stack_settings
from workflows import search_attributes

C = "/ccaas/1/conversations"
# Short, so a test sees the 503 quickly; the deployed default is 20 s.
UPDATE_DEADLINE = 2.0


@dataclass
class StackWithoutWorker:
    """The API in process; the worker runs only where a test starts one."""

    http: httpx.AsyncClient
    temporal: Client
    engine: Engine
    settings: Settings

    def worker(self):
        return worker_process(self.settings, self.engine, self.temporal)


@pytest_asyncio.fixture
async def stack(engine: Engine, database_url: str, temporal_client: Client) -> AsyncIterator[StackWithoutWorker]:
    key = bootstrap(engine)
    settings = stack_settings(database_url, f"test-{uuid.uuid4()}")
    app = api_app(settings, engine, temporal_client, update_deadline=UPDATE_DEADLINE)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://switchboard.test",
        headers={"Authorization": f"App {key}"},
    ) as http:
        yield StackWithoutWorker(http, temporal_client, engine, settings)


async def test_the_timeline_is_read_from_the_store_with_no_worker_and_no_temporal(engine: Engine, database_url: str):
    """With its own Temporal server, stopped halfway: as during an outage, or once retention
    has dropped a closed conversation's history."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL_BINARY), search_attributes=search_attributes.ALL,
        data_converter=DATA_CONVERTER, dev_server_log_level="error",
    )
    key, settings = bootstrap(engine), stack_settings(database_url, f"test-{uuid.uuid4()}")
    app = api_app(settings, engine, env.client)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://switchboard.test",
        headers={"Authorization": f"App {key}"},
    ) as http:
        try:
            async with worker_process(settings, engine, env.client):
                sms = await create_queue(http)
                await put_routing(http, [rule("sms", sms["id"], {"$and": [
                    {"$eq": {"message.channel": "SMS"}}, {"$contains": {"message.content": "hell"}},
                ]})])
                conversation = await create_conversation(
                    http, channel="SMS", message={"content": "hello"},
                    customer={"identifier": "+385911234567", "type": "PHONE"},
                )
                cid = conversation["id"]
                changed = await http.patch(f"{C}/{cid}", json={"priority": "HIGH", "topic": "Refund"})
                assert changed.status_code == 200, changed.text
                closed = await http.patch(f"{C}/{cid}", json={"status": "CLOSED"})
                assert closed.status_code == 200, closed.text
                with_worker = {path: (await http.get(f"{C}/{cid}{path}")).json()
                               for path in ("", "/events", "/simulate-routing")}
        finally:
            await env.shutdown()

        # No worker, no Temporal: reads answer all the same.
        for path, before in with_worker.items():
            response = await http.get(f"{C}/{cid}{path}")
            assert response.status_code == 200, response.text
            assert response.json() == before
        listed = (await http.get(C, params={"conversationIds": cid})).json()
        assert [c["id"] for c in listed["conversations"]] == [cid]
        # What needs Temporal says so cleanly, once the client's own retries give up.
        refused = await http.get(f"{C}/{cid}/workflow-history")
        assert_error(refused, 503, "GENERAL_ERROR")
        assert refused.headers["Retry-After"].isdigit()

    types = [event["type"] for event in with_worker["/events"]["events"]]
    assert types == ["CREATED", "ROUTED", "UPDATED", "PRIORITY_CHANGED", "CLOSED"]
    # The dry run sees the facts the workflow routed with, its first message included.
    assert with_worker["/simulate-routing"]["queueId"] == sms["id"]
    assert with_worker["/simulate-routing"]["routeId"] is not None


async def test_a_change_no_worker_answers_is_a_503_and_is_applied_once_or_not_at_all(
    stack: StackWithoutWorker,
):
    async with stack.worker():
        cid = (await create_conversation(stack.http))["id"]

    refused = await stack.http.patch(f"{C}/{cid}", json={"priority": "URGENT", "reason": "vip"})
    error = assert_error(refused, 503, "GENERAL_ERROR")
    assert "applied once" in error["text"]
    assert refused.headers["Retry-After"].isdigit()
    # The store still shows the conversation as it was: nothing was half-written.
    assert (await stack.http.get(f"{C}/{cid}")).json()["priority"] == "NORMAL"

    async with stack.worker():
        # Temporal kept the update: once a worker is back it is applied, once.
        async def priority_changes() -> list[dict]:
            events = (await stack.http.get(f"{C}/{cid}/events")).json()["events"]
            return [event for event in events if event["type"] == "PRIORITY_CHANGED"]

        applied = await wait_for(priority_changes)
        assert len(applied) == 1 and applied[0]["priority"] == "URGENT"
        assert applied[0]["reason"] == "vip"
        # The client's retry after Retry-After changes nothing more.
        again = await stack.http.patch(f"{C}/{cid}", json={"priority": "URGENT", "reason": "vip"})
        assert again.status_code == 200, again.text
        assert again.json()["priority"] == "URGENT"
        assert await priority_changes() == applied


async def test_a_create_no_worker_answers_is_a_503_and_the_conversation_is_routed_later(
    stack: StackWithoutWorker,
):
    external_id = unique("held-create")  # the workflow id derives from it: one per test
    refused = await stack.http.post(C, json={"channel": "SMS", "externalId": external_id})
    error = assert_error(refused, 503, "GENERAL_ERROR")
    assert refused.headers["Retry-After"].isdigit()
    cid = error["text"].split()[1]
    async with stack.worker():
        async def routed() -> dict | None:
            response = await stack.http.get(f"{C}/{cid}")
            return response.json() if response.status_code == 200 else None

        conversation = await wait_for(routed)
        assert conversation["queueId"] is not None
        # The client's retry finds the same conversation, not a second one.
        again = await stack.http.post(C, json={"channel": "SMS", "externalId": external_id})
        assert again.status_code == 200 and again.json()["id"] == cid
