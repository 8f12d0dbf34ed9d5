"""SPEC, "Compatibility rules": every field of an answer is accepted back on PUT (read-only ones
ignored), so a fetched object sent back never fails. Each resource with a PUT (or PATCH) is
made with every field it has set, fetched, and sent back as fetched: 200, and it reads the same
afterwards (only its update time may move). tests/integration/test_as_deployed.py does the
same for a conversation with an agent through real processes."""

from __future__ import annotations

from typing import Any

from tests.conftest import Stack
from tests.helpers import create_conversation, create_queue, put_routing, rule, unique

A, B, C, Q = "/ccaas/1/agents", "/ccaas/1/bots", "/ccaas/1/conversations", "/ccaas/1/queues"
R, WH, WEBHOOKS, PERSONS = "/ccaas/1/routing", "/ccaas/1/working-hours", "/ccaas/1/webhooks", "/people/2/persons"
SLA = "/ccaas/1/sla-policies"
# What a PUT may move: the time of the change.
MOVES = {"updatedAt", "modifiedAt"}
DAY = {"startTime": 540, "endTime": 1020, "enabled": True,
       "intervals": [{"startTime": 540, "endTime": 720}, {"startTime": 780, "endTime": 1020}]}


async def made(stack: Stack, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await stack.http.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def fetched(stack: Stack, path: str) -> dict[str, Any]:
    response = await stack.http.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def same(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert {k: v for k, v in after.items() if k not in MOVES} == {k: v for k, v in before.items() if k not in MOVES}


async def sent_back(stack: Stack, path: str, methods: tuple[str, ...] = ("PUT",)) -> dict[str, Any]:
    """GET, then each method with the fetched body: 200, and the object reads the same."""
    before = await fetched(stack, path)
    for method in methods:
        response = await stack.http.request(method, path, json=before)
        assert response.status_code == 200, (method, path, response.text)
        after = await fetched(stack, path)
        same(before, after)
        answered = response.json()
        assert {k: answered[k] for k in after if k not in MOVES} == {k: v for k, v in after.items() if k not in MOVES}
    return before


async def test_every_fetched_object_is_accepted_back_unchanged(stack: Stack):
    hours = await made(stack, WH, {
        "name": unique("Hours"), "timezone": "Europe/Zagreb", "message": "Closed", "enabled": True,
        "closeConversations": True, "sendAwayMessageEveryOOWHPeriod": True,
        "workWeek": dict.fromkeys(("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"), DAY) | {
            "SATURDAY": {"startTime": 0, "endTime": 0, "enabled": False},
            "SUNDAY": {"startTime": 0, "endTime": 0, "enabled": False}},
        "holidays": [{"id": "xmas", "name": "Christmas", "startDate": "2026-12-25", "endDate": "2026-12-26"}],
    })
    bot = await made(stack, B, {"displayName": unique("bot")})
    target = await create_queue(stack.http)
    queue = await create_queue(
        stack.http, externalId=unique("ext"), isAutoAssignmentEnabled=True, autoAssignmentAlgorithm="ROUND_ROBIN",
        workingHoursId=hours["id"], stickyAgentTimeoutDays=3, isStickyAutoAssignmentEnabled=True,
        isAutoAssignmentOutsideOfWorkingHoursEnabled=True, isRestricted=True, botTimeoutSeconds=90,
        escalation=[{"afterSeconds": 60, "priority": "HIGH"}, {"afterSeconds": 120, "queueId": target["id"]}],
        offerTimeoutSeconds=45, maxMissedOffers=4, serviceLevelTargetSeconds=30, serviceLevelTargetPercent=90,
    )
    bot_queue = await create_queue(stack.http, botId=bot["id"])
    agent = await made(stack, A, {"displayName": unique("agent"), "email": f"{unique('a')}@example.com",
                                  "title": "Lead", "role": "SUPERVISOR", "status": "BUSY", "maxConversations": 4})
    await made(stack, f"{A}/{agent['id']}/queues", {"queueId": queue["id"]})
    await made(stack, f"{A}/{agent['id']}/queues", {"queueId": target["id"]})
    skills = await stack.http.put(f"{A}/{agent['id']}/skills", json={"skills": [{"name": "es", "level": 3}]})
    assert skills.status_code == 200, skills.text
    await put_routing(stack.http, [
        rule("Telegram", queue["id"], {"$eq": {"message.channel": "TELEGRAM"}}, priority="HIGH",
             routeOnlyDuringWorkingHours=True, requiredSkills=[{"name": "vip-care", "minLevel": 3}]),
        rule("Off", target["id"], {"$exists": {"customer.country": True}}, enabled=False),
    ])
    webhook = await made(stack, WEBHOOKS, {"url": "https://hooks.invalid/in", "eventTypes": ["message.created"],
                                           "description": "Sent back", "enabled": False})
    person = await made(stack, PERSONS, {
        "externalId": unique("p"), "type": "LEAD", "firstName": "Ana", "lastName": "Horvat", "country": "Croatia",
        "city": "Zagreb", "preferredLanguage": "hr", "tags": ["vip"], "customAttributes": {"tier": "gold", "n": 2},
        "contactInformation": {"phone": [{"number": "+385911234567"}], "email": [{"address": "ana@example.com"}]},
    })
    await made(stack, SLA, {"name": unique("first"), "expression": {"$exists": {"message.channel": True}},
                            "resolutionSeconds": 86400})
    policy = await made(stack, SLA, {
        "name": unique("sla"), "expression": {"$eq": {"message.channel": "TELEGRAM"}}, "firstResponseSeconds": 600,
        "resolutionSeconds": 86400, "workingHoursId": hours["id"], "warnBeforeSeconds": 120,
        "onBreach": {"priority": "URGENT", "queueId": target["id"]}, "enabled": False, "order": 1,
    })
    unassigned = await create_conversation(stack.http, topic="Card", summary="Lost", priority="HIGH",
                                           channel="TELEGRAM", tags=["vip"], externalId=unique("c"),
                                           queueId=target["id"], customer={"identifier": "+385911234567",
                                                                          "type": "PHONE"},
                                           requiredSkills=[{"name": "es", "minLevel": 2, "relaxAfterSeconds": 600}])
    # In a queue without working hours, so that the time of day changes nothing.
    with_agent = await create_conversation(stack.http, topic="Assigned", queueId=target["id"], agentId=agent["id"],
                                           status="WAITING")
    assert with_agent["agentId"] == agent["id"]

    await sent_back(stack, f"{Q}/{queue['id']}")
    await sent_back(stack, f"{Q}/{bot_queue['id']}")
    await sent_back(stack, f"{A}/{agent['id']}")
    await sent_back(stack, f"{A}/{agent['id']}/skills")
    await sent_back(stack, f"{B}/{bot['id']}")
    await sent_back(stack, f"{WH}/{hours['id']}", ("PUT", "PATCH"))
    await sent_back(stack, f"{WEBHOOKS}/{webhook['id']}")
    await sent_back(stack, f"{PERSONS}/{person['id']}", ("PUT", "PATCH"))
    await sent_back(stack, f"{R}/settings")
    await sent_back(stack, f"{SLA}/{policy['id']}")
    for conversation in (unassigned, with_agent):
        await sent_back(stack, f"{C}/{conversation['id']}", ("PUT", "PATCH"))

    # The routing: its fetched rules, sent back as the PUT's array, make the same routing.
    routing = await fetched(stack, R)
    response = await stack.http.put(R, json=routing["routes"])
    assert response.status_code == 200, response.text
    again = await fetched(stack, R)
    assert [{k: v for k, v in route.items() if k not in MOVES} for route in again["routes"]] == [
        {k: v for k, v in route.items() if k not in MOVES} for route in routing["routes"]]
