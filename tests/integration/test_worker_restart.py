"""A worker killed in the middle of routing loses no conversation: Temporal retries the work
on the next worker, and the idempotent projection writes each event once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.client import Client

from store.bootstrap import bootstrap
from store.db import session_scope
from store.tables import ConversationEventRow, ConversationRow
from switchboard.composition import api_app
from switchboard.settings import Settings
from tests.helpers import create_queue, put_routing, rule, wait_for
from tests.settings import stack_variables

CONVERSATIONS = 24


def start_worker(variables: dict[str, str]) -> subprocess.Popen:
    """`switchboard worker` in a process of its own (so that it can be killed), from `variables`."""
    env = {**os.environ, **variables}
    return subprocess.Popen(
        [sys.executable, "-m", "switchboard.cli", "worker"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def projected_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return len(session.exec(select(ConversationRow.id)).all())


async def test_killing_the_worker_mid_routing_loses_no_conversation(
    engine: Engine, database_url: str, temporal_client: Client
):
    key = bootstrap(engine)
    # The API and the workers read the same variables.
    variables = stack_variables(database_url, f"restart-{uuid.uuid4()}",
                                SWITCHBOARD_TEMPORAL_ADDRESS=temporal_client.service_client.config.target_host)
    # What is asserted is that nothing is lost or doubled. How soon the new worker takes over is
    # Temporal's timeouts (a killed worker's routing or projection attempt runs out after 10 s,
    # then is retried) plus its start; on a loaded CI machine that once passed the API's 20 s,
    # and the create answered 503 ("accepted but not routed in time"), as documented.
    app = api_app(Settings.from_env(variables), engine, temporal_client, update_deadline=60.0)
    first_worker = start_worker(variables)
    second_worker = None
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://switchboard.test",
            headers={"Authorization": f"App {key}"},
            timeout=60,
        ) as http:
            queue = await create_queue(http)
            await put_routing(http, [rule("sms", queue["id"], {"$eq": {"message.channel": "SMS"}}, priority="HIGH")])
            creates = [
                asyncio.create_task(http.post("/ccaas/1/conversations", json={"channel": "SMS"}))
                for _ in range(CONVERSATIONS)
            ]
            # Kill as soon as the first conversation is through: the rest are in flight.
            await wait_for(lambda: asyncio.to_thread(projected_count, engine), timeout=60)
            first_worker.send_signal(signal.SIGKILL)
            first_worker.wait()
            assert projected_count(engine) < CONVERSATIONS, "the kill came too late to test anything"
            second_worker = start_worker(variables)

            responses = await asyncio.gather(*creates)
            assert [r.status_code for r in responses] == [201] * CONVERSATIONS, [
                r.text for r in responses if r.status_code != 201
            ]
            assert {(r.json()["queueId"], r.json()["priority"]) for r in responses} == {
                (queue["id"], "HIGH")
            }
            ids = {r.json()["id"] for r in responses}
            assert len(ids) == CONVERSATIONS

        with session_scope(engine) as session:
            rows = session.exec(select(ConversationRow.id)).all()
            events = session.exec(
                select(ConversationEventRow.conversation_id, ConversationEventRow.type)
            ).all()
        assert set(rows) == ids
        # Exactly one CREATED and one ROUTED per conversation: no retry wrote an event twice.
        assert Counter(events) == Counter(
            {(cid, kind): 1 for cid in ids for kind in ("CREATED", "ROUTED")}
        )
    finally:
        for worker in (first_worker, second_worker):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
