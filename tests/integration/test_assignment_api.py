"""Work distribution through the API, with the real worker and its dispatcher, on SQLite and
PostgreSQL: auto-assignment by load, its events and their reasons, liveness as agents free
up, assignment by hand and who may do it, and an agent's conversations."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, dispatcher_passed, unique, wait_for

C, A = "/ccaas/1/conversations", "/ccaas/1/agents"


async def new_agent(stack: Stack, queue_ids: list[str], capacity: int | None = 3, status: str = "ACTIVE",
                    role: str = "AGENT") -> dict:
    body: dict[str, Any] = {"displayName": unique("agent"), "status": status, "role": role}
    if capacity is not None:
        body["maxConversations"] = capacity
    created = await stack.http.post(A, json=body)
    assert created.status_code == 201, created.text
    agent = created.json()
    for queue_id in queue_ids:
        joined = await stack.http.post(f"{A}/{agent['id']}/queues", json={"queueId": queue_id})
        assert joined.status_code == 200, joined.text
    return agent


def as_agent(stack: Stack, agent: dict) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=stack.http._transport, base_url=stack.http.base_url,
                             headers={"Authorization": f"App {agent['apiKey']}"})


async def events(stack: Stack, conversation_id: str) -> list[dict]:
    return (await stack.http.get(f"{C}/{conversation_id}/events")).json()["events"]


async def conversation(stack: Stack, conversation_id: str) -> dict:
    return (await stack.http.get(f"{C}/{conversation_id}")).json()


async def assigned_to(stack: Stack, conversation_id: str) -> str | None:
    return (await conversation(stack, conversation_id))["agentId"]


async def not_assigned_after_a_pass(stack: Stack, one: dict) -> None:
    """Still unassigned after a dispatcher pass begun after the caller's last change."""
    await dispatcher_passed(stack.worker.dispatcher)
    assert await assigned_to(stack, one["id"]) is None


async def test_a_burst_of_40_into_one_queue_with_3_agents_of_capacity_3_gives_exactly_9(stack: Stack):
    queue = await create_queue(stack.http, isAutoAssignmentEnabled=True)
    agents = [await new_agent(stack, [queue["id"]]) for _ in range(3)]
    created = await asyncio.gather(*(
        create_conversation(stack.http, queueId=queue["id"], topic=f"burst {n}") for n in range(40)
    ))
    ids = [c["id"] for c in created]

    async def nine_assigned() -> list[dict] | None:
        listed = (await stack.http.get(C, params={"queueIds": queue["id"], "limit": 100})).json()
        assigned = [c for c in listed["conversations"] if c["agentId"]]
        return listed["conversations"] if len(assigned) == 9 else None

    listed = await wait_for(nine_assigned, timeout=60)
    assert Counter(c["agentId"] for c in listed if c["agentId"]) == {a["id"]: 3 for a in agents}
    # Each assignment is one ASSIGNED event, explained; the others wait, with their place.
    for one in listed:
        timeline = await events(stack, one["id"])
        assigned = [e for e in timeline if e["type"] == "ASSIGNED"]
        if one["agentId"]:
            [event] = assigned
            assert event["actor"]["type"] == "SYSTEM"
            assert event["reason"].startswith("LOAD_BALANCING: lowest load; load ")
            assert "candidates:" in event["reason"]
            assert (await conversation(stack, one["id"]))["queuePosition"] is None
        else:
            assert assigned == []
    positions = sorted([(await conversation(stack, i))["queuePosition"] for i in ids
                        if not await assigned_to(stack, i)])
    assert positions == list(range(1, 32))
    # Agents' load shows it, and the queue's statistics.
    for agent in agents:
        shown = (await stack.http.get(f"{A}/{agent['id']}")).json()
        assert (shown["load"], shown["maxConversations"]) == (3, 3)
    stats = (await stack.http.get(f"/ccaas/1/queues/{queue['id']}/statistics")).json()
    assert (stats["waitingUnassigned"], stats["assigned"], stats["eligibleAgents"]) == (31, 9, 0)
    p50, p90 = (stats[f"timeToFirstAssignmentP{q}SecondsLastHour"] for q in (50, 90))
    assert 0 <= p50 <= p90 < 60


