"""Offers end to end with the real worker and dispatcher (SQLite and PostgreSQL): a queue with
`offerTimeoutSeconds` offers its conversations; the offered agent accepts or declines; a
lapse frees the slot and the next agent is offered it; who may answer; the events."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from sqlmodel import Session, select

from store.tables import EventFeedRow
from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, dispatcher_passed, unique, wait_for
from tests.integration.test_queues_api import parse_time

C, A = "/ccaas/1/conversations", "/ccaas/1/agents"


async def new_agent(stack: Stack, queue_id: str, name: str) -> tuple[str, httpx.AsyncClient]:
    created = await stack.http.post(A, json={"displayName": name, "status": "ACTIVE", "role": "AGENT",
                                             "maxConversations": 2})
    assert created.status_code == 201, created.text
    agent = created.json()
    assert (await stack.http.post(f"{A}/{agent['id']}/queues", json={"queueId": queue_id})).status_code == 200
    return agent["id"], httpx.AsyncClient(transport=stack.http._transport, base_url=stack.http.base_url,
                                          headers={"Authorization": f"App {agent['apiKey']}"})


async def offers_of(stack: Stack, agent_id: str) -> list[dict]:
    response = await stack.http.get(f"{A}/{agent_id}/offers")
    assert response.status_code == 200, response.text
    return response.json()["offers"]


async def events_of(stack: Stack, conversation_id: str) -> list[dict]:
    return (await stack.http.get(f"{C}/{conversation_id}/events")).json()["events"]


async def test_an_offer_is_accepted_declined_or_lapses_and_goes_on_to_the_next_agent(stack: Stack):
    queue = await create_queue(stack.http, isAutoAssignmentEnabled=True, offerTimeoutSeconds=5)
    assert (queue["offerTimeoutSeconds"], queue["maxMissedOffers"]) == (5, 3)
    ana, as_ana = await new_agent(stack, queue["id"], "Ana")
    conversation = await create_conversation(stack.http, queueId=queue["id"])
    [offer] = await wait_for(lambda: offers_of(stack, ana), timeout=10)
    assert offer["conversationId"] == conversation["id"] and offer["queueId"] == queue["id"]
    assert parse_time(offer["expiresAt"]) == parse_time(offer["offeredAt"]) + timedelta(seconds=5)
    waiting = (await stack.http.get(f"{C}/{conversation['id']}")).json()
    assert waiting["agentId"] is None and waiting["queuePosition"] is None  # pending: not waiting
    # Only Ana answers: a supervisor's key is refused, another agent's too.
    assert_error(await stack.http.post(f"{C}/{conversation['id']}/offer/accept"), 403, "FORBIDDEN")
    bo, as_bo = await new_agent(stack, queue["id"], "Bo")
    assert_error(await as_bo.post(f"{C}/{conversation['id']}/offer/accept"), 403, "FORBIDDEN")

    declined = await as_ana.post(f"{C}/{conversation['id']}/offer/decline", json={"reason": "not my topic"})
    assert declined.status_code == 200, declined.text
    # Offered on to Bo, not back to Ana; Bo lets it lapse; then Ana again (everyone passed it over).
    [to_bo] = await wait_for(lambda: offers_of(stack, bo), timeout=10)
    assert to_bo["conversationId"] == conversation["id"] and await offers_of(stack, ana) == []
    dry_run = (await stack.http.get(f"{C}/{conversation['id']}/eligible-agents")).json()["now"]
    assert {agent["agentId"]: agent["why"] for agent in dry_run["notEligible"]} == {
        ana: "passed it over during this stay", bo: "pending offer"}

    async def offered_back_to_ana() -> list[dict]:
        return await offers_of(stack, ana)

    await wait_for(offered_back_to_ana, timeout=15)
    accepted = await as_ana.post(f"{C}/{conversation['id']}/offer/accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["agentId"] == ana
    assert_error(await as_ana.post(f"{C}/{conversation['id']}/offer/accept"), 409, "CONFLICT")

    timeline = [(e["type"], e["agentId"]) for e in await events_of(stack, conversation["id"])
                if e["type"].startswith("OFFER") or e["type"] == "ASSIGNED"]
    assert timeline == [("OFFERED", ana), ("OFFER_DECLINED", ana), ("OFFERED", bo), ("OFFER_EXPIRED", bo),
                        ("OFFERED", ana), ("ASSIGNED", ana)]
    events = await events_of(stack, conversation["id"])
    expired = next(e for e in events if e["type"] == "OFFER_EXPIRED")
    offered_to_bo = [e for e in events if e["type"] == "OFFERED"][1]
    assert expired["dueAt"] == offered_to_bo["expiresAt"]
    assert 0 <= (parse_time(expired["at"]) - parse_time(expired["dueAt"])).total_seconds() < 1
    # The next offer within a second of the lapse.
    again = [e for e in events if e["type"] == "OFFERED"][2]
    assert (parse_time(again["at"]) - parse_time(expired["at"])).total_seconds() < 1.5
    # The queue's statistics count the same offers, and the accept from its OFFERED.
    stats = (await stack.http.get(f"/ccaas/1/queues/{queue['id']}/statistics")).json()
    accept = next(e for e in events if e["type"] == "ASSIGNED")
    waited = (parse_time(accept["at"]) - parse_time(again["at"])).total_seconds()
    assert {key: value for key, value in stats["offers"].items() if key != "timeToAccept"} == {
        "made": 3, "accepted": 1, "declined": 1, "lapsed": 1, "withdrawn": 0}
    assert abs(stats["offers"]["timeToAccept"]["p50"] - waited) <= 0.002
    assert (stats["staysEntered"], stats["staysAnswered"]) == (1, 1)
    await as_ana.aclose()
    await as_bo.aclose()


async def test_a_pending_offer_counts_against_capacity_and_is_withdrawn_by_a_close(stack: Stack):
    queue = await create_queue(stack.http, isAutoAssignmentEnabled=True, offerTimeoutSeconds=60)
    ana, as_ana = await new_agent(stack, queue["id"], "Ana")
    first = await create_conversation(stack.http, queueId=queue["id"])
    second = await create_conversation(stack.http, queueId=queue["id"])
    [offer] = await wait_for(lambda: offers_of(stack, ana), timeout=10)
    assert offer["conversationId"] == first["id"]
    agent = (await stack.http.get(f"{A}/{ana}")).json()
    assert agent["load"] == 1  # the offer holds a slot; one pending offer at a time
    stats = (await stack.http.get(f"/ccaas/1/queues/{queue['id']}/statistics")).json()
    assert (stats["pendingOffers"], stats["waitingUnassigned"], stats["assigned"]) == (1, 1, 0)
    assert (await stack.http.get(f"{C}/{second['id']}")).json()["queuePosition"] == 1
    closed = await stack.http.patch(f"{C}/{first['id']}", json={"status": "CLOSED"})
    assert closed.status_code == 200, closed.text
    withdrawn = next(e for e in await events_of(stack, first["id"]) if e["type"] == "OFFER_WITHDRAWN")
    assert (withdrawn["agentId"], withdrawn["reason"]) == (ana, "closed")
    [offer] = await wait_for(lambda: offers_of(stack, ana), timeout=10)
    assert offer["conversationId"] == second["id"]
    assert_error(await as_ana.post(f"{C}/{first['id']}/offer/accept"), 409, "CONFLICT")
    await as_ana.aclose()


async def test_offers_are_off_by_default_and_their_bounds_are_checked(stack: Stack):
    queue = await create_queue(stack.http)
    assert (queue["offerTimeoutSeconds"], queue["maxMissedOffers"]) == (None, 3)
    for field, value in [("offerTimeoutSeconds", 4), ("offerTimeoutSeconds", 601), ("maxMissedOffers", 0)]:
        assert_error(await stack.http.put(f"/ccaas/1/queues/{queue['id']}", json={field: value}),
                     400, "BAD_REQUEST", field)
    assert_error(await stack.http.put(f"/ccaas/1/queues/{queue['id']}", json={"maxMissedOffers": None}),
                 400, "BAD_REQUEST", "maxMissedOffers")
    on = await stack.http.put(f"/ccaas/1/queues/{queue['id']}", json={"offerTimeoutSeconds": 30})
    assert on.status_code == 200 and on.json()["offerTimeoutSeconds"] == 30
    off = await stack.http.put(f"/ccaas/1/queues/{queue['id']}", json={"offerTimeoutSeconds": None})
    assert off.status_code == 200 and off.json()["offerTimeoutSeconds"] is None


async def test_an_agent_going_away_or_the_queue_turning_offers_off_withdraws_the_offer(stack: Stack):
    queue = await create_queue(stack.http, isAutoAssignmentEnabled=True, offerTimeoutSeconds=600)
    ana, as_ana = await new_agent(stack, queue["id"], "Ana")
    first = await create_conversation(stack.http, queueId=queue["id"])
    await wait_for(lambda: offers_of(stack, ana), timeout=10)
    away = await stack.http.put(f"{A}/{ana}/status", json={"status": "AWAY"})
    assert away.status_code == 200, away.text

    async def withdrawn(conversation_id: str) -> list[dict]:
        return [e for e in await events_of(stack, conversation_id) if e["type"] == "OFFER_WITHDRAWN"]

    [event] = await wait_for(lambda: withdrawn(first["id"]), timeout=10)
    assert (event["agentId"], event["reason"]) == (ana, "agent AWAY")
    assert await offers_of(stack, ana) == []
    assert (await stack.http.get(f"{C}/{first['id']}")).json()["queuePosition"] == 1  # waiting again

    assert (await stack.http.put(f"{A}/{ana}/status", json={"status": "ACTIVE"})).status_code == 200
    [offer] = await wait_for(lambda: offers_of(stack, ana), timeout=10)  # not a miss: offered again
    assert offer["conversationId"] == first["id"]
    off = await stack.http.put(f"/ccaas/1/queues/{queue['id']}", json={"offerTimeoutSeconds": None})
    assert off.status_code == 200, off.text
    async def withdrawn_twice() -> list[dict]:
        events = await withdrawn(first["id"])
        return events if len(events) == 2 else []

    [_, event] = await wait_for(withdrawn_twice, timeout=10)
    assert event["reason"] == "queue makes no offers"

    async def assigned() -> str | None:
        return (await stack.http.get(f"{C}/{first['id']}")).json()["agentId"]

    assert await wait_for(assigned, timeout=10) == ana  # assigned directly now
    await as_ana.aclose()


async def test_an_agent_letting_offers_lapse_is_set_away_not_responding(stack: Stack):
    # maxMissedOffers 1: one lapse and the agent is AWAY (the count itself: tests/store/test_missed_offers.py).
    queue = await create_queue(stack.http, isAutoAssignmentEnabled=True, offerTimeoutSeconds=5, maxMissedOffers=1)
    ana, as_ana = await new_agent(stack, queue["id"], "Ana")
    conversation = await create_conversation(stack.http, queueId=queue["id"])
    await wait_for(lambda: offers_of(stack, ana), timeout=10)

    async def away() -> bool:
        return (await stack.http.get(f"{A}/{ana}")).json()["status"] == "AWAY"

    await wait_for(away, timeout=15)
    assert [e["type"] for e in await events_of(stack, conversation["id"])].count("OFFER_EXPIRED") == 1
    assert await offers_of(stack, ana) == []  # and nothing new for an AWAY agent
    with Session(stack.engine) as session:
        told = [json.loads(row.body)["data"] for row in session.exec(select(EventFeedRow).where(
            EventFeedRow.type == "agent.status_changed")).all()]
    assert [(data["agent"]["id"], data["agent"]["status"], data.get("reason")) for data in told] == [
        (ana, "AWAY", "not responding")]
    await as_ana.aclose()


def week(enabled: bool) -> dict:
    days = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
    return {day: {"startTime": 0, "endTime": 1440 if enabled else 0, "enabled": enabled} for day in days}


async def test_a_queue_closing_for_the_day_leaves_the_offer_standing_and_makes_no_new_one(stack: Stack):
    hours = await stack.http.post("/ccaas/1/working-hours", json={
        "name": unique("hours"), "timezone": "Europe/Zagreb", "message": "Closed", "workWeek": week(True)})
    assert hours.status_code == 201, hours.text
    hours_url = f"/ccaas/1/working-hours/{hours.json()['id']}"
    queue = await create_queue(stack.http, isAutoAssignmentEnabled=True, offerTimeoutSeconds=600,
                               workingHoursId=hours.json()["id"])
    ana, as_ana = await new_agent(stack, queue["id"], "Ana")
    conversation = await create_conversation(stack.http, queueId=queue["id"])
    await wait_for(lambda: offers_of(stack, ana), timeout=10)
    closed = await stack.http.patch(hours_url, json={"workWeek": week(False)})
    assert closed.status_code == 200, closed.text
    await dispatcher_passed(stack.worker.dispatcher)
    [standing] = await offers_of(stack, ana)  # not withdrawn by the closing
    assert standing["conversationId"] == conversation["id"]
    declined = await as_ana.post(f"{C}/{conversation['id']}/offer/decline")
    assert declined.status_code == 200, declined.text
    await dispatcher_passed(stack.worker.dispatcher)
    assert await offers_of(stack, ana) == []  # closed: no new offer, not even back to Ana
    opened = await stack.http.patch(hours_url, json={"workWeek": week(True)})
    assert opened.status_code == 200, opened.text
    [again] = await wait_for(lambda: offers_of(stack, ana), timeout=10)  # open: offered again
    assert again["conversationId"] == conversation["id"]
    await as_ana.aclose()
