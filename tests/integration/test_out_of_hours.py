"""Out of hours: a conversation that lands in a closed queue gets OUT_OF_HOURS with its hours'
auto-reply, stored as an outbound SYSTEM message (and published as message.created), and is
closed when those hours say `closeConversations`; by routing, by hand, and by the default
hours. An open queue, or one without hours, gets neither."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import col, select

from domain.audience import Audience
from store.db import session_scope
from store.events_out import body_for
from store.tables import EventFeedRow
from tests.conftest import Stack
from tests.helpers import create_conversation, create_queue, put_routing, rule, unique

WH = "/ccaas/1/working-hours"
C = "/ccaas/1/conversations"
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
ALL_DAY = {"startTime": 0, "endTime": 1440, "enabled": True}
NEVER = {"startTime": 0, "endTime": 0, "enabled": False}
REPLY = "We are closed; we answer from 09:00."
SMS = {"channel": "SMS", "from": "+385911234567", "to": "bank"}


async def hours(http: httpx.AsyncClient, day: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"name": unique("hours"), "timezone": "Europe/Zagreb", "message": REPLY,
            "workWeek": dict.fromkeys(DAYS, day), **fields}
    response = await http.post(WH, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def routed_to(stack: Stack, queue_id: str) -> None:
    await put_routing(stack.http, [rule("sms", queue_id, {"$eq": {"message.channel": "SMS"}})])


async def events(http: httpx.AsyncClient, cid: str) -> list[dict[str, Any]]:
    return (await http.get(f"{C}/{cid}/events")).json()["events"]


async def messages(http: httpx.AsyncClient, cid: str) -> list[dict[str, Any]]:
    return (await http.get(f"{C}/{cid}/messages")).json()["messages"]


def published_messages(stack: Stack, cid: str) -> list[dict[str, Any]]:
    with session_scope(stack.engine) as session:
        rows = session.exec(select(EventFeedRow).where(
            EventFeedRow.conversation_id == cid, EventFeedRow.type == "message.created",
        ).order_by(col(EventFeedRow.position))).all()
        return [json.loads(body_for(row, Audience.SUPERVISORS))["data"]["message"] for row in rows]


async def test_routed_into_a_closed_queue_the_customer_is_answered_and_the_conversation_held(stack: Stack):
    closed = await hours(stack.http, NEVER)
    queue = await create_queue(stack.http, workingHoursId=closed["id"])
    await routed_to(stack, queue["id"])
    conversation = await create_conversation(stack.http, **SMS)
    assert (conversation["queueId"], conversation["status"]) == (queue["id"], "OPEN")
    timeline = await events(stack.http, conversation["id"])
    assert [event["type"] for event in timeline] == ["CREATED", "ROUTED", "OUT_OF_HOURS"]
    assert timeline[2]["outOfHours"] == {"workingHoursId": closed["id"], "message": REPLY,
                                         "closeConversation": False}
    assert timeline[2]["toQueueId"] == queue["id"]
    [reply] = await messages(stack.http, conversation["id"])
    assert (reply["direction"], reply["authorType"], reply["authorId"]) == ("OUTBOUND", "SYSTEM", None)
    assert (reply["channel"], reply["from"], reply["to"]) == ("SMS", "bank", "+385911234567")
    assert (reply["contentType"], reply["content"]) == ("TEXT", {"text": REPLY})
    # The integrations hear of the reply as of any message, shaped as the API answers it.
    assert published_messages(stack, conversation["id"]) == [reply]


async def test_hours_that_close_conversations_close_it_unless_created_with_an_agent(stack: Stack):
    closing = await hours(stack.http, NEVER, closeConversations=True)
    queue = await create_queue(stack.http, workingHoursId=closing["id"])
    await routed_to(stack, queue["id"])
    conversation = await create_conversation(stack.http, **SMS)
    assert (conversation["status"], conversation["agentId"]) == ("CLOSED", None)
    assert [event["type"] for event in await events(stack.http, conversation["id"])] == [
        "CREATED", "ROUTED", "OUT_OF_HOURS", "CLOSED"]
    assert [message["content"]["text"] for message in await messages(stack.http, conversation["id"])] == [REPLY]
    # An agent given at creation keeps it: the agent answers, not the hours.
    agent = (await stack.http.post("/ccaas/1/agents", json={"displayName": unique("agent")})).json()
    kept = await create_conversation(stack.http, agentId=agent["id"], **SMS)
    assert (kept["status"], kept["agentId"]) == ("OPEN", agent["id"])
    assert [event["type"] for event in await events(stack.http, kept["id"])] == ["CREATED", "ROUTED", "ASSIGNED"]
    assert await messages(stack.http, kept["id"]) == []


async def test_an_open_queue_and_a_queue_without_hours_answer_nothing(stack: Stack):
    open_all_day = await hours(stack.http, ALL_DAY, closeConversations=True)
    for queue in (await create_queue(stack.http, workingHoursId=open_all_day["id"]), await create_queue(stack.http)):
        await routed_to(stack, queue["id"])
        conversation = await create_conversation(stack.http, **SMS)
        assert (conversation["queueId"], conversation["status"]) == (queue["id"], "OPEN")
        assert [event["type"] for event in await events(stack.http, conversation["id"])] == ["CREATED", "ROUTED"]
        assert await messages(stack.http, conversation["id"]) == []


async def test_a_holiday_closes_hours_open_all_week(stack: Stack):
    today = datetime.now(UTC).date()
    holiday = {"id": "today", "name": "Today", "startDate": str(today - timedelta(days=1)),
               "endDate": str(today + timedelta(days=1))}
    on_holiday = await hours(stack.http, ALL_DAY, holidays=[holiday])
    queue = await create_queue(stack.http, workingHoursId=on_holiday["id"])
    await routed_to(stack, queue["id"])
    conversation = await create_conversation(stack.http, **SMS)
    assert [event["type"] for event in await events(stack.http, conversation["id"])][-1] == "OUT_OF_HOURS"


async def test_moved_by_hand_into_a_closed_queue_and_the_default_hours_count(stack: Stack):
    await hours(stack.http, NEVER, isDefault=True, closeConversations=True)
    always = await hours(stack.http, ALL_DAY)
    front = await create_queue(stack.http, workingHoursId=always["id"])
    conversation = await create_conversation(stack.http, queueId=front["id"], **SMS)
    assert conversation["status"] == "OPEN"
    # A queue without hours of its own keeps the default ones: closed, and closing.
    closed = await create_queue(stack.http)
    moved = await stack.http.patch(f"{C}/{conversation['id']}", json={"queueId": closed["id"]})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["queueId"], moved.json()["status"]) == (closed["id"], "CLOSED")
    assert [event["type"] for event in await events(stack.http, conversation["id"])][-3:] == [
        "REROUTED", "OUT_OF_HOURS", "CLOSED"]
