"""Stay statistics over HTTP (SPEC "Service level"): conversations driven through the API and
their workflows (created, assigned, replied to by an agent and by a supervisor, solved, closed,
moved, one abandoned), then the endpoint's figures compared with the same figures rebuilt here
from each conversation's own timeline (`/events`) and messages by a small reference
implementation written apart from the store's. The exact rules, reopenings, bots, out of hours
and offers included, are the store test's (tests/store/test_stay_statistics.py)."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from store.db import session_scope
from store.stays import STAYS
from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, unique, wait_for

A = "/ccaas/1/agents"
C = "/ccaas/1/conversations"
Q = "/ccaas/1/queues"


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def new_agent(stack: Stack, role: str, queue_id: str) -> dict[str, Any]:
    created = await stack.http.post(A, json={"displayName": unique(role), "role": role, "status": "ACTIVE"})
    assert created.status_code == 201, created.text
    agent = created.json()
    joined = await stack.http.post(f"{A}/{agent['id']}/queues", json={"queueId": queue_id})
    assert joined.status_code == 200, joined.text
    return agent


def client_of(stack: Stack, agent: dict[str, Any]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=stack.http._transport, base_url=stack.http.base_url,
                             headers={"Authorization": f"App {agent['apiKey']}"})


async def patch(stack: Stack, conversation_id: str, **fields: Any) -> None:
    response = await stack.http.patch(f"{C}/{conversation_id}", json=fields)
    assert response.status_code == 200, response.text


async def reply(http: httpx.AsyncClient, conversation_id: str) -> None:
    response = await http.post(f"{C}/{conversation_id}/messages", json={
        "channel": "LIVE_CHAT", "from": "support", "to": "+447700900123", "direction": "OUTBOUND",
        "contentType": "TEXT", "content": {"text": "On it"}})
    assert response.status_code == 201, response.text


def waited(stay: dict[str, Any], moment: datetime) -> float:
    return (moment - stay["entry"]).total_seconds()


def nearest_rank(values: list[float], q: float) -> float | None:
    return sorted(values)[math.ceil(q * len(values)) - 1] if values else None


async def rebuilt(stack: Stack, conversation_ids: list[str], queue_id: str, target: int,
                  start: datetime, end: datetime) -> dict[str, Any]:
    """The figures from the timelines, for what this test drives: no reopening, bot, hours or
    offer. A stay runs from a move into the queue to a move out, SOLVED or CLOSED; answered at
    its first ASSIGNED; abandoned if it ended by SOLVED or CLOSED with no agent then or before;
    its first agent reply is the first OUTBOUND message by an author whose role is AGENT."""
    roles: dict[str, str] = {}
    entered = answered_within = abandoned = abandoned_after = 0
    answers: list[float] = []
    replies: list[float] = []
    for conversation_id in conversation_ids:
        events = (await stack.http.get(f"{C}/{conversation_id}/events")).json()["events"]
        messages = (await stack.http.get(f"{C}/{conversation_id}/messages")).json()["messages"]
        stay: dict[str, Any] | None = None
        agent = None
        stays = []
        for event in events:
            moved = event["type"] in ("ROUTED", "REROUTED") and event["fromQueueId"] != event["toQueueId"]
            if stay is not None and (moved or event["type"] == "CLOSED" or event["status"] == "SOLVED"):
                stay["end"] = at(event["at"])
                stay["abandoned"] = not moved and agent is None and stay["answer"] is None
                stay = None
            if moved and event["toQueueId"] == queue_id:
                stay = {"entry": at(event["at"]), "answer": None, "end": None, "abandoned": False}
                stays.append(stay)
            elif event["type"] == "ASSIGNED":
                agent = event["agentId"]
                if stay is not None and stay["answer"] is None:
                    stay["answer"] = at(event["at"])
            elif event["type"] == "UNASSIGNED":
                agent = None
        by_agents = []
        for message in messages:
            author = message["authorId"]
            if message["direction"] != "OUTBOUND" or message["authorType"] != "AGENT" or author is None:
                continue
            if author not in roles:
                found = await stack.http.get(f"{A}/{author}")
                roles[author] = found.json()["role"] if found.status_code == 200 else "none"
            if roles[author] == "AGENT":
                by_agents.append(at(message["createdAt"]))
        for stay in stays:
            entered += start <= stay["entry"] <= end
            if stay["answer"] is not None and start <= stay["answer"] <= end:
                answers.append(waited(stay, stay["answer"]))
                answered_within += waited(stay, stay["answer"]) <= target
            if stay["abandoned"] and start <= stay["end"] <= end:
                abandoned += 1
                abandoned_after += waited(stay, stay["end"]) > target
            during = [m for m in by_agents if m >= stay["entry"] and (stay["end"] is None or m < stay["end"])]
            if during and start <= min(during) <= end:
                replies.append(waited(stay, min(during)))
    counted = len(answers) + abandoned_after

    def timing(values: list[float]) -> dict[str, float | None]:
        average = sum(values) / len(values) if values else None
        return {"average": average, "p50": nearest_rank(values, 0.5), "p90": nearest_rank(values, 0.9)}

    return {
        "staysEntered": entered, "staysAnswered": len(answers), "staysAbandoned": abandoned,
        "firstAgentReplies": len(replies), "answeredWithinTarget": answered_within,
        "abandonedAfterTarget": abandoned_after,
        "serviceLevel": answered_within / counted if counted else None,
        "timeToAnswer": timing(answers), "timeToFirstReply": timing(replies),
    }


def close_enough(got: Any, want: Any) -> bool:
    """Equal, numbers to the millisecond (the timeline's times are answered in milliseconds)."""
    if isinstance(want, dict):
        return set(got) == set(want) and all(close_enough(got[k], want[k]) for k in want)
    if isinstance(want, float) and got is not None:
        return abs(got - want) <= 0.002
    return bool(got == want)


async def test_the_endpoint_agrees_with_the_figures_rebuilt_from_the_timelines(stack: Stack):
    queue = await create_queue(stack.http, unique("Service level"), serviceLevelTargetSeconds=60,
                               serviceLevelTargetPercent=80)
    elsewhere = await create_queue(stack.http, unique("Elsewhere"))
    agent = await new_agent(stack, "AGENT", queue["id"])
    supervisor = await new_agent(stack, "SUPERVISOR", queue["id"])
    start = datetime.now(UTC) - timedelta(seconds=1)

    ids = [(await create_conversation(stack.http, queueId=queue["id"]))["id"] for _ in range(5)]
    answered_solved_closed, answered_open, abandoned, moved, solved_unassigned = ids
    async with client_of(stack, agent) as as_agent, client_of(stack, supervisor) as as_supervisor:
        await patch(stack, answered_solved_closed, agentId=agent["id"])
        await reply(as_agent, answered_solved_closed)
        await patch(stack, answered_solved_closed, status="SOLVED")
        await patch(stack, answered_solved_closed, status="CLOSED")
        # The supervisor's reply is no agent reply: the agent's, after it, is the first.
        await reply(as_supervisor, answered_open)
        await patch(stack, answered_open, agentId=agent["id"])
        await reply(as_agent, answered_open)
    await patch(stack, abandoned, status="CLOSED")
    await patch(stack, moved, queueId=elsewhere["id"])
    await patch(stack, solved_unassigned, status="SOLVED", reason="sorted out by itself")

    response = await stack.http.get(f"{Q}/{queue['id']}/statistics", params={"from": iso(start)})
    assert response.status_code == 200, response.text
    stats = response.json()
    end = at(stats["windowEnd"])
    assert at(stats["windowStart"]) == start.replace(microsecond=start.microsecond // 1000 * 1000)
    want = await rebuilt(stack, ids, queue["id"], 60, at(stats["windowStart"]), end)
    got = {name: stats[name] for name in want}
    assert close_enough(got, want), (got, want)
    # What this test drove, so the agreement is not one of two empty answers.
    assert (want["staysEntered"], want["staysAnswered"], want["staysAbandoned"]) == (5, 2, 2)
    assert want["firstAgentReplies"] == 2
    assert stats["serviceLevelMet"] is (stats["serviceLevel"] * 100 >= 80)
    assert (stats["serviceLevelTargetSeconds"], stats["serviceLevelTargetPercent"]) == (60, 80)
    assert stats["offers"] is None  # the queue makes no offers
    assert stats["routedInLastHour"] == 5 and stats["routedOutLastHour"] == 1
    # Waiting now: the one answered is held, the others closed, solved or moved.
    assert stats["waitingByPriority"] == {"URGENT": 0, "HIGH": 0, "NORMAL": 0, "LOW": 0}
    assert stats["longestWaitingUnassigned"] is None
    assert stats["activeMemberAgents"] == 2

    # A window before all of it counts nothing.
    earlier = {"from": iso(start - timedelta(hours=2)), "to": iso(start - timedelta(hours=1))}
    before = (await stack.http.get(f"{Q}/{queue['id']}/statistics", params=earlier)).json()
    assert (before["staysEntered"], before["staysAnswered"], before["serviceLevel"]) == (0, 0, None)


async def test_the_estimate_read_at_entry_is_measured_against_the_wait(stack: Stack):
    queue = await create_queue(stack.http, unique("Estimates"))
    # AWAY: it takes conversations by hand only, and gives the queue no agent with room.
    created = await stack.http.post(A, json={"displayName": unique("agent"), "role": "AGENT", "status": "AWAY"})
    assert created.status_code == 201, created.text
    agent = created.json()

    async def estimate_read(conversation_ids: list[str]) -> None:
        """Once the dispatcher has read these stays' estimates (a pass a second, none claiming)."""
        def read() -> bool:
            with session_scope(stack.engine) as session:
                return not session.connection().execute(select(STAYS.c.seq).where(
                    STAYS.c.conversation_id.in_(conversation_ids), STAYS.c.entry_estimate_at.is_(None))).first()

        async def done() -> bool:
            return await asyncio.to_thread(read)

        await wait_for(done)

    start = datetime.now(UTC) - timedelta(seconds=1)
    # Two answers, of stays that entered with no answer before (no estimate): 900 s an answer.
    answered = [(await create_conversation(stack.http, queueId=queue["id"]))["id"] for _ in range(2)]
    await estimate_read(answered)
    for conversation_id in answered:
        await patch(stack, conversation_id, agentId=agent["id"])

    waiting = (await create_conversation(stack.http, queueId=queue["id"]))["id"]
    await estimate_read([waiting])
    read = (await stack.http.get(f"{C}/{waiting}")).json()
    assert (read["queuePosition"], read["estimatedWaitSeconds"]) == (1, 900.0)
    await patch(stack, waiting, agentId=agent["id"])

    events = (await stack.http.get(f"{C}/{waiting}/events")).json()["events"]
    entry = next(at(e["at"]) for e in events if e["type"] == "ROUTED")
    answer = next(at(e["at"]) for e in events if e["type"] == "ASSIGNED")
    stats = (await stack.http.get(f"{Q}/{queue['id']}/statistics", params={"from": iso(start)})).json()
    assert stats["staysAnswered"] == 3
    # The only stay with an estimate: |900 s - its wait|.
    assert close_enough(stats["estimatedWaitErrorSeconds"], abs(900 - (answer - entry).total_seconds())), stats
    earlier = {"from": iso(start - timedelta(hours=2)), "to": iso(start - timedelta(hours=1))}
    before = (await stack.http.get(f"{Q}/{queue['id']}/statistics", params=earlier)).json()
    assert before["estimatedWaitErrorSeconds"] is None


async def test_a_bad_window_is_a_400_at_its_parameter(stack: Stack):
    queue = await create_queue(stack.http, unique("Windows"))
    path = f"{Q}/{queue['id']}/statistics"
    now = datetime.now(UTC)
    for params, field in (
        ({"from": "yesterday"}, "from"),
        ({"to": "12"}, "to"),
        ({"from": iso(now), "to": iso(now - timedelta(hours=1))}, "to"),
        ({"from": iso(now - timedelta(days=32)), "to": iso(now)}, "to"),
        ({"from": iso(now + timedelta(hours=1))}, "from"),
    ):
        assert_error(await stack.http.get(path, params=params), 400, "BAD_REQUEST", field)
    month = {"from": iso(now - timedelta(days=31)), "to": iso(now)}
    assert (await stack.http.get(path, params=month)).status_code == 200
