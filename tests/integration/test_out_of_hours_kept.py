"""Out of hours, what it must leave alone: a conversation an agent keeps (moved into a closed
queue, or created with an agent) is the agent's, not answered or closed by the hours; the
customer's message a conversation was opened for is kept though the opening closed it out of
hours; and an auto-reply is stored only with both addresses known."""

from __future__ import annotations

from typing import Any

from tests.conftest import Stack
from tests.helpers import create_conversation, create_queue, unique
from tests.integration.test_out_of_hours import NEVER, SMS, events, hours, messages

C = "/ccaas/1/conversations"
A = "/ccaas/1/agents"


async def member_of(stack: Stack, queue_ids: list[str]) -> dict[str, Any]:
    created = await stack.http.post(A, json={"displayName": unique("agent"), "status": "ACTIVE", "role": "AGENT"})
    assert created.status_code == 201, created.text
    agent = created.json()
    for queue_id in queue_ids:
        joined = await stack.http.post(f"{A}/{agent['id']}/queues", json={"queueId": queue_id})
        assert joined.status_code == 200, joined.text
    return agent


async def test_an_assigned_conversation_moved_into_a_closed_queue_stays_with_its_agent(stack: Stack):
    closing = await hours(stack.http, NEVER, closeConversations=True)
    day = await create_queue(stack.http)
    night = await create_queue(stack.http, workingHoursId=closing["id"])
    agent = await member_of(stack, [day["id"], night["id"]])
    conversation = await create_conversation(stack.http, queueId=day["id"], **SMS)
    assigned = await stack.http.put(f"{C}/{conversation['id']}/assignee", json={"agentId": agent["id"]})
    assert assigned.status_code == 200, assigned.text

    moved = await stack.http.patch(f"{C}/{conversation['id']}", json={"queueId": night["id"]})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["queueId"], moved.json()["status"], moved.json()["agentId"]) == (
        night["id"], "OPEN", agent["id"])
    timeline = [event["type"] for event in await events(stack.http, conversation["id"])]
    assert timeline[-2:] == ["ASSIGNED", "REROUTED"] and "OUT_OF_HOURS" not in timeline
    assert await messages(stack.http, conversation["id"]) == []