async def test_an_away_agent_gets_nothing_new_and_one_going_active_picks_up_within_seconds(stack: Stack):
    queue = await create_queue(stack.http, isAutoAssignmentEnabled=True)
    agent = await new_agent(stack, [queue["id"]], status="AWAY")
    waiting = await create_conversation(stack.http, queueId=queue["id"])
    await not_assigned_after_a_pass(stack, waiting)
    for status in ("BUSY", "INVISIBLE"):
        assert (await stack.http.put(f"{A}/{agent['id']}/status", json={"status": status})).status_code == 200
        await not_assigned_after_a_pass(stack, waiting)
    assert (await stack.http.put(f"{A}/{agent['id']}/status", json={"status": "ACTIVE"})).status_code == 200
    await wait_for(lambda: assigned_to(stack, waiting["id"]), timeout=10)
    assert await assigned_to(stack, waiting["id"]) == agent["id"]


async def test_closing_a_conversation_hands_the_oldest_waiting_one_to_that_agent(stack: Stack):
    queue = await create_queue(stack.http, isAutoAssignmentEnabled=True)
    agent = await new_agent(stack, [queue["id"]], capacity=1)
    first = await create_conversation(stack.http, queueId=queue["id"])
    await wait_for(lambda: assigned_to(stack, first["id"]), timeout=10)
    oldest = await create_conversation(stack.http, queueId=queue["id"])
    newer = await create_conversation(stack.http, queueId=queue["id"])
    # Estimated waits: one answer in the last 30 minutes (1800 s per answer), no agent with room.
    shown = [await conversation(stack, one["id"]) for one in (oldest, newer)]
    assert [(one["queuePosition"], one["estimatedWaitSeconds"]) for one in shown] == [(1, 1800.0), (2, 3600.0)]

    closed = await stack.http.patch(f"{C}/{first['id']}", json={"status": "CLOSED"})
    assert closed.status_code == 200, closed.text
    await wait_for(lambda: assigned_to(stack, oldest["id"]), timeout=10)
    assert await assigned_to(stack, oldest["id"]) == agent["id"]
    await not_assigned_after_a_pass(stack, newer)
    # First now, after two answers in the last 30 minutes; the assigned one has no estimate.
    shown = [await conversation(stack, one["id"]) for one in (oldest, newer)]
    assert [(one["queuePosition"], one["estimatedWaitSeconds"]) for one in shown] == [(None, None), (1, 900.0)]


async def test_round_robin_takes_turns_and_sticky_brings_a_customer_back(stack: Stack):
    queue = await create_queue(stack.http, isAutoAssignmentEnabled=True, autoAssignmentAlgorithm="ROUND_ROBIN",
                               isStickyAutoAssignmentEnabled=True, stickyAgentTimeoutDays=1)
    agents = [await new_agent(stack, [queue["id"]], capacity=5) for _ in range(2)]
    turns = []
    for n in range(4):
        one = await create_conversation(stack.http, queueId=queue["id"], **{"from": f"+3859100000{n}"})
        turns.append(await wait_for(lambda: assigned_to(stack, one["id"]), timeout=10))  # noqa: B023
    assert turns[0] != turns[1] and turns[:2] == turns[2:]
    assert set(turns) == {a["id"] for a in agents}
    # The customer of the first comes back: the same agent, though it is not its turn.
    again = await create_conversation(stack.http, queueId=queue["id"], **{"from": "+38591000000"})
    assert await wait_for(lambda: assigned_to(stack, again["id"]), timeout=10) == turns[0]
    [assigned] = [e for e in await events(stack, again["id"]) if e["type"] == "ASSIGNED"]
    assert assigned["reason"].startswith("sticky")


