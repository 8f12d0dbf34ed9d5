"""The hand-off scenario end to end through the HTTP API, against a real Temporal server:
manual reroute, the chatbot's strong authentication, routing on by itself, the timeline."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from domain.conversation import workflow_id
from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, put_routing, rule, unique, wait_for

STRONG = {"$eq": {"conversation.authentication": "STRONG"}}


@dataclass
class Scenario:
    front: dict
    bot_queue: dict
    authenticated: dict
    bot: dict
    bot_http: httpx.AsyncClient


async def create_bot(stack: Stack) -> dict:
    response = await stack.http.post("/ccaas/1/bots", json={"displayName": unique("Auth bot")})
    assert response.status_code == 201, response.text
    return response.json()


def as_key(stack: Stack, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=stack.http._transport, base_url=stack.http.base_url,
        headers={"Authorization": f"App {key}"},
    )


@pytest.fixture
async def scenario(stack: Stack):
    bot = await create_bot(stack)
    front = await create_queue(stack.http, unique("Front desk"))
    bot_queue = await create_queue(stack.http, unique("Authentication bot"), botId=bot["id"])
    authenticated = await create_queue(stack.http, unique("Authenticated sessions"))
    async with as_key(stack, bot["apiKey"]) as bot_http:
        yield Scenario(front, bot_queue, authenticated, bot, bot_http)


async def events_of(stack: Stack, conversation_id: str) -> list[dict]:
    response = await stack.http.get(f"/ccaas/1/conversations/{conversation_id}/events")
    assert response.status_code == 200, response.text
    return response.json()["events"]


async def reroute(stack: Stack, conversation_id: str, queue_id: str, reason: str | None = None):
    body = {"queueId": queue_id} | ({"reason": reason} if reason else {})
    return await stack.http.patch(f"/ccaas/1/conversations/{conversation_id}", json=body)


async def test_the_four_step_scenario(stack: Stack, scenario: Scenario):
    routing = await put_routing(stack.http, [
        rule("Strongly authenticated", scenario.authenticated["id"], STRONG, priority="HIGH"),
        rule("Everyone else", scenario.front["id"], {"$exists": {"message.channel": True}}),
    ])
    strong_rule = routing["routes"][0]["id"]

    # 1. A customer writes in; routing puts the conversation in Front desk, NORMAL.
    conversation = await create_conversation(stack.http, channel="WEBCHAT", topic="Card blocked")
    assert (conversation["queueId"], conversation["priority"]) == (scenario.front["id"], "NORMAL")

    # 2. The agent reroutes it to the authentication bot's queue.
    moved = await reroute(stack, conversation["id"], scenario.bot_queue["id"], "needs strong authentication")
    assert moved.status_code == 200, moved.text
    assert moved.json()["queueId"] == scenario.bot_queue["id"]

    # 3. The bot reports; routing runs again by itself and lands it in Authenticated sessions.
    reported = await scenario.bot_http.post(
        f"/ccaas/1/conversations/{conversation['id']}/authentication",
        json={"status": "SUCCEEDED", "level": "STRONG"},
    )
    assert reported.status_code == 200, reported.text
    after = reported.json()
    assert after["queueId"] == scenario.authenticated["id"]
    assert (after["authentication"], after["priority"]) == ("STRONG", "HIGH")
    assert after["routedBy"] == {"routeId": strong_rule, "routingVersion": routing["version"]}
    fetched = (await stack.http.get(f"/ccaas/1/conversations/{conversation['id']}")).json()
    assert fetched == after

    # 4. The supervisor reads every step: who moved it, when, which rule, which version, why.
    events = await events_of(stack, conversation["id"])
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    steps = [(e["type"], e["actor"]["type"], e["fromQueueId"], e["toQueueId"]) for e in events]
    assert steps == [
        ("CREATED", "SUPERVISOR", None, None),
        ("ROUTED", "SYSTEM", None, scenario.front["id"]),
        ("REROUTED", "SUPERVISOR", scenario.front["id"], scenario.bot_queue["id"]),
        ("BOT_STARTED", "SYSTEM", None, scenario.bot_queue["id"]),
        ("AUTHENTICATION_COMPLETED", "BOT", None, None),
        ("ROUTED", "SYSTEM", scenario.bot_queue["id"], scenario.authenticated["id"]),
    ]
    first_routing, rerouted, completed, routed_on = events[1], events[2], events[4], events[5]
    assert first_routing["routeId"] == routing["routes"][1]["id"]
    assert [t["outcome"] for t in first_routing["trace"]] == ["NOT_MATCHED", "MATCHED"]
    assert rerouted["reason"] == "needs strong authentication"
    assert completed["actor"]["id"] == scenario.bot["id"]
    assert completed["actor"]["name"] == scenario.bot["displayName"]
    assert (routed_on["routeId"], routed_on["routingVersion"]) == (strong_rule, routing["version"])
    assert routed_on["trace"][0]["outcome"] == "MATCHED"
    assert routed_on["facts"]["conversation.authentication"] == "STRONG"
    assert "authentication completed" in routed_on["reason"]
    assert all(e["at"].endswith("Z") for e in events)


async def test_with_no_matching_rule_it_returns_to_the_queue_it_came_from(stack: Stack, scenario: Scenario):
    # The only rule would take it back into the bot's own queue: it is skipped.
    await put_routing(stack.http, [
        rule("Everything to the bot", scenario.bot_queue["id"], {"$exists": {"message.channel": True}}),
    ])
    conversation = await create_conversation(stack.http, channel="SMS", queueId=scenario.front["id"])
    assert (await reroute(stack, conversation["id"], scenario.bot_queue["id"])).status_code == 200
    reported = await scenario.bot_http.post(
        f"/ccaas/1/conversations/{conversation['id']}/authentication", json={"status": "FAILED"}
    )
    assert reported.status_code == 200, reported.text
    assert reported.json()["queueId"] == scenario.front["id"]
    assert reported.json()["authentication"] == "FAILED"
    routed_on = (await events_of(stack, conversation["id"]))[-1]
    assert routed_on["routeId"] is None
    assert routed_on["trace"][0]["outcome"] == "SKIPPED"
    assert "own queue" in routed_on["trace"][0]["reason"]


async def test_a_bot_that_does_not_report_in_time_is_timed_out(stack: Stack, scenario: Scenario):
    hurried = await create_queue(stack.http, unique("Quick bot"), botId=scenario.bot["id"], botTimeoutSeconds=1)
    await put_routing(stack.http, [rule("strong", scenario.authenticated["id"], STRONG)])
    conversation = await create_conversation(stack.http, queueId=scenario.front["id"])
    assert (await reroute(stack, conversation["id"], hurried["id"])).status_code == 200

    async def back_in_front():
        row = (await stack.http.get(f"/ccaas/1/conversations/{conversation['id']}")).json()
        return row if row["queueId"] == scenario.front["id"] else None

    row = await wait_for(back_in_front, timeout=30)
    assert row["authentication"] == "NONE"
    types = [e["type"] for e in await events_of(stack, conversation["id"])]
    assert types[-3:] == ["BOT_STARTED", "BOT_TIMED_OUT", "ROUTED"]
    late = await scenario.bot_http.post(
        f"/ccaas/1/conversations/{conversation['id']}/authentication", json={"status": "SUCCEEDED"}
    )
    assert_error(late, 409, "CONFLICT")


async def test_only_the_serving_bot_may_report_and_only_once(stack: Stack, scenario: Scenario):
    await put_routing(stack.http, [rule("strong", scenario.authenticated["id"], STRONG)])
    conversation = await create_conversation(stack.http, queueId=scenario.front["id"])
    url = f"/ccaas/1/conversations/{conversation['id']}/authentication"

    not_waiting = await scenario.bot_http.post(url, json={"status": "SUCCEEDED"})
    assert_error(not_waiting, 409, "CONFLICT")

    assert (await reroute(stack, conversation["id"], scenario.bot_queue["id"])).status_code == 200
    before = await events_of(stack, conversation["id"])
    other_bot = await create_bot(stack)
    async with as_key(stack, other_bot["apiKey"]) as other_http:
        assert_error(await other_http.post(url, json={"status": "SUCCEEDED"}), 403, "FORBIDDEN")
    assert_error(await stack.http.post(url, json={"status": "SUCCEEDED"}), 403, "FORBIDDEN")
    assert_error(await scenario.bot_http.post(url, json={"status": "MAYBE"}), 400, "BAD_REQUEST", "status")
    assert_error(await scenario.bot_http.post(url, json={"status": "SUCCEEDED", "level": "WEAK"}),
                 400, "BAD_REQUEST", "level")
    assert await events_of(stack, conversation["id"]) == before

    assert (await scenario.bot_http.post(url, json={"status": "SUCCEEDED"})).status_code == 200
    after = await events_of(stack, conversation["id"])
    assert_error(await scenario.bot_http.post(url, json={"status": "FAILED"}), 409, "CONFLICT")
    assert await events_of(stack, conversation["id"]) == after
    assert (await stack.http.get(f"/ccaas/1/conversations/{conversation['id']}")).json()["authentication"] == "STRONG"


async def test_a_bot_may_act_only_in_its_own_queue(stack: Stack, scenario: Scenario):
    elsewhere = await create_conversation(stack.http, queueId=scenario.front["id"])
    assert_error(await scenario.bot_http.post(f"/ccaas/1/conversations/{elsewhere['id']}/tags",
                                              json={"tagName": "x"}), 403, "FORBIDDEN")
    assert_error(await scenario.bot_http.get(f"/ccaas/1/conversations/{elsewhere['id']}/events"),
                 403, "FORBIDDEN")
    mine = await create_conversation(stack.http, queueId=scenario.bot_queue["id"])
    tagged = await scenario.bot_http.post(f"/ccaas/1/conversations/{mine['id']}/tags", json={"tagName": "verified"})
    assert tagged.status_code == 200 and tagged.json()["tags"] == ["verified"]


async def test_route_again_applies_the_routing_in_force(stack: Stack, scenario: Scenario):
    conversation = await create_conversation(stack.http, channel="SMS")
    sms = rule("sms", scenario.front["id"], {"$eq": {"message.channel": "SMS"}}, priority="URGENT")
    routing = await put_routing(stack.http, [sms])
    response = await stack.http.post(f"/ccaas/1/conversations/{conversation['id']}/route")
    assert response.status_code == 200, response.text
    assert (response.json()["queueId"], response.json()["priority"]) == (scenario.front["id"], "URGENT")
    assert response.json()["routedBy"]["routingVersion"] == routing["version"]
    count = len(await events_of(stack, conversation["id"]))
    # Nothing would change: nothing moves, and the decision is recorded all the same.
    again = await stack.http.post(f"/ccaas/1/conversations/{conversation['id']}/route")
    assert again.status_code == 200, again.text
    assert (again.json()["queueId"], again.json()["priority"]) == (scenario.front["id"], "URGENT")
    timeline = await events_of(stack, conversation["id"])
    assert len(timeline) == count + 1 and timeline[-1]["type"] == "ROUTED"
    assert timeline[-1]["fromQueueId"] == timeline[-1]["toQueueId"] == scenario.front["id"]


async def test_lifecycle_fields_tags_and_close(stack: Stack, scenario: Scenario):
    conversation = await create_conversation(stack.http, queueId=scenario.front["id"], tags=["new"])
    cid = conversation["id"]
    changed = await stack.http.patch(f"/ccaas/1/conversations/{cid}", json={
        "topic": "Refund", "summary": "Wants money back", "priority": "HIGH", "status": "WAITING",
    })
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["topic"], body["summary"], body["priority"], body["status"]) == (
        "Refund", "Wants money back", "HIGH", "WAITING")
    same = await stack.http.put(f"/ccaas/1/conversations/{cid}", json={"priority": "HIGH"})
    assert same.status_code == 200

    for _ in range(2):  # tagging twice is tagging once
        tagged = await stack.http.post(f"/ccaas/1/conversations/{cid}/tags", json={"tagName": "vip"})
        assert tagged.json()["tags"] == ["new", "vip"]
    assert (await stack.http.delete(f"/ccaas/1/conversations/{cid}/tags/new")).json()["tags"] == ["vip"]
    assert_error(await stack.http.delete(f"/ccaas/1/conversations/{cid}/tags/absent"), 404, "NOT_FOUND")
    listed = (await stack.http.get("/ccaas/1/conversations", params={"tagNames": "vip"})).json()
    assert [c["id"] for c in listed["conversations"]] == [cid]

    closed = await stack.http.patch(f"/ccaas/1/conversations/{cid}", json={"status": "CLOSED", "reason": "done"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "CLOSED" and closed.json()["closedAt"]

    types = [e["type"] for e in await events_of(stack, cid)]
    assert types == ["CREATED", "ROUTED", "UPDATED", "UPDATED", "PRIORITY_CHANGED", "STATUS_CHANGED",
                     "TAGGED", "UNTAGGED", "CLOSED"]
    handle = stack.temporal.get_workflow_handle(workflow_id(cid))
    await wait_for(lambda: _completed(handle))

    before = await events_of(stack, cid)
    for response in [
        await stack.http.patch(f"/ccaas/1/conversations/{cid}", json={"topic": "again"}),
        await reroute(stack, cid, scenario.authenticated["id"]),
        await stack.http.post(f"/ccaas/1/conversations/{cid}/tags", json={"tagName": "late"}),
        await stack.http.post(f"/ccaas/1/conversations/{cid}/route"),
    ]:
        error = assert_error(response, 409, "CONFLICT")
        assert error["text"] == "Closed conversation cannot be changed"
    assert await events_of(stack, cid) == before


async def _completed(handle) -> bool:
    from temporalio.client import WorkflowExecutionStatus

    return (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED


@pytest.mark.parametrize(
    "body, field",
    [
        ({"queueId": "no-such-queue"}, "queueId"),
        ({"queueId": None}, "queueId"),
        ({"status": "DONE"}, "status"),
        ({"priority": None}, "priority"),
        ({"agentId": "someone"}, "agentId"),
        ({"colour": "red"}, "colour"),
        ({"reason": "x" * 1025}, "reason"),
    ],
)
@pytest.mark.sqlite_only
async def test_a_bad_change_is_refused_at_its_field_and_changes_nothing(
    stack: Stack, scenario: Scenario, body, field
):
    conversation = await create_conversation(stack.http, queueId=scenario.front["id"])
    before = await events_of(stack, conversation["id"])
    response = await stack.http.patch(f"/ccaas/1/conversations/{conversation['id']}", json=body)
    assert_error(response, 400, "BAD_REQUEST", field)
    assert await events_of(stack, conversation["id"]) == before


async def test_changing_an_unknown_conversation_is_404(stack: Stack):
    assert_error(await stack.http.patch("/ccaas/1/conversations/nope", json={"topic": "x"}), 404, "NOT_FOUND")
    assert_error(await stack.http.get("/ccaas/1/conversations/nope/events"), 404, "NOT_FOUND")


async def test_a_conversation_takes_at_most_fifty_tags(stack: Stack, scenario: Scenario):
    conversation = await create_conversation(stack.http, tags=[f"t{i}" for i in range(50)])
    url = f"/ccaas/1/conversations/{conversation['id']}/tags"
    assert_error(await stack.http.post(url, json={"tagName": "one too many"}), 400, "BAD_REQUEST")
    again = await stack.http.post(url, json={"tagName": "t0"})  # already there: no change, no refusal
    assert again.status_code == 200 and len(again.json()["tags"]) == 50


async def test_a_bot_queue_cannot_be_the_default_queue(stack: Stack, scenario: Scenario):
    settings = await stack.http.get("/ccaas/1/routing/settings")
    assert_error(await stack.http.put("/ccaas/1/routing/settings",
                                      json={"defaultQueueId": scenario.bot_queue["id"]}),
                 400, "BAD_REQUEST", "defaultQueueId")
    default = settings.json()["defaultQueueId"]
    name = (await stack.http.get(f"/ccaas/1/queues/{default}")).json()["name"]
    assert_error(await stack.http.put(f"/ccaas/1/queues/{default}",
                                      json={"name": name, "botId": scenario.bot["id"]}), 409, "CONFLICT", "botId")
    assert (await stack.http.get("/ccaas/1/routing/settings")).json() == settings.json()
    assert (await stack.http.get(f"/ccaas/1/queues/{default}")).json()["botId"] is None
