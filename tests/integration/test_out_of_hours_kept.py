"""Out of hours, what it must leave alone: a conversation an agent keeps (moved into a closed
queue, or created with an agent) is the agent's, not answered or closed by the hours; the
customer's message a conversation was opened for is kept though the opening closed it out of
hours; and an auto-reply is stored only with both addresses known."""

from __future__ import annotations

from typing import Any

import pytest

from api import messages as messages_api
from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue
from tests.integration.test_assignment_api import new_agent
from tests.integration.test_out_of_hours import NEVER, REPLY, SMS, events, hours, messages, routed_to
from workflows.conversation import ConversationWorkflow

C = "/ccaas/1/conversations"
INBOUND = {**SMS, "direction": "INBOUND", "contentType": "TEXT", "content": {"text": "my card is blocked"}}


async def test_an_assigned_conversation_moved_into_a_closed_queue_stays_with_its_agent(stack: Stack):
    closing = await hours(stack.http, NEVER, closeConversations=True)
    day = await create_queue(stack.http)
    night = await create_queue(stack.http, workingHoursId=closing["id"])
    agent = await new_agent(stack, capacity=None, queue_ids=[day["id"], night["id"]])
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

    # An agent who is not a member there does not come along: unassigned, then the hours
    # answer and close it (never closed under an agent).
    elsewhere = await create_queue(stack.http, workingHoursId=closing["id"])
    moved = await stack.http.patch(f"{C}/{conversation['id']}", json={"queueId": elsewhere["id"]})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["status"], moved.json()["agentId"]) == ("CLOSED", None)
    assert [event["type"] for event in await events(stack.http, conversation["id"])][-4:] == [
        "REROUTED", "UNASSIGNED", "OUT_OF_HOURS", "CLOSED"]
    assert [message["from"] for message in await messages(stack.http, conversation["id"])] == [SMS["to"]]


async def test_the_customers_message_that_opened_a_conversation_closed_out_of_hours_is_kept(stack: Stack):
    closing = await hours(stack.http, NEVER, closeConversations=True)
    queue = await create_queue(stack.http, workingHoursId=closing["id"])
    await routed_to(stack, queue["id"])
    # The channel integration creates the conversation for the customer's message, then posts it.
    conversation = await create_conversation(stack.http, **SMS)
    cid = conversation["id"]
    assert conversation["status"] == "CLOSED"
    posted = await stack.http.post(f"{C}/{cid}/messages", json={**INBOUND, "externalId": "m-1"})
    assert posted.status_code == 201, posted.text
    kept = posted.json()
    assert (kept["direction"], kept["authorType"], kept["content"]) == ("INBOUND", "CUSTOMER", INBOUND["content"])
    listed = await messages(stack.http, cid)
    assert [(message["direction"], message["content"]["text"]) for message in listed] == [
        ("OUTBOUND", REPLY), ("INBOUND", "my card is blocked")]
    # A retry finds it; anything more is refused, as on any closed conversation.
    again = await stack.http.post(f"{C}/{cid}/messages", json={**INBOUND, "externalId": "m-1"})
    assert (again.status_code, again.json()["id"]) == (200, kept["id"])
    for late in ({**INBOUND, "content": {"text": "hello?"}}, {**INBOUND, "direction": "OUTBOUND"}):
        error = assert_error(await stack.http.post(f"{C}/{cid}/messages", json=late), 409, "CONFLICT")
        assert error["text"] == "Closed conversation cannot be changed"
    assert len(await messages(stack.http, cid)) == 2
    # A conversation closed by hand keeps refusing the customer.
    by_hand = await create_conversation(stack.http, queueId=(await create_queue(stack.http))["id"], **SMS)
    closed = await stack.http.patch(f"{C}/{by_hand['id']}", json={"status": "CLOSED"})
    assert closed.status_code == 200, closed.text
    assert_error(await stack.http.post(f"{C}/{by_hand['id']}/messages", json=INBOUND), 409, "CONFLICT")


async def test_no_auto_reply_is_stored_without_both_addresses(stack: Stack):
    held = await hours(stack.http, NEVER)
    queue = await create_queue(stack.http, workingHoursId=held["id"])
    await routed_to(stack, queue["id"])
    for addresses in ({}, {"from": "+385911234567"}, {"to": "bank"}):
        conversation = await create_conversation(stack.http, channel="SMS", **addresses)
        timeline = await events(stack.http, conversation["id"])
        # The event still carries the text; no message with an empty address is stored.
        assert timeline[-1]["type"] == "OUT_OF_HOURS" and timeline[-1]["outOfHours"]["message"] == REPLY
        assert await messages(stack.http, conversation["id"]) == [], addresses


async def test_a_customers_message_taken_in_while_an_out_of_hours_close_races_it_is_kept(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
):
    """The message is stored while the conversation is open; before its workflow hears of it,
    a move closes the conversation. An out-of-hours close keeps it; a close by hand does not
    (409, nothing stored), as before."""
    closing = await hours(stack.http, NEVER, closeConversations=True)
    night = await create_queue(stack.http, workingHoursId=closing["id"])
    day = await create_queue(stack.http)
    real_run_update = messages_api.run_update
    close_with: dict[str, Any] = {}

    async def closed_first(request, client, conversation_id, update, argument):
        if update == ConversationWorkflow.record_message:
            closed = await stack.http.patch(f"{C}/{conversation_id}", json=close_with)
            assert closed.status_code == 200 and closed.json()["status"] == "CLOSED", closed.text
        return await real_run_update(request, client, conversation_id, update, argument)

    monkeypatch.setattr(messages_api, "run_update", closed_first)
    close_with.update(queueId=night["id"])
    raced = await create_conversation(stack.http, queueId=day["id"], **SMS)
    posted = await stack.http.post(f"{C}/{raced['id']}/messages", json=INBOUND)
    assert posted.status_code == 201, posted.text
    assert [event["type"] for event in await events(stack.http, raced["id"])][-3:] == [
        "REROUTED", "OUT_OF_HOURS", "CLOSED"]
    assert posted.json()["id"] in [message["id"] for message in await messages(stack.http, raced["id"])]

    close_with.clear()
    close_with.update(status="CLOSED")
    by_hand = await create_conversation(stack.http, queueId=day["id"], **SMS)
    refused = await stack.http.post(f"{C}/{by_hand['id']}/messages", json=INBOUND)
    assert_error(refused, 409, "CONFLICT")
    assert await messages(stack.http, by_hand["id"]) == []