async def test_assignment_by_hand_and_who_may(stack: Stack):
    queue = await create_queue(stack.http)
    other_queue = await create_queue(stack.http)
    ana = await new_agent(stack, [queue["id"]], capacity=1)
    ben = await new_agent(stack, [queue["id"]])
    full = await create_conversation(stack.http, queueId=queue["id"])
    one = await create_conversation(stack.http, queueId=queue["id"])
    elsewhere = await create_conversation(stack.http, queueId=other_queue["id"])

    # A supervisor assigns any enabled agent, over capacity too, and the event says so.
    put = await stack.http.put(f"{C}/{full['id']}/assignee", json={"agentId": ana["id"]})
    assert put.status_code == 200 and put.json()["agentId"] == ana["id"], put.text
    over = await stack.http.patch(f"{C}/{one['id']}", json={"agentId": ana["id"]})
    assert over.status_code == 200, over.text
    reason = [e for e in await events(stack, one["id"]) if e["type"] == "ASSIGNED"][-1]["reason"]
    assert reason == "assigned by a supervisor; load 1/1; over capacity"
    removed = await stack.http.delete(f"{C}/{one['id']}/assignee")
    assert removed.status_code == 200 and removed.json()["agentId"] is None
    unassigned = (await events(stack, one["id"]))[-1]
    assert (unassigned["type"], unassigned["agentId"]) == ("UNASSIGNED", ana["id"])

    async with as_agent(stack, ben) as ben_http:
        # An agent takes an unassigned conversation of its queues for itself, and releases it.
        taken = await ben_http.put(f"{C}/{one['id']}/assignee", json={"agentId": ben["id"]})
        assert taken.status_code == 200 and taken.json()["agentId"] == ben["id"], taken.text
        assert_error(await ben_http.put(f"{C}/{one['id']}/assignee", json={"agentId": ana["id"]}),
                     403, "FORBIDDEN")
        assert_error(await ben_http.patch(f"{C}/{full['id']}", json={"agentId": ben["id"]}), 409, "CONFLICT")
        assert_error(await ben_http.delete(f"{C}/{full['id']}/assignee"), 403, "FORBIDDEN")
        assert_error(await ben_http.put(f"{C}/{elsewhere['id']}/assignee", json={"agentId": ben["id"]}),
                     403, "FORBIDDEN")
        released = await ben_http.delete(f"{C}/{one['id']}/assignee")
        assert released.status_code == 200 and released.json()["agentId"] is None
        mine = (await ben_http.get(f"{A}/{ben['id']}/conversations")).json()
        assert mine["conversations"] == [] and mine["pagination"]["totalItems"] == 0
        assert_error(await ben_http.get(f"{A}/{ana['id']}/conversations"), 403, "FORBIDDEN")

    # A bot assigns nobody; an agent creates conversations assigned to nobody but itself.
    bot = (await stack.http.post("/ccaas/1/bots", json={"displayName": unique("bot")})).json()
    served = await create_queue(stack.http, botId=bot["id"])
    in_bot_queue = await create_conversation(stack.http, queueId=served["id"])
    async with as_agent(stack, bot) as bot_http:
        assert_error(await bot_http.patch(f"{C}/{in_bot_queue['id']}", json={"agentId": ana["id"]}),
                     403, "FORBIDDEN")
        assert_error(await bot_http.put(f"{C}/{in_bot_queue['id']}/assignee", json={"agentId": ana["id"]}),
                     403, "FORBIDDEN")
        assert_error(await bot_http.post(C, json={"agentId": ana["id"]}), 403, "FORBIDDEN")
    async with as_agent(stack, ben) as ben_http:
        assert_error(await ben_http.post(C, json={"queueId": queue["id"], "agentId": ana["id"]}), 403, "FORBIDDEN")
        mine = await ben_http.post(C, json={"queueId": queue["id"], "agentId": ben["id"]})
        assert mine.status_code == 201 and mine.json()["agentId"] == ben["id"], mine.text
    assert await assigned_to(stack, in_bot_queue["id"]) is None

    # Bad input changes nothing.
    assert_error(await stack.http.put(f"{C}/{one['id']}/assignee", json={"agentId": "nobody"}),
                 400, "BAD_REQUEST", "agentId")
    disabled = await new_agent(stack, [queue["id"]])
    assert (await stack.http.put(f"{A}/{disabled['id']}", json={
        "displayName": "x", "status": "ACTIVE", "role": "AGENT", "enabled": False})).status_code == 200
    assert_error(await stack.http.put(f"{C}/{one['id']}/assignee", json={"agentId": disabled["id"]}),
                 400, "BAD_REQUEST", "agentId")
    assert_error(await stack.http.put(f"{C}/{one['id']}/assignee", json={}), 400, "BAD_REQUEST", "agentId")
    assert_error(await stack.http.put(f"{C}/missing/assignee", json={"agentId": ana["id"]}), 404, "NOT_FOUND")
    closed = await create_conversation(stack.http, queueId=queue["id"], status="CLOSED")
    assert_error(await stack.http.put(f"{C}/{closed['id']}/assignee", json={"agentId": ana["id"]}),
                 409, "CONFLICT")
    assert await assigned_to(stack, one["id"]) is None

    listed = (await stack.http.get(f"{A}/{ana['id']}/conversations")).json()
    assert [c["id"] for c in listed["conversations"]] == [full["id"]]
    assert listed["pagination"] == {"totalItems": 1, "page": 0, "limit": 10, "orderBy": "createdAt:desc"}
    assert_error(await stack.http.get(f"{A}/nobody/conversations"), 404, "NOT_FOUND")


