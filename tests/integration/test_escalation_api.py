"""Escalation ladders end to end: a queue's `escalation` saved and refused over HTTP, a real
conversation escalated by its workflow's durable timers, and the dry run of a queue's
escalations (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers import assert_error, create_conversation, create_queue, put_routing, rule, unique, wait_for
from tests.integration.test_queues_api import parse_time

QUEUES = "/ccaas/1/queues"
C = "/ccaas/1/conversations"


async def events_of(http, conversation_id: str) -> list[dict]:
    response = await http.get(f"{C}/{conversation_id}/events")
    assert response.status_code == 200, response.text
    return response.json()["events"]


async def test_a_ladder_escalates_a_routed_conversation_through_both_steps(stack):
    http = stack.http
    other = await create_queue(http)
    front = await create_queue(http, escalation=[
        {"afterSeconds": 1, "priority": "HIGH"}, {"afterSeconds": 2, "queueId": other["id"]},
    ])
    assert front["escalation"] == [
        {"afterSeconds": 1, "priority": "HIGH", "queueId": None},
        {"afterSeconds": 2, "priority": None, "queueId": other["id"]},
    ]
    await put_routing(http, [rule("all", front["id"], {"$exists": {"message.channel": True}})])
    conversation = await create_conversation(http, channel="SMS")
    assert conversation["queueId"] == front["id"]

    async def escalated_twice() -> list[dict]:
        escalated = [event for event in await events_of(http, conversation["id"]) if event["type"] == "ESCALATED"]
        return escalated if len(escalated) == 2 else []

    first, second = await wait_for(escalated_twice, timeout=20)
    assert first["priority"] == "HIGH" and first["escalation"]["step"] == 0
    assert first["escalation"]["priorityRaised"] is True
    assert (second["fromQueueId"], second["toQueueId"]) == (front["id"], other["id"])
    assert second["escalation"] == {"step": 1, "afterSeconds": 2, "priority": None, "queueId": other["id"],
                                    "priorityRaised": False, "moved": True}
    after = (await http.get(f"{C}/{conversation['id']}")).json()
    assert (after["queueId"], after["priority"]) == (other["id"], "HIGH")


async def test_the_dry_run_shows_when_each_waiting_conversation_escalates_next(stack):
    http = stack.http
    queue = await create_queue(http, escalation=[{"afterSeconds": 3600, "priority": "URGENT"}])
    waiting = await create_conversation(http, queueId=queue["id"])
    plain = await create_queue(http)
    rerouted = await create_conversation(http, queueId=plain["id"])
    response = await http.get(f"{QUEUES}/{queue['id']}/escalations")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["queueId"] == queue["id"]
    assert body["escalation"] == [{"afterSeconds": 3600, "priority": "URGENT", "queueId": None}]
    [entry] = body["conversations"]
    assert entry["conversationId"] == waiting["id"] and entry["stepsTaken"] == 0
    entered = parse_time(entry["enteredQueueAt"])
    assert entry["nextStep"]["index"] == 0 and entry["nextStep"]["priority"] == "URGENT"
    assert parse_time(entry["nextStep"]["at"]) - entered == timedelta(hours=1)
    assert entry["whyNone"] is None
    # Moved into the queue by hand: its ladder starts then too.
    moved = await http.patch(f"{C}/{rerouted['id']}", json={"queueId": queue["id"]})
    assert moved.status_code == 200, moved.text
    entries = (await http.get(f"{QUEUES}/{queue['id']}/escalations")).json()["conversations"]
    assert [entry["conversationId"] for entry in entries] == [waiting["id"], rerouted["id"]]
    assert entries[1]["nextStep"]["index"] == 0
    assert (await http.get(f"{QUEUES}/no-such-queue/escalations")).status_code == 404


def bad_ladders(target: str, deleted: str, own: str) -> list[tuple[list[dict], str]]:
    """Every ladder saving refuses, with the field the refusal names."""
    return [
        ([{"afterSeconds": 1, "queueId": "no-such-queue"}], "escalation[0].queueId"),
        ([{"afterSeconds": 1, "queueId": deleted}], "escalation[0].queueId"),
        ([{"afterSeconds": 10, "priority": "HIGH"}, {"afterSeconds": 10, "priority": "URGENT"}],
         "escalation[1].afterSeconds"),
        ([{"afterSeconds": 10, "priority": "HIGH"}, {"afterSeconds": 5, "priority": "URGENT"}],
         "escalation[1].afterSeconds"),
        ([{"afterSeconds": 10}], "escalation[0]"),
        ([{"afterSeconds": 10, "priority": None, "queueId": None}], "escalation[0]"),
        ([{"afterSeconds": 10, "priority": "URGENT"}, {"afterSeconds": 20, "queueId": target},
          {"afterSeconds": 30, "priority": "HIGH"}], "escalation[2].priority"),
        ([{"afterSeconds": 0, "priority": "HIGH"}], "escalation[0].afterSeconds"),
        ([{"afterSeconds": 30 * 24 * 3600 + 1, "priority": "HIGH"}], "escalation[0].afterSeconds"),
        ([{"afterSeconds": 1.5, "priority": "HIGH"}], "escalation[0].afterSeconds"),
        ([{"afterSeconds": index + 1, "priority": "HIGH"} for index in range(11)], "escalation"),
        ([{"afterSeconds": 1, "priority": "SOON"}], "escalation[0].priority"),
        ([{"afterSeconds": 1, "priority": "HIGH", "extra": 1}], "escalation[0].extra"),
        ([{"afterSeconds": 1, "queueId": own}], "escalation[0].queueId"),
    ]


async def test_every_bad_ladder_is_refused_at_its_field_and_nothing_is_saved(stack):
    http = stack.http
    target, own = await create_queue(http), await create_queue(http)
    deleted = await create_queue(http)
    assert (await http.delete(f"{QUEUES}/{deleted['id']}")).status_code == 200
    for ladder, field in bad_ladders(target["id"], deleted["id"], own["id"]):
        name = unique("refused")
        if field != "escalation[0].queueId" or ladder[0]["queueId"] != own["id"]:
            # A new queue has no id to name: the step into itself is a PUT's.
            created = await http.post(QUEUES, json={"name": name, "escalation": ladder})
            assert_error(created, 400, "BAD_REQUEST", field)
            listed = (await http.get(QUEUES, params={"name": name})).json()["queues"]
            assert listed == [], (ladder, listed)
        updated = await http.put(f"{QUEUES}/{own['id']}", json={"name": name, "escalation": ladder})
        assert_error(updated, 400, "BAD_REQUEST", field)
        after = (await http.get(f"{QUEUES}/{own['id']}")).json()
        assert (after["name"], after["escalation"]) == (own["name"], []), ladder
    refused = await http.put(f"{QUEUES}/{own['id']}", json={"escalation": None})
    assert_error(refused, 400, "BAD_REQUEST", "escalation")


async def test_a_good_ladder_is_saved_and_replaced_whole(stack):
    http = stack.http
    target = await create_queue(http)
    queue = await create_queue(http)
    good = [{"afterSeconds": 60, "priority": "HIGH"},
            {"afterSeconds": 120, "priority": "HIGH", "queueId": target["id"]}]
    saved = await http.put(f"{QUEUES}/{queue['id']}", json={"escalation": good})
    assert saved.status_code == 200, saved.text
    assert saved.json()["escalation"][1] == {"afterSeconds": 120, "priority": "HIGH", "queueId": target["id"]}
    cleared = await http.put(f"{QUEUES}/{queue['id']}", json={"escalation": []})
    assert cleared.json()["escalation"] == []


async def test_a_queue_a_ladder_moves_into_is_not_deleted_until_the_ladder_lets_go(stack):
    http = stack.http
    target = await create_queue(http)
    climbing = await create_queue(http, escalation=[{"afterSeconds": 60, "queueId": target["id"]}])
    refused = await http.delete(f"{QUEUES}/{target['id']}")
    assert_error(refused, 409, "CONFLICT")
    assert climbing["name"] in refused.json()["requestError"]["serviceException"]["text"]
    assert (await http.get(f"{QUEUES}/{target['id']}")).json()["deletedAt"] is None
    assert (await http.put(f"{QUEUES}/{climbing['id']}", json={"escalation": []})).status_code == 200
    assert (await http.delete(f"{QUEUES}/{target['id']}")).status_code == 200
