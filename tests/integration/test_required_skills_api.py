"""A conversation's required skills over HTTP, with the real worker (SQLite and PostgreSQL):
given at creation, added by a routing rule, replaced by PATCH, relaxed by the workflow's
timer with a SKILLS_RELAXED event; bad input refused at its field."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, put_routing, rule, wait_for
from tests.integration.test_queues_api import parse_time

C = "/ccaas/1/conversations"


async def fetched(stack: Stack, conversation_id: str) -> dict:
    response = await stack.http.get(f"{C}/{conversation_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def events_of(stack: Stack, conversation_id: str) -> list[dict]:
    response = await stack.http.get(f"{C}/{conversation_id}/events")
    assert response.status_code == 200, response.text
    return response.json()["events"]


async def test_requirements_given_at_creation_relax_in_the_queue_at_their_moment(stack: Stack):
    queue = await create_queue(stack.http)
    # 3 s: the create's answer, read once it is routed and projected, must come before it
    # relaxes (with 1 s a loaded CI machine answered after it, once).
    created = await create_conversation(stack.http, queueId=queue["id"], requiredSkills=[
        {"name": "es", "minLevel": 3, "relaxAfterSeconds": 3}, {"name": "billing"}])
    [es, billing] = created["requiredSkills"]
    routed = next(e for e in await events_of(stack, created["id"]) if e["type"] == "ROUTED")
    assert es == {"name": "es", "minLevel": 3, "relaxAfterSeconds": 3, "relaxed": False,
                  "relaxesAt": es["relaxesAt"]}
    assert parse_time(es["relaxesAt"]) == parse_time(routed["at"]) + timedelta(seconds=3)
    assert billing == {"name": "billing", "minLevel": 1, "relaxAfterSeconds": None, "relaxed": False,
                       "relaxesAt": None}

    async def relaxed() -> list[dict]:
        return [e for e in await events_of(stack, created["id"]) if e["type"] == "SKILLS_RELAXED"]

    [event] = await wait_for(relaxed, timeout=20)
    assert event["relaxedSkills"] == ["es"] and parse_time(event["dueAt"]) == parse_time(es["relaxesAt"])
    assert 0 <= (parse_time(event["at"]) - parse_time(event["dueAt"])).total_seconds() < 1
    after = await fetched(stack, created["id"])
    assert [(r["name"], r["relaxed"], r["relaxesAt"]) for r in after["requiredSkills"]] == [
        ("es", True, None), ("billing", False, None)]
    assert after["queueId"] == queue["id"] and after["queuePosition"] == 1


async def test_a_rule_adds_its_requirements_and_patch_replaces_the_list(stack: Stack):
    queue = await create_queue(stack.http)
    routing = await put_routing(stack.http, [rule("Spanish", queue["id"], {"$eq": {"message.channel": "WHATSAPP"}},
                                                  requiredSkills=[{"name": "es", "minLevel": 2}])])
    assert routing["routes"][0]["requiredSkills"] == [{"name": "es", "minLevel": 2, "relaxAfterSeconds": None}]
    created = await create_conversation(stack.http, channel="WHATSAPP", requiredSkills=[{"name": "billing"}])
    assert [(r["name"], r["minLevel"]) for r in created["requiredSkills"]] == [("billing", 1), ("es", 2)]

    patched = await stack.http.patch(f"{C}/{created['id']}", json={"requiredSkills": [{"name": "fr"}]})
    assert patched.status_code == 200, patched.text
    assert [r["name"] for r in patched.json()["requiredSkills"]] == ["fr"]
    updated = [e for e in await events_of(stack, created["id"]) if e["type"] == "UPDATED"]
    assert updated[-1]["reason"] == "required skills: fr"
    cleared = await stack.http.patch(f"{C}/{created['id']}", json={"requiredSkills": []})
    assert cleared.status_code == 200 and cleared.json()["requiredSkills"] == []


async def test_bad_requirements_are_refused_at_their_field_and_change_nothing(stack: Stack):
    queue = await create_queue(stack.http)
    for bad, field in [
        ([{"name": "spanish speaker"}], "requiredSkills[0].name"),
        ([{"name": "es", "minLevel": 6}], "requiredSkills[0].minLevel"),
        ([{"name": "es", "minLevel": "3"}], "requiredSkills[0].minLevel"),
        ([{"name": "es", "relaxAfterSeconds": -1}], "requiredSkills[0].relaxAfterSeconds"),
        ([{"name": f"s{n}"} for n in range(11)], "requiredSkills"),
    ]:
        response = await stack.http.post(C, json={"queueId": queue["id"], "requiredSkills": bad})
        assert_error(response, 400, "BAD_REQUEST", field)
    # A name given twice counts once, as given last (the document cannot forbid it).
    created = await create_conversation(stack.http, queueId=queue["id"], requiredSkills=[
        {"name": "es", "minLevel": 4}, {"name": "es"}])
    assert [(r["name"], r["minLevel"]) for r in created["requiredSkills"]] == [("es", 1)]
    response = await stack.http.patch(f"{C}/{created['id']}", json={"requiredSkills": None})
    assert_error(response, 400, "BAD_REQUEST", "requiredSkills")
    response = await stack.http.patch(f"{C}/{created['id']}", json={"requiredSkills": [{"name": "x", "level": 2}]})
    assert_error(response, 400, "BAD_REQUEST", "requiredSkills[0].level")
    assert [r["name"] for r in (await fetched(stack, created["id"]))["requiredSkills"]] == ["es"]


async def new_agent(stack: Stack, queue_id: str, skills: list[dict], status: str = "ACTIVE") -> str:
    created = await stack.http.post("/ccaas/1/agents", json={"displayName": "agent", "status": status,
                                                             "role": "AGENT", "maxConversations": 5})
    assert created.status_code == 201, created.text
    agent_id = created.json()["id"]
    assert (await stack.http.put(f"/ccaas/1/agents/{agent_id}/skills", json={"skills": skills})).status_code == 200
    assert (await stack.http.post(f"/ccaas/1/agents/{agent_id}/queues", json={"queueId": queue_id})).status_code == 200
    return agent_id


async def test_only_a_qualified_agent_takes_it_until_it_relaxes_and_it_holds_back_nobody(stack: Stack):
    queue = await create_queue(stack.http, isAutoAssignmentEnabled=True)
    speaker = await new_agent(stack, queue["id"], [{"name": "es", "level": 3}], status="BUSY")
    other = await new_agent(stack, queue["id"], [{"name": "billing", "level": 2}])
    spanish = await create_conversation(stack.http, queueId=queue["id"], requiredSkills=[
        {"name": "es", "minLevel": 2, "relaxAfterSeconds": 2}, {"name": "billing"}])
    english = await create_conversation(stack.http, queueId=queue["id"])

    async def agent_of(conversation_id: str) -> str | None:
        return (await fetched(stack, conversation_id))["agentId"]

    # The one behind it goes to the agent with room; the Spanish one waits for its speaker.
    assert await wait_for(lambda: agent_of(english["id"]), timeout=10) == other
    assert (await fetched(stack, spanish["id"]))["agentId"] is None
    # Two seconds in the queue: Spanish relaxes, billing still restricts: the other agent has it.
    assert await wait_for(lambda: agent_of(spanish["id"]), timeout=10) == other
    timeline = [e["type"] for e in await events_of(stack, spanish["id"])]
    assert timeline.index("SKILLS_RELAXED") < timeline.index("ASSIGNED")
    assigned = next(e for e in await events_of(stack, spanish["id"]) if e["type"] == "ASSIGNED")
    assert "skills billing 2" in assigned["reason"]

    # With the speaker back, a new Spanish case goes to the speaker, and the reason says why.
    assert (await stack.http.put(f"/ccaas/1/agents/{speaker}/status", json={"status": "ACTIVE"})).status_code == 200
    again = await create_conversation(stack.http, queueId=queue["id"], requiredSkills=[{"name": "es", "minLevel": 2}])
    assert await wait_for(lambda: agent_of(again["id"]), timeout=10) == speaker
    assigned = next(e for e in await events_of(stack, again["id"]) if e["type"] == "ASSIGNED")
    assert "skills es 3" in assigned["reason"]