async def test_a_reroute_unassigns_unless_the_agent_is_a_member_and_route_again_unassigns(stack: Stack):
    sales, billing, support = [await create_queue(stack.http) for _ in range(3)]
    agent = await new_agent(stack, [sales["id"], billing["id"]])
    one = await create_conversation(stack.http, queueId=sales["id"], agentId=agent["id"])
    moved = await stack.http.patch(f"{C}/{one['id']}", json={"queueId": billing["id"]})
    assert moved.json()["agentId"] == agent["id"]
    moved = await stack.http.patch(f"{C}/{one['id']}", json={"queueId": support["id"], "reason": "wrong team"})
    assert moved.json()["agentId"] is None
    assert [e["type"] for e in await events(stack, one["id"])][-2:] == ["REROUTED", "UNASSIGNED"]

    again = await stack.http.put(f"{C}/{one['id']}/assignee", json={"agentId": agent["id"]})
    assert again.json()["agentId"] == agent["id"]
    routed = await stack.http.post(f"{C}/{one['id']}/route")
    assert routed.status_code == 200 and routed.json()["agentId"] is None, routed.text


async def test_capacity_is_bounded_and_raising_it_hands_out_more_work(stack: Stack):
    for bad in (-1, 1001, "many", 2.5):
        assert_error(await stack.http.post(A, json={"displayName": "x", "status": "ACTIVE", "role": "AGENT",
                                                    "maxConversations": bad}), 400, "BAD_REQUEST", "maxConversations")
    queue = await create_queue(stack.http, isAutoAssignmentEnabled=True)
    default = await new_agent(stack, [], capacity=None)
    assert default["maxConversations"] == 5 and default["load"] == 0
    agent = await new_agent(stack, [queue["id"]], capacity=0)
    waiting = await create_conversation(stack.http, queueId=queue["id"])
    await create_conversation(stack.http, queueId=queue["id"])
    await not_assigned_after_a_pass(stack, waiting)
    raised = await stack.http.put(f"{A}/{agent['id']}", json={
        "displayName": "x", "status": "ACTIVE", "role": "AGENT", "maxConversations": 1})
    assert raised.status_code == 200 and raised.json()["maxConversations"] == 1, raised.text
    assert await wait_for(lambda: assigned_to(stack, waiting["id"]), timeout=10) == agent["id"]
