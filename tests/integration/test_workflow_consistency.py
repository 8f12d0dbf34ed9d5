"""Racing changes leave a conversation consistent, and a long conversation continues as new
without losing any of its timeline."""

from __future__ import annotations

import asyncio
import itertools
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from contract.conversations import EventOut
from domain.conversation import workflow_id
from store.bootstrap import bootstrap
from store.db import make_engine, session_scope
from store.tables import ConversationEventRow
from switchboard.composition import api_app, worker_process
from switchboard.temporal import DATA_CONVERTER
from tests.conftest import Stack
from tests.helpers import create_conversation, create_queue, put_routing, rule, unique
from tests.settings import stack_settings
from workflows import search_attributes
from workflows.conversation import ConversationWorkflow


def stored_events(engine: Engine, conversation_id: str) -> list[dict]:
    with session_scope(engine) as session:
        rows = session.exec(
            select(ConversationEventRow)
            .where(ConversationEventRow.conversation_id == conversation_id)
            .order_by(col(ConversationEventRow.seq))
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
    events = stored_events(stack.engine, cid)

    assert [e["seq"] for e in events] == list(range(1, state.last_seq + 1))
    # Each move starts where the previous one left the conversation.
    moves = [e for e in events if e["type"] in ("ROUTED", "REROUTED")]
    for before, after in itertools.pairwise(moves):
        assert after["from_queue_id"] == before["to_queue_id"] != after["to_queue_id"]
    assert moves[-1]["to_queue_id"] == state.queue_id
    assert state.bot_wait is None

    # The store holds every event, once each, and the workflow's final state.
    assert (await stack.http.get(f"/ccaas/1/conversations/{cid}/events")).json()["events"] == [
        EventOut.model_validate(event).model_dump(by_alias=True) for event in events
    ]
    row = (await stack.http.get(f"/ccaas/1/conversations/{cid}")).json()
    assert (row["queueId"], row["authentication"]) == (state.queue_id, state.authentication.value)


# A fixed bound on what continue-as-new carries, whatever the conversation's length.
CARRIED_STATE_LIMIT = 64 * 1024


async def carried_input_sizes(client, cid: str) -> list[int]:
    """The size of each run's input: what the run before it carried over by continue-as-new."""
    runs = [run async for run in client.list_workflows(f"WorkflowId = '{workflow_id(cid)}'")]
    sizes = []
    for run in runs:
        history = await client.get_workflow_handle(run.id, run_id=run.run_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        sizes.append(sum(payload.ByteSize() for payload in started.input.payloads))
    return sizes


@asynccontextmanager
async def dispose_after(engine: Engine) -> AsyncIterator[None]:
    try:
        yield
    finally:
        engine.dispose()


@asynccontextmanager
async def stack_continuing_as_new_after(
    events: int, engine: Engine, database_url: str
) -> AsyncIterator[tuple[Client, httpx.AsyncClient]]:
    """The API and a worker on a Temporal server of their own that suggests continue-as-new
    once a run's history holds `events` events."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        search_attributes=search_attributes.ALL,
        data_converter=DATA_CONVERTER,
        dev_server_log_level="error",
        dev_server_extra_args=["--dynamic-config-value", f"limit.historyCount.suggestContinueAsNew={events}"],
    )
    try:
        key = bootstrap(engine)
        settings = stack_settings(database_url, f"can-{uuid.uuid4()}")
        app = api_app(settings, engine, env.client)
        async with worker_process(settings, engine, env.client), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://switchboard.test",
            headers={"Authorization": f"App {key}"},
        ) as http:
            yield env.client, http
    finally:
        await env.shutdown()


async def test_a_conversation_of_500_changes_continues_as_new_with_a_bounded_state(tmp_path: Path):
    # What it proves is the workflow's (its carried state stays bounded), whatever the store:
    # SQLite only, as the PostgreSQL variant took another 30 s and proved nothing more.
    database_url = f"sqlite:///{tmp_path / 'switchboard.db'}"
    engine = make_engine(database_url)
    async with stack_continuing_as_new_after(200, engine, database_url) as (client, http), dispose_after(engine):
        # Every rule is tried and traced on each routing: the events that weigh most.
        queue_a, queue_b = await create_queue(http), await create_queue(http)
        await put_routing(http, [rule(f"rule {n}", queue_a["id"], {"$eq": {"message.channel": "FAX"}})
                                 for n in range(120)])
        cid = (await create_conversation(http, channel="SMS"))["id"]
        changes = [
            ("PATCH", {"priority": "HIGH"}), ("PATCH", {"queueId": queue_a["id"], "reason": "x" * 500}),
            ("POST", None), ("PATCH", {"priority": "LOW", "topic": "t" * 255}),
            ("PATCH", {"queueId": queue_b["id"]}),
        ]
        for index in range(500):
            method, body = changes[index % len(changes)]
            if method == "POST":
                response = await http.post(f"/ccaas/1/conversations/{cid}/route")
            else:
                response = await http.patch(f"/ccaas/1/conversations/{cid}", json=body)
            assert response.status_code == 200, response.text

        sizes = await carried_input_sizes(client, cid)
        assert len(sizes) >= 3, "the workflow never continued as new"
        assert max(sizes[1:]) < CARRIED_STATE_LIMIT, sizes

        events = (await http.get(f"/ccaas/1/conversations/{cid}/events")).json()["events"]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert len(events) > 500
        assert sum(len(e["trace"] or []) for e in events if e["type"] == "ROUTED") > 100 * 100


async def test_a_long_conversation_continues_as_new_and_keeps_its_whole_timeline(engine: Engine, database_url: str):
    async with stack_continuing_as_new_after(40, engine, database_url) as (client, http):
        conversation = await create_conversation(http)
        cid = conversation["id"]
        for i in range(30):
            response = await http.post(f"/ccaas/1/conversations/{cid}/tags", json={"tagName": f"t{i}"})
            assert response.status_code == 200, response.text

        runs = [run async for run in client.list_workflows(f"WorkflowId = '{workflow_id(cid)}'")]
        assert len(runs) >= 2, "the workflow never continued as new"
        assert sum(r.status == WorkflowExecutionStatus.CONTINUED_AS_NEW for r in runs) == len(runs) - 1

        events = (await http.get(f"/ccaas/1/conversations/{cid}/events")).json()["events"]
        assert [e["seq"] for e in events] == list(range(1, 33))
        assert [e["type"] for e in events] == ["CREATED", "ROUTED"] + ["TAGGED"] * 30
        assert stored_events(engine, cid)[-1]["seq"] == 32
        closed = await http.patch(f"/ccaas/1/conversations/{cid}", json={"status": "CLOSED"})
        assert closed.status_code == 200 and len(closed.json()["tags"]) == 30
