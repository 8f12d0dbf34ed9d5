"""Conversations through the real API and a real Temporal server: routing, idempotency, reads."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from domain.conversation import workflow_id
from tests.conftest import Stack
from tests.helpers import (
    assert_error,
    create_conversation,
    create_queue,
    put_routing,
    rule,
    unique,
)
from workflows import search_attributes as sa


async def _default_queue_id(stack: Stack) -> str:
    return (await stack.http.get("/ccaas/1/routing/settings")).json()["defaultQueueId"]


async def test_a_routing_of_several_rules_places_each_conversation_by_its_facts(stack: Stack):
    telegram = await create_queue(stack.http, unique("Telegram"))
    iberia = await create_queue(stack.http, unique("Iberia"))
    vip = await create_queue(stack.http, unique("VIP"))
    routing = await put_routing(
        stack.http,
        [
            rule("vip tag", vip["id"], {"$contains": {"conversation.tags": "vip"}}, priority="URGENT"),
            rule(
                "telegram from iberia",
                iberia["id"],
                {"$and": [
                    {"$eq": {"message.channel": "TELEGRAM"}},
                    {"$in": {"message.to": ["ES", "PT"]}},
                ]},
                priority="HIGH",
            ),
            rule("telegram", telegram["id"], {"$eq": {"message.channel": "TELEGRAM"}}, priority="LOW"),
        ],
    )
    route_ids = [route["id"] for route in routing["routes"]]
    default_queue = await _default_queue_id(stack)

    # (facts, queue id, priority, route id)
    cases: list[tuple[dict[str, Any], str, str, str | None]] = [
        ({"channel": "TELEGRAM", "tags": ["vip"]}, vip["id"], "URGENT", route_ids[0]),
        ({"channel": "TELEGRAM", "to": "ES"}, iberia["id"], "HIGH", route_ids[1]),
        ({"channel": "TELEGRAM", "to": "FR"}, telegram["id"], "LOW", route_ids[2]),
        ({"channel": "EMAIL"}, default_queue, "NORMAL", None),
        ({}, default_queue, "NORMAL", None),
    ]
    for facts, queue_id, priority, route_id in cases:
        created = await create_conversation(stack.http, **facts)
        assert (created["queueId"], created["priority"]) == (queue_id, priority), facts
        assert created["routedBy"] == {"routeId": route_id, "routingVersion": routing["version"]}
        assert created["status"] == "OPEN"
        fetched = (await stack.http.get(f"/ccaas/1/conversations/{created['id']}")).json()
        assert fetched == created


async def test_no_match_goes_to_the_default_queue_with_normal_priority(stack: Stack):
    # The spec's evaluation rule: none matched -> default queue, NORMAL (routing decides).
    created = await create_conversation(stack.http, channel="SMS", priority="HIGH")
    assert created["queueId"] == await _default_queue_id(stack)
    assert created["priority"] == "NORMAL"
    assert created["routedBy"] == {"routeId": None, "routingVersion": 0}


async def test_the_default_queue_follows_routing_settings(stack: Stack):
    fallback = await create_queue(stack.http)
    response = await stack.http.put(
        "/ccaas/1/routing/settings", json={"defaultQueueId": fallback["id"]}
    )
    assert response.status_code == 200, response.text
    created = await create_conversation(stack.http, channel="SMS")
    assert created["queueId"] == fallback["id"]


async def test_a_given_queue_id_places_the_conversation_without_routing(stack: Stack):
    target = await create_queue(stack.http)
    other = await create_queue(stack.http)
    await put_routing(stack.http, [rule("all sms", other["id"], {"$eq": {"message.channel": "SMS"}})])
    created = await create_conversation(stack.http, channel="SMS", queueId=target["id"])
    assert created["queueId"] == target["id"]
    assert created["routedBy"] is None


async def test_a_later_routing_version_routes_later_conversations(stack: Stack):
    first = await create_queue(stack.http)
    second = await create_queue(stack.http)
    await put_routing(stack.http, [rule("r", first["id"], {"$eq": {"message.channel": "SMS"}})])
    before = await create_conversation(stack.http, channel="SMS")
    v2 = await put_routing(stack.http, [rule("r", second["id"], {"$eq": {"message.channel": "SMS"}})])
    after = await create_conversation(stack.http, channel="SMS")
    assert before["queueId"] == first["id"]
    assert (after["queueId"], after["routedBy"]["routingVersion"]) == (second["id"], v2["version"])
    # Routing is not re-run on existing conversations by a new version.
    again = (await stack.http.get(f"/ccaas/1/conversations/{before['id']}")).json()
    assert again["queueId"] == first["id"]


async def test_a_repeated_external_id_returns_the_same_conversation_and_one_workflow(stack: Stack):
    external_id = unique("ext")
    first = await stack.http.post("/ccaas/1/conversations", json={"externalId": external_id})
    assert first.status_code == 201, first.text
    again = await stack.http.post(
        "/ccaas/1/conversations", json={"externalId": external_id, "topic": "ignored"}
    )
    assert again.status_code == 200, again.text
    assert again.json() == first.json()

    racing_id = unique("race")
    responses = await asyncio.gather(
        *[stack.http.post("/ccaas/1/conversations", json={"externalId": racing_id}) for _ in range(6)]
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 5 + [201], [r.text for r in responses]
    assert len({response.json()["id"] for response in responses}) == 1

    for conversation_id in (first.json()["id"], responses[0].json()["id"]):
        runs = [
            execution
            async for execution in stack.temporal.list_workflows(
                f"WorkflowId = '{workflow_id(conversation_id)}'"
            )
        ]
        assert len(runs) == 1


async def test_the_workflow_carries_queue_status_and_priority_as_search_attributes(stack: Stack):
    queue = await create_queue(stack.http)
    await put_routing(stack.http, [rule("r", queue["id"], {"$exists": {"message.channel": True}}, priority="HIGH")])
    created = await create_conversation(stack.http, channel="WHATSAPP")
    description = await stack.temporal.get_workflow_handle(workflow_id(created["id"])).describe()
    attributes = description.typed_search_attributes
    assert attributes.get(sa.QUEUE_ID) == queue["id"]
    assert attributes.get(sa.STATUS) == "OPEN"
    assert attributes.get(sa.PRIORITY) == "HIGH"


async def test_the_list_filters_and_pages_in_waiting_order(stack: Stack):
    queue = await create_queue(stack.http)
    other = await create_queue(stack.http)
    made = []
    for priority in ["NORMAL", "URGENT", "LOW", "URGENT", "HIGH"]:
        made.append(await create_conversation(
            stack.http, queueId=queue["id"], priority=priority, tags=[priority.lower()]
        ))
    await create_conversation(stack.http, queueId=other["id"], priority="URGENT")

    response = await stack.http.get(
        "/ccaas/1/conversations",
        params={"queueIds": queue["id"], "orderBy": "priority:desc", "limit": 3},
    )
    body = response.json()
    assert body["pagination"] == {"totalItems": 5, "page": 0, "limit": 3, "orderBy": "priority:desc"}
    # URGENT first, and among equals the oldest first.
    assert [c["id"] for c in body["conversations"]] == [made[1]["id"], made[3]["id"], made[4]["id"]]
    second_page = (await stack.http.get(
        "/ccaas/1/conversations",
        params={"queueIds": queue["id"], "orderBy": "priority:desc", "limit": 3, "page": 1},
    )).json()
    assert [c["id"] for c in second_page["conversations"]] == [made[0]["id"], made[2]["id"]]

    by_tag = (await stack.http.get(
        "/ccaas/1/conversations", params={"tagNames": "low,high", "orderBy": "createdAt:asc"}
    )).json()
    assert [c["id"] for c in by_tag["conversations"]] == [made[2]["id"], made[4]["id"]]
    by_priority = (await stack.http.get(
        "/ccaas/1/conversations", params=[("priority", "URGENT"), ("queueIds", queue["id"])]
    )).json()
    assert {c["id"] for c in by_priority["conversations"]} == {made[1]["id"], made[3]["id"]}
    by_ids = (await stack.http.get(
        "/ccaas/1/conversations", params={"conversationIds": f"{made[0]['id']},{made[2]['id']}"}
    )).json()
    assert by_ids["pagination"]["totalItems"] == 2
    window = (await stack.http.get(
        "/ccaas/1/conversations",
        params={"createdAfter": made[1]["createdAt"], "createdBefore": made[4]["createdAt"],
                "queueIds": queue["id"], "orderBy": "createdAt:asc"},
    )).json()
    assert [c["id"] for c in window["conversations"]] == [made[1]["id"], made[2]["id"], made[3]["id"]]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"status": "OPENED"}, "status"),
        ({"priority": "urgent"}, "priority"),
        ({"orderBy": "queueId:asc"}, "orderBy"),
        ({"limit": "1000"}, "limit"),
        ({"createdAfter": "yesterday"}, "createdAfter"),
    ],
)
@pytest.mark.sqlite_only
async def test_bad_list_parameters_are_refused_at_their_name(stack: Stack, params, field):
    assert_error(await stack.http.get("/ccaas/1/conversations", params=params), 400, "BAD_REQUEST", field)


async def test_simulate_routing_explains_without_changing_anything(stack: Stack):
    first = await create_queue(stack.http)
    second = await create_queue(stack.http)
    await put_routing(stack.http, [rule("email", first["id"], {"$eq": {"message.channel": "EMAIL"}})])
    created = await create_conversation(stack.http, channel="SMS")
    routing = await put_routing(
        stack.http,
        [
            rule("email", first["id"], {"$eq": {"message.channel": "EMAIL"}}),
            rule("off", first["id"], {"$exists": {"message.channel": True}}, enabled=False),
            rule("sms", second["id"], {"$eq": {"message.channel": "SMS"}}, priority="HIGH"),
        ],
    )
    response = await stack.http.get(f"/ccaas/1/conversations/{created['id']}/simulate-routing")
    assert response.status_code == 200, response.text
    simulation = response.json()
    assert simulation["queueId"] == second["id"]
    assert simulation["priority"] == "HIGH"
    assert simulation["routeId"] == routing["routes"][2]["id"]
    assert simulation["routingVersion"] == routing["version"]
    assert [(t["name"], t["outcome"]) for t in simulation["trace"]] == [
        ("email", "NOT_MATCHED"), ("off", "DISABLED"), ("sms", "MATCHED"),
    ]
    assert "EMAIL" in simulation["trace"][0]["reason"]
    unchanged = (await stack.http.get(f"/ccaas/1/conversations/{created['id']}")).json()
    assert unchanged == created


async def test_route_answers_the_conversation_and_infobips_one_item_list(stack: Stack):
    created = await create_conversation(stack.http, channel="SMS")
    response = await stack.http.post(f"/ccaas/1/conversations/{created['id']}/route")
    assert response.status_code == 200, response.text
    answer = response.json()
    # Its fields at the top level, as every change answers; and Infobip's list of it.
    conversation = {key: value for key, value in answer.items() if key not in ("conversations", "pagination")}
    assert conversation == (await stack.http.get(f"/ccaas/1/conversations/{created['id']}")).json()
    assert answer["conversations"] == [conversation]
    assert answer["pagination"] == {"totalItems": 1, "page": 0, "limit": 1, "orderBy": "createdAt:desc"}


async def test_a_rule_into_a_queue_deleted_since_the_save_is_skipped(stack: Stack):
    doomed = await create_queue(stack.http)
    await put_routing(
        stack.http, [rule("doomed", doomed["id"], {"$eq": {"message.channel": "SMS"}}, enabled=False)]
    )
    assert (await stack.http.delete(f"/ccaas/1/queues/{doomed['id']}")).status_code == 200
    created = await create_conversation(stack.http, channel="SMS")
    assert created["queueId"] == await _default_queue_id(stack)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"priority": "SOON"}, "priority"),
        ({"tags": ["ok", ""]}, "tags[1]"),
        ({"tags": [f"t{i}" for i in range(51)]}, "tags"),
        ({"customer": {"identifier": "+385", "type": "FAX"}}, "customer.type"),
        ({"message": {"content": "x" * 4097}}, "message.content"),
        ({"topic": 42}, "topic"),
        ({"queueId": "not-a-queue"}, "queueId"),
        ({"externalId": ""}, "externalId"),
        ({"chanel": "SMS"}, "chanel"),
    ],
)
@pytest.mark.sqlite_only
async def test_bad_conversations_are_refused_at_their_field_and_nothing_starts(
    stack: Stack, body, field
):
    assert_error(await stack.http.post("/ccaas/1/conversations", json=body), 400, "BAD_REQUEST", field)
    listed = (await stack.http.get("/ccaas/1/conversations")).json()
    assert listed["pagination"]["totalItems"] == 0


async def test_an_unknown_conversation_is_404(stack: Stack):
    assert_error(await stack.http.get("/ccaas/1/conversations/nope"), 404, "NOT_FOUND")
    assert_error(
        await stack.http.get("/ccaas/1/conversations/nope/simulate-routing"), 404, "NOT_FOUND"
    )


async def test_a_routed_event_keeps_a_bounded_trace_of_a_long_routing(stack: Stack):
    """A conversation's workflow holds its events: a trace of every rule of a long routing in
    each would grow its state toward Temporal's payload limits."""
    never = await create_queue(stack.http)
    await put_routing(stack.http, [rule(f"r{n}", never["id"], {"$eq": {"message.channel": "FAX"}})
                                   for n in range(150)])
    created = await create_conversation(stack.http, channel="SMS")
    events = (await stack.http.get(f"/ccaas/1/conversations/{created['id']}/events")).json()["events"]
    routed = next(event for event in events if event["type"] == "ROUTED")
    assert len(routed["trace"]) == 100 and routed["traceOmitted"] == 50
    assert [entry["order"] for entry in routed["trace"][-2:]] == [99, 150]
    # The dry run explains the same decision with every rule.
    simulation = (await stack.http.get(f"/ccaas/1/conversations/{created['id']}/simulate-routing")).json()
    assert len(simulation["trace"]) == 150
