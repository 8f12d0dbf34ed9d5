"""Switchboard as a user starts it: `switchboard api`, `switchboard worker` and `switchboard
courier` processes on one database. An Infobip client's PUT of a fetched conversation and a PATCH naming several
fields answered 500 there (the worker could not decode the workflow's `Edit`), while the suite,
which drove a stricter sandbox in process, passed. And a webhook crosses the processes: the
worker writes the conversation's events, the courier (woken by the feed, not by a call) posts
them."""

from __future__ import annotations

import json
import secrets

import httpx
import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client

from store.bootstrap import bootstrap
from tests.helpers import create_conversation, create_queue, unique, wait_for
from tests.processes import healthy, switchboard_processes
from tests.webhook_receiver import running_receiver

pytestmark = pytest.mark.integration
C = "/ccaas/1/conversations"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_put_of_a_fetched_conversation_and_a_patch_of_several_fields_as_deployed(
    engine: Engine, database_url: str, temporal_client: Client,
):
    key = secrets.token_urlsafe(32)
    bootstrap(engine, key)
    with switchboard_processes(database_url, temporal_client, key, apis=1, workers=1, couriers=1,
                               SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE="1") as running:
        async with httpx.AsyncClient(base_url=running.api_urls[0], timeout=60,
                                     headers={"Authorization": f"App {key}"}) as http, running_receiver() as receiver:
            await wait_for(lambda: healthy(http), timeout=60)
            subscribed = await http.post("/ccaas/1/webhooks", json={
                "url": receiver.url, "eventTypes": ["conversation.created"]})
            assert subscribed.status_code == 201, subscribed.text
            queue = await create_queue(http)
            agent = await http.post("/ccaas/1/agents", json={"displayName": unique("agent"), "role": "AGENT"})
            assert agent.status_code == 201, agent.text
            conversation = await create_conversation(http, queueId=queue["id"], agentId=agent.json()["id"])

            fetched = (await http.get(f"{C}/{conversation['id']}")).json()
            put = await http.put(f"{C}/{conversation['id']}", json={**fetched, "topic": "ported again"})
            assert put.status_code == 200, put.text
            assert (put.json()["topic"], put.json()["agentId"]) == ("ported again", agent.json()["id"])

            patched = await http.patch(f"{C}/{conversation['id']}",
                                       json={"topic": "billing", "summary": "card declined", "priority": "HIGH"})
            assert patched.status_code == 200, patched.text
            again = (await http.get(f"{C}/{conversation['id']}")).json()
            assert (again["topic"], again["summary"], again["priority"]) == ("billing", "card declined", "HIGH")

            async def created_event_arrived() -> bool:
                bodies = [json.loads(item.body) for item in receiver.received]
                return any(body["data"]["conversation"]["id"] == conversation["id"] for body in bodies)

            await wait_for(created_event_arrived, timeout=30)
