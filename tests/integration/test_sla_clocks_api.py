"""SLA clocks end to end (SQLite: the clocks are the workflow's, the column a JSON like any
other): a policy created over HTTP gives a matching conversation its `sla`, and its real
workflow warns and breaches on durable timers, applying onBreach, with the events in the feed
webhooks and the stream read; an edit of the policy leaves started clocks be."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from store.db import session_scope
from store.events_out import Cursor, read_after
from tests.conftest import Stack
from tests.databases import copy_sqlite_file
from tests.helpers import create_conversation, create_queue, wait_for
from tests.integration.test_event_stream import agent_with_key
from tests.integration.test_queues_api import parse_time

pytestmark = pytest.mark.integration

C = "/ccaas/1/conversations"
SLA = "/ccaas/1/sla-policies"


@pytest.fixture
def database_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    return copy_sqlite_file(migrated_sqlite, tmp_path / "switchboard.db")


def feed_types(stack: Stack, conversation_id: str) -> list[str]:
    with session_scope(stack.engine) as session:
        return [row.type for row in read_after(session, Cursor(), 10_000) if row.conversation_id == conversation_id]


async def test_a_policy_gives_a_conversation_clocks_that_warn_breach_and_apply_on_breach(stack: Stack):
    http = stack.http
    urgent = await create_queue(http)
    front = await create_queue(http)
    policy = {"name": "telegram", "expression": {"$eq": {"message.channel": "TELEGRAM"}},
              "firstResponseSeconds": 2, "resolutionSeconds": 3600, "warnBeforeSeconds": 1,
              "onBreach": {"priority": "URGENT", "queueId": urgent["id"]}}
    created = await http.post(SLA, json=policy)
    assert created.status_code == 201, created.text
    conversation = await create_conversation(http, channel="TELEGRAM", queueId=front["id"])
    other = await create_conversation(http, channel="SMS", queueId=front["id"])
    assert other["sla"] is None
    sla = conversation["sla"]
    assert sla["policyId"] == created.json()["id"]
    assert sla["firstResponse"]["status"] == sla["resolution"]["status"] == "ACTIVE"
    started = parse_time(conversation["createdAt"])
    first_due = parse_time(sla["firstResponse"]["dueAt"])
    assert timedelta(seconds=2) <= first_due - started < timedelta(seconds=3)
    # Clocks started keep the terms they started with.
    edited = await http.put(f"{SLA}/{created.json()['id']}", json={**policy, "firstResponseSeconds": 3600})
    assert edited.status_code == 200, edited.text

    async def breached() -> list[dict]:
        events = (await http.get(f"{C}/{conversation['id']}/events")).json()["events"]
        return [event for event in events if event["type"] in ("SLA_WARNING", "SLA_BREACHED")]

    async def both() -> list[dict]:
        found = await breached()
        return found if len(found) == 2 else []

    warning, breach = await wait_for(both, timeout=20)
    assert (warning["clock"], breach["clock"]) == ("firstResponse", "firstResponse")
    assert parse_time(warning["dueAt"]) == parse_time(breach["dueAt"]) == first_due
    assert 0 <= (parse_time(breach["at"]) - first_due).total_seconds() < 1
    assert (breach["toQueueId"], breach["priority"]) == (urgent["id"], "URGENT")
    after = (await http.get(f"{C}/{conversation['id']}")).json()
    assert (after["queueId"], after["priority"]) == (urgent["id"], "URGENT")
    assert after["sla"]["firstResponse"]["status"] == "BREACHED"
    assert after["sla"]["resolution"]["status"] == "ACTIVE"

    async def published() -> list[str]:
        types = await asyncio.to_thread(feed_types, stack, conversation["id"])
        return types if "conversation.sla_breached" in types else []

    types = await wait_for(published)
    assert types.count("conversation.sla_warning") == types.count("conversation.sla_breached") == 1


async def test_the_first_agent_reply_meets_first_response_and_a_supervisors_does_not(stack: Stack):
    http = stack.http
    front = await create_queue(http)
    policy = {"name": "all", "expression": {"$exists": {"conversation.queueId": True}}, "firstResponseSeconds": 3600}
    assert (await http.post(SLA, json=policy)).status_code == 201
    agent, key = await agent_with_key(stack, front["id"])
    conversation = await create_conversation(http, queueId=front["id"], agentId=agent)
    reply = {"channel": "SMS", "from": "bank", "to": "+385911234567", "contentType": "TEXT",
             "content": {"text": "on it"}}
    assert (await http.post(f"{C}/{conversation['id']}/messages", json=reply)).status_code == 201
    assert (await http.get(f"{C}/{conversation['id']}")).json()["sla"]["firstResponse"]["status"] == "ACTIVE"
    as_agent = {"Authorization": f"App {key}"}
    answered = await http.post(f"{C}/{conversation['id']}/messages", json=reply, headers=as_agent)
    assert answered.status_code == 201, answered.text
    after = (await http.get(f"{C}/{conversation['id']}")).json()
    assert after["sla"]["firstResponse"]["status"] == "MET"
    events = (await http.get(f"{C}/{conversation['id']}/events")).json()["events"]
    assert [(event["clock"], event["actor"]["id"]) for event in events if event["type"] == "SLA_MET"] == [
        ("firstResponse", agent)]
