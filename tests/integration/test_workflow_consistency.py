"""Racing changes leave a conversation consistent, and a long conversation continues as new
without losing any of its timeline."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.client import WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from domain.conversation import workflow_id
from store.bootstrap import bootstrap
from store.db import session_scope
from store.tables import ConversationEventRow
from switchboard.worker import build_worker
from tests.conftest import Stack
from tests.helpers import create_conversation, create_queue, put_routing, rule, unique
from workflows import search_attributes
from workflows.conversation import ConversationWorkflow


def stored_events(engine: Engine, conversation_id: str) -> list[dict]:
    with session_scope(engine) as session:
        rows = session.exec(
            select(ConversationEventRow)
            .where(ConversationEventRow.conversation_id == conversation_id)
            .order_by(ConversationEventRow.seq)
        ).all()
        return [row.body for row in rows]


async def test_racing_reroutes_and_a_bot_report_leave_one_event_per_effective_change(stack: Stack):
    bot = (await stack.http.post("/ccaas/1/bots", json={"displayName": "bot"})).json()
    queue_a, queue_b = await create_queue(stack.http), await create_queue(stack.http)
    bot_queue = await create_queue(stack.http, unique("bot queue"), botId=bot["id"])
    await put_routing(stack.http, [rule("strong", queue_b["id"], {"$eq": {"conversation.authentication": "STRONG"}})])
    conversation = await create_conversation(stack.http, queueId=bot_queue["id"])
    cid = conversation["id"]

    async with httpx.AsyncClient(
        transport=stack.http._transport, base_url=stack.http.base_url,
        headers={"Authorization": f"App {bot['apiKey']}"},
    ) as bot_http:
        requests = [
            stack.http.patch(f"/ccaas/1/conversations/{cid}", json={"queueId": queue["id"]})
            for queue in [queue_a, queue_b] * 6
        ]
        requests.insert(3, bot_http.post(f"/ccaas/1/conversations/{cid}/authentication",
                                         json={"status": "SUCCEEDED"}))
        responses = await asyncio.gather(*requests)

    assert all(r.status_code in (200, 409) for r in responses), [r.text for r in responses]
    state = await stack.temporal.get_workflow_handle(workflow_id(cid)).query(ConversationWorkflow.conversation)
    events = [event.model_dump(mode="json") for event in state.events]

    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    # Each move starts where the previous one left the conversation.
    moves = [e for e in events if e["type"] in ("ROUTED", "REROUTED")]
    for before, after in zip(moves, moves[1:]):
        assert after["from_queue_id"] == before["to_queue_id"] != after["to_queue_id"]
    assert moves[-1]["to_queue_id"] == state.queue_id
    assert state.bot_wait is None

    # The store holds exactly the workflow's events, once each, and the same final state.
    assert stored_events(stack.engine, cid) == events
    row = (await stack.http.get(f"/ccaas/1/conversations/{cid}")).json()
    assert (row["queueId"], row["authentication"]) == (state.queue_id, state.authentication.value)


async def test_a_long_conversation_continues_as_new_and_keeps_its_whole_timeline(engine: Engine):
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        search_attributes=search_attributes.ALL,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        dev_server_extra_args=["--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=40"],
    )
    try:
        key = bootstrap(engine)
        task_queue = f"can-{uuid.uuid4()}"
        app = create_app(engine, env.client, task_queue)
        async with build_worker(env.client, engine, task_queue), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://switchboard.test",
            headers={"Authorization": f"App {key}"},
        ) as http:
            conversation = await create_conversation(http)
            cid = conversation["id"]
            for i in range(30):
                response = await http.post(f"/ccaas/1/conversations/{cid}/tags", json={"tagName": f"t{i}"})
                assert response.status_code == 200, response.text

            runs = [run async for run in env.client.list_workflows(f"WorkflowId = '{workflow_id(cid)}'")]
            assert len(runs) >= 2, "the workflow never continued as new"
            assert sum(r.status == WorkflowExecutionStatus.CONTINUED_AS_NEW for r in runs) == len(runs) - 1

            events = (await http.get(f"/ccaas/1/conversations/{cid}/events")).json()["events"]
            assert [e["seq"] for e in events] == list(range(1, 33))
            assert [e["type"] for e in events] == ["CREATED", "ROUTED"] + ["TAGGED"] * 30
            assert stored_events(engine, cid)[-1]["seq"] == 32
            closed = await http.patch(f"/ccaas/1/conversations/{cid}", json={"status": "CLOSED"})
            assert closed.status_code == 200 and len(closed.json()["tags"]) == 30
    finally:
        await env.shutdown()
