"""Queue statistics over HTTP: real conversations created, rerouted and closed through the API,
each move carried out by its workflow, then counted. Exact ages are the store tests' job
(tests/store/test_statistics.py, with a fixed clock); here they must be sane, grow with time,
and name the conversation that entered the queue first, by its own timeline."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, unique

QUEUES = "/ccaas/1/queues"
CONVERSATIONS = "/ccaas/1/conversations"
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
STATISTICS_FIELDS = {
    "queueId", "queueName", "openConversations", "byStatus", "byPriority", "longestWaiting",
    "routedInLastHour", "routedOutLastHour", "meanTimeInQueueSecondsLastHour",
    "waitingUnassigned", "assigned", "pendingOffers", "eligibleAgents", "timeToFirstAssignmentP50SecondsLastHour",
    "timeToFirstAssignmentP90SecondsLastHour", "waitingByPriority", "longestWaitingUnassigned",
    "activeMemberAgents",
}
# One queue's answer adds its stay figures over the window (tests/integration/test_stay_statistics_api.py).
WINDOW_FIELDS = {
    "generatedAt", "windowStart", "windowEnd", "staysEntered", "staysAnswered", "staysAbandoned",
    "firstAgentReplies", "answeredWithinTarget", "abandonedAfterTarget", "serviceLevel",
    "serviceLevelMet", "serviceLevelTargetSeconds", "serviceLevelTargetPercent", "timeToAnswer",
    "timeToFirstReply", "offers", "estimatedWaitErrorSeconds",
}


def parse_time(value: str) -> datetime:
    assert TIME.match(value), value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


async def statistics_of(stack: Stack, queue_id: str) -> dict[str, Any]:
    response = await stack.http.get(f"{QUEUES}/{queue_id}/statistics")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == STATISTICS_FIELDS | WINDOW_FIELDS, body
    return body


async def all_statistics(stack: Stack) -> dict[str, Any]:
    response = await stack.http.get(f"{QUEUES}/statistics")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"queues", "generatedAt"}, body
    parse_time(body["generatedAt"])
    for queue in body["queues"]:
        assert set(queue) == STATISTICS_FIELDS, queue
    return body


async def patch(stack: Stack, conversation_id: str, **fields: Any) -> dict[str, Any]:
    response = await stack.http.patch(f"{CONVERSATIONS}/{conversation_id}", json=fields)
    assert response.status_code == 200, response.text
    return response.json()


async def entered_at(stack: Stack, conversation_id: str, queue_id: str) -> datetime:
    """When the conversation last moved into the queue, by its own timeline."""
    response = await stack.http.get(f"{CONVERSATIONS}/{conversation_id}/events")
    assert response.status_code == 200, response.text
    moves = [
        event for event in response.json()["events"]
        if event["type"] in ("ROUTED", "REROUTED")
        and event["toQueueId"] == queue_id and event["fromQueueId"] != queue_id
    ]
    return parse_time(moves[-1]["at"])


def counts(stats: dict[str, Any]) -> tuple:
    return (stats["openConversations"], stats["routedInLastHour"], stats["routedOutLastHour"])


def check_age(stats: dict[str, Any]) -> dict[str, Any]:
    """The longest wait is measured from `since` to when the answer was made, never below 0."""
    waiting = stats["longestWaiting"]
    assert set(waiting) == {"conversationId", "ageSeconds", "since"}, waiting
    since = parse_time(waiting["since"])
    generated = parse_time(stats["generatedAt"])
    assert since <= generated
    assert waiting["ageSeconds"] >= 0
    assert abs(waiting["ageSeconds"] - (generated - since).total_seconds()) < 0.002, stats
    return waiting


async def test_statistics_follow_conversations_through_creation_reroutes_and_close(stack: Stack):
    front = await create_queue(stack.http, unique("Front desk"))
    back = await create_queue(stack.http, unique("Back office"))
    empty = await create_queue(stack.http, unique("Empty"))

    # An empty queue: every key present, zero, nothing waiting, no mean.
    stats = await statistics_of(stack, empty["id"])
    assert (stats["queueId"], stats["queueName"]) == (empty["id"], empty["name"])
    assert stats["byStatus"] == {"OPEN": 0, "WAITING": 0, "SOLVED": 0}
    assert stats["byPriority"] == {"URGENT": 0, "HIGH": 0, "NORMAL": 0, "LOW": 0}
    assert counts(stats) == (0, 0, 0)
    assert stats["longestWaiting"] is None and stats["meanTimeInQueueSecondsLastHour"] is None

    # c1 first of all, into the front desk; c4 into the back office after the front desk's three.
    c1 = await create_conversation(stack.http, queueId=front["id"], priority="HIGH")
    c2 = await create_conversation(stack.http, queueId=front["id"], priority="URGENT")
    c3 = await create_conversation(stack.http, queueId=front["id"])
    c4 = await create_conversation(stack.http, queueId=back["id"], priority="LOW")
    await patch(stack, c2["id"], status="WAITING")

    stats = await statistics_of(stack, front["id"])
    assert counts(stats) == (3, 3, 0)
    assert stats["byStatus"] == {"OPEN": 2, "WAITING": 1, "SOLVED": 0}
    assert stats["byPriority"] == {"URGENT": 1, "HIGH": 1, "NORMAL": 1, "LOW": 0}
    assert list(stats["byPriority"]) == ["URGENT", "HIGH", "NORMAL", "LOW"]
    assert check_age(stats)["conversationId"] == c1["id"]
    assert stats["meanTimeInQueueSecondsLastHour"] is None

    # The age grows with the clock, for the same conversation.
    first_age = stats["longestWaiting"]["ageSeconds"]
    await asyncio.sleep(0.05)
    stats = await statistics_of(stack, front["id"])
    assert check_age(stats)["conversationId"] == c1["id"]
    assert stats["longestWaiting"]["ageSeconds"] > first_age

    # c1 to the back office: it counts there from now, after c4, though it was created first.
    await patch(stack, c1["id"], queueId=back["id"], reason="needs the back office")
    stats = await statistics_of(stack, front["id"])
    assert counts(stats) == (2, 3, 1)
    assert check_age(stats)["conversationId"] == c2["id"]
    front_mean = stats["meanTimeInQueueSecondsLastHour"]
    assert front_mean is not None and front_mean > 0
    stats = await statistics_of(stack, back["id"])
    assert counts(stats) == (2, 2, 0)
    assert stats["byPriority"] == {"URGENT": 0, "HIGH": 1, "NORMAL": 0, "LOW": 1}
    waiting = check_age(stats)
    assert waiting["conversationId"] == c4["id"]
    assert parse_time(waiting["since"]) == await entered_at(stack, c4["id"], back["id"])

    # And back: c1 is the newest arrival of the front desk again; c2 still waits longest there.
    await patch(stack, c1["id"], queueId=front["id"])
    front_stats = await statistics_of(stack, front["id"])
    assert counts(front_stats) == (3, 4, 1)
    waiting = check_age(front_stats)
    assert waiting["conversationId"] == c2["id"]
    entries = {c["id"]: await entered_at(stack, c["id"], front["id"]) for c in (c1, c2, c3)}
    assert parse_time(waiting["since"]) == entries[c2["id"]] == min(entries.values())
    assert entries[c1["id"]] == max(entries.values())
    back_stats = await statistics_of(stack, back["id"])
    assert counts(back_stats) == (1, 2, 1)
    assert back_stats["meanTimeInQueueSecondsLastHour"] > 0
    # Only the front desk's first stay of c1 has ended there: its mean did not change.
    assert front_stats["meanTimeInQueueSecondsLastHour"] == front_mean

    # Closed: no longer open nor waiting, and no move out.
    await patch(stack, c2["id"], status="CLOSED")
    stats = await statistics_of(stack, front["id"])
    assert counts(stats) == (2, 4, 1)
    assert stats["byStatus"] == {"OPEN": 2, "WAITING": 0, "SOLVED": 0}
    assert check_age(stats)["conversationId"] == c3["id"]

    # The all-queues answer says the same of each queue.
    everything = await all_statistics(stack)
    by_id = {queue["queueId"]: queue for queue in everything["queues"]}
    for queue in (front, back, empty):
        one = await statistics_of(stack, queue["id"])
        both = by_id[queue["id"]]
        assert counts(both) == counts(one)
        assert (both["byStatus"], both["byPriority"]) == (one["byStatus"], one["byPriority"])
        assert both["meanTimeInQueueSecondsLastHour"] == one["meanTimeInQueueSecondsLastHour"]
        assert (both["longestWaiting"] or {}).get("conversationId") == (
            one["longestWaiting"] or {}
        ).get("conversationId")


async def test_all_queues_lists_the_live_ones_and_a_deleted_one_can_still_be_asked(stack: Stack):
    kept = await create_queue(stack.http, unique("Kept"))
    gone = await create_queue(stack.http, unique("Gone"))
    conversation = await create_conversation(stack.http, queueId=gone["id"])
    await patch(stack, conversation["id"], queueId=kept["id"])
    response = await stack.http.delete(f"{QUEUES}/{gone['id']}")
    assert response.status_code == 200, response.text

    listed = await stack.http.get(QUEUES, params={"limit": 999})
    live = {queue["id"]: queue["name"] for queue in listed.json()["queues"]}
    everything = await all_statistics(stack)
    assert {queue["queueId"]: queue["queueName"] for queue in everything["queues"]} == live
    assert gone["id"] not in live and kept["id"] in live

    # The deleted queue: nothing open, but its last hour still shows the move out.
    stats = await statistics_of(stack, gone["id"])
    assert counts(stats) == (0, 1, 1)
    assert stats["longestWaiting"] is None
    assert stats["meanTimeInQueueSecondsLastHour"] >= 0


async def test_an_unknown_queue_is_404_and_statistics_is_no_queue_id(stack: Stack):
    assert_error(await stack.http.get(f"{QUEUES}/{unique('nope')}/statistics"), 404, "NOT_FOUND")
    # `/queues/statistics` is the all-queues answer, not a queue named "statistics".
    await all_statistics(stack)
