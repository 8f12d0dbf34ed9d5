"""POST /conversations/{id}/route records its decision even when nothing moves: an assigned
conversation whose routing keeps its queue and priority is unassigned (as Infobip does) and
gets a ROUTED event with the rule, the routing version and the trace, from its queue to the
same queue."""

from __future__ import annotations

from tests.conftest import Stack
from tests.helpers import create_conversation, create_queue, put_routing, rule

C = "/ccaas/1/conversations"


async def test_route_again_that_keeps_the_queue_records_routed_with_rule_version_and_trace(stack: Stack):
    front = await create_queue(stack.http)
    routing = await put_routing(stack.http, [rule("sms", front["id"], {"$eq": {"message.channel": "SMS"}})])
    agent = (await stack.http.post("/ccaas/1/agents", json={"displayName": "Ana", "status": "ACTIVE"})).json()
    conversation = await create_conversation(stack.http, channel="SMS")
    cid = conversation["id"]
    assert conversation["queueId"] == front["id"]
    assigned = await stack.http.put(f"{C}/{cid}/assignee", json={"agentId": agent["id"]})
    assert assigned.status_code == 200, assigned.text

    routed = await stack.http.post(f"{C}/{cid}/route")
    assert routed.status_code == 200, routed.text
    assert (routed.json()["queueId"], routed.json()["priority"], routed.json()["agentId"]) == (
        front["id"], "NORMAL", None)
    timeline = (await stack.http.get(f"{C}/{cid}/events")).json()["events"]
    assert [event["type"] for event in timeline][-3:] == ["ASSIGNED", "UNASSIGNED", "ROUTED"]
    decision = timeline[-1]
    [route] = routing["routes"]
    assert (decision["fromQueueId"], decision["toQueueId"], decision["priority"]) == (
        front["id"], front["id"], "NORMAL")
    assert (decision["routeId"], decision["routingVersion"]) == (route["id"], routing["version"])
    assert [(entry["routeId"], entry["outcome"]) for entry in decision["trace"]] == [(route["id"], "MATCHED")]
    assert decision["reason"] == "routing run again: matched rule; queue and priority kept"
    assert routed.json()["routedBy"] == {"routeId": route["id"], "routingVersion": routing["version"]}
