"""Infobip's documented request shapes are accepted with Infobip's meaning, and every answer
carries at least Infobip's fields (../shared/INFOBIP.md), on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, put_routing, rule, unique

A, C, Q, R = "/ccaas/1/agents", "/ccaas/1/conversations", "/ccaas/1/queues", "/ccaas/1/routing"
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
INFOBIP_TIME = "2024-05-06T07:08:09.123+0000"
TELEGRAM = {"$eq": {"message.channel": "TELEGRAM"}}

CONVERSATION_FIELDS = {"id", "topic", "summary", "status", "priority", "queueId", "agentId",
                       "createdAt", "updatedAt", "closedAt"}
QUEUE_FIELDS = {"id", "name", "enabledAgentsCount", "enabledRoutesCount", "createdAt", "updatedAt",
                "isAutoAssignmentEnabled", "autoAssignmentAlgorithm",
                "isAutoAssignmentOutsideOfWorkingHoursEnabled", "stickyAgentTimeoutDays",
                "isStickyAutoAssignmentEnabled", "workingHoursId", "isRestricted", "isPrivate",
                "deletedAt", "externalId"}
AGENT_FIELDS = {"id", "displayName", "title", "status", "availability", "role", "enabled",
                "createdAt", "updatedAt"}
RULE_FIELDS = {"id", "priority", "expression", "queueId", "queueName", "enabled", "name",
               "createdAt", "updatedAt", "order", "routeOnlyDuringWorkingHours", "isPrivate"}


async def new_agent(stack: Stack, **fields) -> dict:
    body = {"displayName": unique("agent"), "status": "ACTIVE", "role": "AGENT", **fields}
    response = await stack.http.post(A, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_conversation_created_with_status_agent_and_a_long_topic(stack: Stack):
    queue = await create_queue(stack.http)
    agent = await new_agent(stack)
    topic = "t" * 1000
    created = await create_conversation(
        stack.http, topic=topic, summary="s", status="WAITING", priority="HIGH",
        queueId=queue["id"], agentId=agent["id"],
        # Infobip's create body is its ConversationApiModel: the answer's fields are ignored.
        id="ignored", createdAt=INFOBIP_TIME, updatedAt=INFOBIP_TIME, closedAt=None,
    )
    assert set(created) >= CONVERSATION_FIELDS
    assert created["id"] != "ignored" and TIME.match(created["createdAt"])
    assert (created["topic"], created["status"], created["agentId"], created["queueId"]) == (
        topic, "WAITING", agent["id"], queue["id"])
    fetched = (await stack.http.get(f"{C}/{created['id']}")).json()
    assert fetched["topic"] == topic and fetched["status"] == "WAITING"
    events = (await stack.http.get(f"{C}/{created['id']}/events")).json()["events"]
    types = [event["type"] for event in events]
    assert types.index("ASSIGNED") < types.index("STATUS_CHANGED")

    # An unknown or disabled agent is a 400 naming agentId; a topic over 1000 is refused.
    assert_error(await stack.http.post(C, json={"agentId": "nobody"}), 400, "BAD_REQUEST", "agentId")
    disabled = await new_agent(stack, enabled=False)
    assert_error(await stack.http.post(C, json={"agentId": disabled["id"]}), 400, "BAD_REQUEST", "agentId")
    assert_error(await stack.http.post(C, json={"topic": "t" * 1001}), 400, "BAD_REQUEST", "topic")
    assert_error(await stack.http.post(C, json={"queuePosition": 1}), 400, "BAD_REQUEST", "queuePosition")


async def test_a_fetched_conversation_sent_back_by_put_and_patch(stack: Stack):
    queue = await create_queue(stack.http)
    created = await create_conversation(
        stack.http, queueId=queue["id"], channel="TELEGRAM", tags=["vip"], externalId=unique("ext"),
    )
    fetched = (await stack.http.get(f"{C}/{created['id']}")).json()
    topic = "x" * 1000
    for method in ("PUT", "PATCH"):
        sent = {**fetched, "topic": topic, "priority": "URGENT", "queuePosition": 3,
                "createdAt": INFOBIP_TIME, "tags": ["ignored"], "channel": "SMS"}
        response = await stack.http.request(method, f"{C}/{created['id']}", json=sent)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert set(answer) >= CONVERSATION_FIELDS
        assert (answer["topic"], answer["priority"]) == (topic, "URGENT")
        # The read-only fields are ignored, not applied.
        assert (answer["tags"], answer["channel"], answer["createdAt"]) == (
            ["vip"], "TELEGRAM", fetched["createdAt"])
        fetched = answer
    # Tagging answers the conversation with Infobip's StatusCodeResponse fields.
    for method, url, body in [("POST", f"{C}/{created['id']}/tags", {"tagName": "new"}),
                              ("DELETE", f"{C}/{created['id']}/tags/new", None)]:
        tagged = await stack.http.request(method, url, json=body)
        assert tagged.status_code == 200, tagged.text
        assert tagged.json()["statusCode"] == "SUCCESS" and tagged.json()["message"]
        assert set(tagged.json()) >= CONVERSATION_FIELDS
    # An unknown field is still a 400 naming it; a topic over 1000 too.
    assert_error(await stack.http.patch(f"{C}/{created['id']}", json={"colour": "red"}),
                 400, "BAD_REQUEST", "colour")
    assert_error(await stack.http.patch(f"{C}/{created['id']}", json={"topic": "t" * 1001}),
                 400, "BAD_REQUEST", "topic")


async def test_queues_take_infobip_shapes(stack: Stack):
    created = await stack.http.post(Q, json={"name": unique("q"), "isAutoAssignmentEnabled": True,
                                             "isRestricted": True,
                                             "autoAssignmentAlgorithm": "PERFORMANCE_BASED"})
    assert created.status_code == 201, created.text
    queue = created.json()
    assert set(queue) >= QUEUE_FIELDS
    assert (queue["isRestricted"], queue["isPrivate"], queue["autoAssignmentAlgorithm"]) == (
        True, False, "PERFORMANCE_BASED")
    assert queue["isAutoAssignmentOutsideOfWorkingHoursEnabled"] is False

    # UpdateQueueApiRequest has no required field: the fields not given keep their value.
    partial = await stack.http.put(f"{Q}/{queue['id']}", json={"isStickyAutoAssignmentEnabled": True,
                                                               "isAutoAssignmentOutsideOfWorkingHoursEnabled": True})
    assert partial.status_code == 200, partial.text
    after = partial.json()
    assert after["name"] == queue["name"] and after["isRestricted"] is True
    assert after["autoAssignmentAlgorithm"] == "PERFORMANCE_BASED"
    assert after["isStickyAutoAssignmentEnabled"] is True
    assert after["isAutoAssignmentOutsideOfWorkingHoursEnabled"] is True
    assert (await stack.http.put(f"{Q}/{queue['id']}", json={})).status_code == 200

    # A fetched queue sent back, read-only fields and all.
    sent = {**after, "isRestricted": False, "createdAt": INFOBIP_TIME, "enabledAgentsCount": 7}
    back = await stack.http.put(f"{Q}/{queue['id']}", json=sent)
    assert back.status_code == 200, back.text
    assert back.json()["isRestricted"] is False and back.json()["createdAt"] == queue["createdAt"]
    assert back.json()["enabledAgentsCount"] == 0

    assert_error(await stack.http.put(f"{Q}/{queue['id']}", json={"isPrivate": True}),
                 400, "BAD_REQUEST", "isPrivate")
    assert_error(await stack.http.put(f"{Q}/{queue['id']}", json={"name": None}),
                 400, "BAD_REQUEST", "name")
    assert_error(await stack.http.put(f"{Q}/{queue['id']}", json={"colour": "red"}),
                 400, "BAD_REQUEST", "colour")

    deleted = await stack.http.delete(f"{Q}/{queue['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["statusCode"] == "SUCCESS" and deleted.json()["message"]
    assert deleted.json()["id"] == queue["id"] and deleted.json()["deletedAt"]


async def test_agents_take_infobip_agent_requests(stack: Stack):
    # Infobip's AgentRequest: no email.
    first = await new_agent(stack, status="BUSY", role="SUPERVISOR")
    second = await new_agent(stack)
    assert set(first) >= AGENT_FIELDS
    assert first["email"] is None and first["availability"] == first["status"] == "BUSY"

    # PUT /agents/{id} with Infobip's AgentRequest; email and title keep their value.
    titled = await stack.http.put(f"{A}/{second['id']}", json={
        "displayName": "Ana", "status": "ACTIVE", "role": "AGENT", "title": "Lead",
        "email": "Ana@Example.com"})
    assert titled.status_code == 200, titled.text
    put = await stack.http.put(f"{A}/{second['id']}", json={
        "displayName": "Ana B", "status": "AWAY", "role": "SUPERVISOR", "enabled": True})
    assert put.status_code == 200, put.text
    agent = put.json()
    assert set(agent) >= AGENT_FIELDS
    assert (agent["displayName"], agent["status"], agent["availability"], agent["role"],
            agent["title"], agent["email"]) == ("Ana B", "AWAY", "AWAY", "SUPERVISOR", "Lead",
                                                "ana@example.com")
    # A fetched agent sent back; availability is its status.
    fetched = (await stack.http.get(f"{A}/{second['id']}")).json()
    back = await stack.http.put(f"{A}/{second['id']}", json={
        **fetched, "createdAt": INFOBIP_TIME, "status": None, "availability": "ACTIVE"})
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "ACTIVE" and back.json()["createdAt"] == fetched["createdAt"]
    assert_error(await stack.http.put(f"{A}/{second['id']}", json={
        "displayName": "x", "status": "BUSY", "availability": "AWAY"}), 400, "BAD_REQUEST", "availability")

    # Email stays unique when given.
    assert_error(await stack.http.post(A, json={"displayName": "x", "status": "ACTIVE", "role": "AGENT",
                                                "email": "ana@example.com"}), 409, "CONFLICT", "email")
    listed = (await stack.http.get(A, params={"agentIds": [first["id"]]})).json()["agents"]
    assert set(listed[0]) >= AGENT_FIELDS

    queue = await create_queue(stack.http)
    added = await stack.http.post(f"{A}/{first['id']}/queues", json={"queueId": queue["id"]})
    assert added.status_code == 200, added.text
    assert added.json()["statusCode"] == "SUCCESS" and added.json()["message"]
    assert added.json()["queues"] == [{"id": queue["id"], "name": queue["name"]}]
    removed = await stack.http.delete(f"{A}/{first['id']}/queues/{queue['id']}")
    assert removed.status_code == 200, removed.text
    assert removed.json()["statusCode"] == "SUCCESS" and removed.json()["queues"] == []


async def test_routing_takes_infobip_rules(stack: Stack):
    queue = await create_queue(stack.http, name=unique("Sales"))
    # Infobip's CreateRuleApiRequest: name optional.
    saved = await put_routing(stack.http, [
        rule("Named", queue["id"], TELEGRAM),
        {"queueId": queue["id"], "expression": TELEGRAM, "isPrivate": True},
    ])
    assert saved["statusCode"] == "SUCCESS" and saved["message"]
    routes = saved["routes"]
    assert all(set(route) >= RULE_FIELDS for route in routes)
    assert [route["name"] for route in routes] == ["Named", "Route 2"]
    assert [route["isPrivate"] for route in routes] == [False, True]

    # A fetched routing sent back, read-only fields and all: identities are kept.
    fetched = (await stack.http.get(R)).json()["routes"]
    again = await put_routing(stack.http, [{**route, "createdAt": INFOBIP_TIME} for route in fetched])
    assert [route["id"] for route in again["routes"]] == [route["id"] for route in fetched]
    assert [route["createdAt"] for route in again["routes"]] == [route["createdAt"] for route in fetched]
    assert again["routes"][1]["isPrivate"] is True
    assert_error(await stack.http.put(R, json=[{**fetched[0], "colour": "red"}]),
                 400, "BAD_REQUEST", "[0].colour")

    deleted = await stack.http.delete(R)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["statusCode"] == "SUCCESS" and deleted.json()["routes"] == []
