"""Skills over HTTP (SPEC "Skills"): an agent's skills read and replaced whole at
/ccaas/1/agents/{id}/skills, the names in use at /ccaas/1/skills, who may do which, against the
real API and database. The permission table's rows are in test_permissions.py too; here each
role is also seen reading and refused writing with the right error."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from domain.skills import MAX_AGENT_SKILLS
from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, unique, wait_for
from tests.integration.test_agents_api import acting_as, new_agent
from tests.integration.test_assignment_api import assigned_to, events, not_assigned_after_a_pass
from tests.integration.test_assignment_api import new_agent as new_member

AGENTS = "/ccaas/1/agents"
SKILLS = "/ccaas/1/skills"
UNKNOWN = "00000000-0000-0000-0000-000000000000"


def url(agent_id: str) -> str:
    return f"{AGENTS}/{agent_id}/skills"


async def put_skills(http: httpx.AsyncClient, agent_id: str, skills: list[dict[str, Any]]) -> list[dict]:
    response = await http.put(url(agent_id), json={"skills": skills})
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"skills"}
    return response.json()["skills"]


async def skills_of(http: httpx.AsyncClient, agent_id: str) -> list[dict]:
    response = await http.get(url(agent_id))
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"skills"}
    return response.json()["skills"]


async def in_use(http: httpx.AsyncClient, **params: Any) -> dict:
    response = await http.get(SKILLS, params={"limit": 999, **params})
    assert response.status_code == 200, response.text
    return response.json()


# --- an agent's skills ----------------------------------------------------------------------


async def test_a_new_agent_has_no_skills(stack: Stack):
    agent = await new_agent(stack)
    assert await skills_of(stack.http, agent["id"]) == []


async def test_skills_put_are_read_back_by_name(stack: Stack):
    agent = await new_agent(stack)
    answered = await put_skills(stack.http, agent["id"], [
        {"name": "spanish", "level": 3}, {"name": "Billing_2", "level": 5}, {"name": "de-AT", "level": 1},
    ])
    expected = [{"name": "Billing_2", "level": 5}, {"name": "de-AT", "level": 1}, {"name": "spanish", "level": 3}]
    assert answered == expected
    assert await skills_of(stack.http, agent["id"]) == expected


async def test_a_put_replaces_every_skill(stack: Stack):
    agent = await new_agent(stack)
    await put_skills(stack.http, agent["id"], [{"name": "es", "level": 2}, {"name": "fr", "level": 4}])
    # One kept at a new level, one dropped, one added.
    await put_skills(stack.http, agent["id"], [{"name": "es", "level": 5}, {"name": "it", "level": 1}])
    assert await skills_of(stack.http, agent["id"]) == [{"name": "es", "level": 5}, {"name": "it", "level": 1}]
    await put_skills(stack.http, agent["id"], [])
    assert await skills_of(stack.http, agent["id"]) == []


async def test_one_agents_skills_leave_anothers_alone(stack: Stack):
    first, second = await new_agent(stack), await new_agent(stack)
    await put_skills(stack.http, first["id"], [{"name": "es", "level": 2}])
    await put_skills(stack.http, second["id"], [{"name": "es", "level": 4}, {"name": "fr", "level": 1}])
    await put_skills(stack.http, first["id"], [])
    assert await skills_of(stack.http, second["id"]) == [{"name": "es", "level": 4}, {"name": "fr", "level": 1}]


async def test_the_agent_object_does_not_carry_or_touch_skills(stack: Stack):
    # SPEC: kept apart from the agent, so Infobip's agent PUT never touches them.
    agent = await new_agent(stack)
    await put_skills(stack.http, agent["id"], [{"name": "es", "level": 2}])
    fetched = (await stack.http.get(f"{AGENTS}/{agent['id']}")).json()
    assert "skills" not in fetched
    body = {key: fetched[key] for key in ("displayName", "email", "role", "status", "enabled")}
    response = await stack.http.put(f"{AGENTS}/{agent['id']}", json={**body, "displayName": "Renamed"})
    assert response.status_code == 200, response.text
    assert await skills_of(stack.http, agent["id"]) == [{"name": "es", "level": 2}]


async def test_a_fetched_list_sent_back_is_accepted_unchanged(stack: Stack):
    agent = await new_agent(stack)
    await put_skills(stack.http, agent["id"], [{"name": "es", "level": 2}, {"name": "vip", "level": 5}])
    fetched = (await stack.http.get(url(agent["id"]))).json()
    response = await stack.http.put(url(agent["id"]), json=fetched)
    assert response.status_code == 200, response.text
    assert response.json() == fetched
    assert (await stack.http.get(url(agent["id"]))).json() == fetched


async def test_as_many_skills_as_allowed_are_kept(stack: Stack):
    agent = await new_agent(stack)
    skills = [{"name": f"skill-{index:02d}", "level": 1 + index % 5} for index in range(MAX_AGENT_SKILLS)]
    assert await put_skills(stack.http, agent["id"], skills) == skills


async def test_an_unknown_agent_is_404_on_read_and_on_write(stack: Stack):
    assert_error(await stack.http.get(url(UNKNOWN)), 404, "NOT_FOUND")
    assert_error(await stack.http.put(url(UNKNOWN), json={"skills": [{"name": "es", "level": 1}]}), 404, "NOT_FOUND")


async def test_a_disabled_agents_skills_can_be_set_and_read(stack: Stack):
    agent = await new_agent(stack, enabled=False)
    assert await put_skills(stack.http, agent["id"], [{"name": "es", "level": 3}]) == [{"name": "es", "level": 3}]


async def test_skills_given_to_a_member_let_it_take_a_conversation_that_needs_them(stack: Stack):
    # Nothing wakes the dispatcher on a change of skills: its periodic pass finds it, as it
    # finds an agent going ACTIVE.
    queue = await create_queue(stack.http, isAutoAssignmentEnabled=True)
    agent = await new_member(stack, [queue["id"]])
    waiting = await create_conversation(stack.http, queueId=queue["id"], requiredSkills=[{"name": "es", "minLevel": 2}])
    await not_assigned_after_a_pass(stack, waiting)
    await put_skills(stack.http, agent["id"], [{"name": "es", "level": 1}])
    await not_assigned_after_a_pass(stack, waiting)
    await put_skills(stack.http, agent["id"], [{"name": "es", "level": 3}, {"name": "fr", "level": 2}])
    await wait_for(lambda: assigned_to(stack, waiting["id"]), timeout=10)
    assert await assigned_to(stack, waiting["id"]) == agent["id"]
    [assigned] = [event for event in await events(stack, waiting["id"]) if event["type"] == "ASSIGNED"]
    assert "es 3" in assigned["reason"], assigned


# --- bad input: a 400 at the field, and nothing changed -------------------------------------


@pytest.mark.parametrize(("body", "field"), [
    ({"skills": [{"name": "es", "level": 0}]}, "skills[0].level"),
    ({"skills": [{"name": "es", "level": 6}]}, "skills[0].level"),
    ({"skills": [{"name": "es", "level": "3"}]}, "skills[0].level"),
    ({"skills": [{"name": "es", "level": 2.5}]}, "skills[0].level"),
    ({"skills": [{"name": "es"}]}, "skills[0].level"),
    ({"skills": [{"level": 1}]}, "skills[0].name"),
    ({"skills": [{"name": "", "level": 1}]}, "skills[0].name"),
    ({"skills": [{"name": "two words", "level": 1}]}, "skills[0].name"),
    ({"skills": [{"name": "es!", "level": 1}]}, "skills[0].name"),
    ({"skills": [{"name": "x" * 65, "level": 1}]}, "skills[0].name"),
    ({"skills": [{"name": "es", "level": 1, "minLevel": 1}]}, "skills[0].minLevel"),
    ({"skills": [{"name": f"s{index}", "level": 1} for index in range(MAX_AGENT_SKILLS + 1)]}, "skills"),
    ({"skills": None}, "skills"),
    ({}, "skills"),
    ({"skills": [], "extra": 1}, "extra"),
], ids=["level 0", "level 6", "level as text", "fraction", "no level", "no name", "empty name",
        "space", "punctuation", "too long", "unknown field", "too many", "null", "missing", "unknown top field"])
@pytest.mark.sqlite_only
async def test_bad_skills_are_400_at_the_field_and_change_nothing(stack: Stack, body: dict, field: str):
    agent = await new_agent(stack)
    await put_skills(stack.http, agent["id"], [{"name": "kept", "level": 2}])
    exception = assert_error(await stack.http.put(url(agent["id"]), json=body), 400, "BAD_REQUEST", field)
    assert set(exception["validationErrors"]) == {field}, exception
    assert await skills_of(stack.http, agent["id"]) == [{"name": "kept", "level": 2}]


async def test_a_name_given_twice_counts_once_as_given_last(stack: Stack):
    # As for a conversation's required skills: the document cannot forbid it, the answer shows it.
    agent = await new_agent(stack)
    body = {"skills": [{"name": "es", "level": 1}, {"name": "fr", "level": 2}, {"name": "es", "level": 4}]}
    response = await stack.http.put(url(agent["id"]), json=body)
    assert response.status_code == 200, response.text
    assert response.json()["skills"] == [{"name": "es", "level": 4}, {"name": "fr", "level": 2}]


async def test_a_bare_array_is_refused_with_the_shape_named(stack: Stack):
    agent = await new_agent(stack)
    response = await stack.http.put(url(agent["id"]), json=[{"name": "es", "level": 1}])
    assert_error(response, 400, "BAD_REQUEST", "body")


# --- who may --------------------------------------------------------------------------------


@pytest.fixture
async def keys(stack: Stack) -> dict[str, str]:
    agent = await new_agent(stack)
    boss = await new_agent(stack, role="SUPERVISOR")
    bot = await stack.http.post("/ccaas/1/bots", json={"displayName": unique("bot")})
    assert bot.status_code == 201, bot.text
    return {"supervisor agent": boss["apiKey"], "agent": agent["apiKey"], "bot": bot.json()["apiKey"],
            "agent id": agent["id"]}


async def test_every_role_reads_skills(stack: Stack, keys: dict[str, str]):
    target = await new_agent(stack)
    await put_skills(stack.http, target["id"], [{"name": "es", "level": 2}])
    for role in ("supervisor agent", "agent", "bot"):
        async with acting_as(stack, keys[role]) as http:
            assert await skills_of(http, target["id"]) == [{"name": "es", "level": 2}], role
            assert (await in_use(http))["skills"] == [{"name": "es", "agents": 1}], role


async def test_only_supervisors_change_skills(stack: Stack, keys: dict[str, str]):
    target = await new_agent(stack)
    await put_skills(stack.http, target["id"], [{"name": "es", "level": 2}])
    body = {"skills": [{"name": "fr", "level": 5}]}
    # An agent may not raise its own skills either, and a bot may not set anyone's.
    for role, agent_id in (("agent", target["id"]), ("agent", keys["agent id"]), ("bot", target["id"])):
        async with acting_as(stack, keys[role]) as http:
            assert_error(await http.put(url(agent_id), json=body), 403, "FORBIDDEN")
            # Refused before the body or the agent is looked at: no 400 or 404 leaks through.
            assert_error(await http.put(url(UNKNOWN), json={"skills": "nonsense"}), 403, "FORBIDDEN")
    assert await skills_of(stack.http, target["id"]) == [{"name": "es", "level": 2}]
    async with acting_as(stack, keys["supervisor agent"]) as http:
        assert await put_skills(http, target["id"], body["skills"]) == body["skills"]


async def test_without_a_key_it_is_401(stack: Stack):
    async with acting_as(stack, "not-a-key") as http:
        assert_error(await http.get(SKILLS), 401, "UNAUTHORIZED")
        assert_error(await http.get(url(UNKNOWN)), 401, "UNAUTHORIZED")


# --- the names in use -----------------------------------------------------------------------


async def test_names_in_use_count_the_enabled_agents_holding_each(stack: Stack):
    assert await in_use(stack.http) == {
        "skills": [], "pagination": {"totalItems": 0, "page": 0, "limit": 999, "orderBy": "name:asc"}}
    first, second = await new_agent(stack), await new_agent(stack)
    off = await new_agent(stack, enabled=False)
    await put_skills(stack.http, first["id"], [{"name": "es", "level": 1}, {"name": "fr", "level": 3}])
    await put_skills(stack.http, second["id"], [{"name": "es", "level": 5}])
    await put_skills(stack.http, off["id"], [{"name": "es", "level": 2}, {"name": "latin", "level": 4}])

    listed = await in_use(stack.http)
    # A disabled agent takes no conversation: not counted, but the name it alone holds shows.
    assert listed["skills"] == [
        {"name": "es", "agents": 2}, {"name": "fr", "agents": 1}, {"name": "latin", "agents": 0}]
    assert listed["pagination"]["totalItems"] == 3

    # Enabling the agent counts it; replacing skills moves the counts.
    body = {key: off[key] for key in ("displayName", "email", "role", "status")}
    assert (await stack.http.put(f"{AGENTS}/{off['id']}", json={**body, "enabled": True})).status_code == 200
    await put_skills(stack.http, first["id"], [{"name": "fr", "level": 3}])
    assert (await in_use(stack.http))["skills"] == [
        {"name": "es", "agents": 2}, {"name": "fr", "agents": 1}, {"name": "latin", "agents": 1}]
    # A name nobody holds any more is gone.
    await put_skills(stack.http, first["id"], [])
    assert [skill["name"] for skill in (await in_use(stack.http))["skills"]] == ["es", "latin"]


async def test_names_in_use_page_and_order_by_name_or_holders(stack: Stack):
    agents = [await new_agent(stack) for _ in range(3)]
    # "c" held by three, "a" by two, "b" and "d" by one.
    holdings = [["a", "b", "c"], ["a", "c"], ["c", "d"]]
    for agent, names in zip(agents, holdings, strict=True):
        await put_skills(stack.http, agent["id"], [{"name": name, "level": 1} for name in names])

    names = []
    for page in range(3):
        body = (await stack.http.get(SKILLS, params={"page": page, "limit": 2})).json()
        assert body["pagination"] == {"totalItems": 4, "page": page, "limit": 2, "orderBy": "name:asc"}
        names += [skill["name"] for skill in body["skills"]]
    assert names == ["a", "b", "c", "d"]

    by_holders = await in_use(stack.http, orderBy="agents:desc")
    assert by_holders["skills"] == [{"name": "c", "agents": 3}, {"name": "a", "agents": 2},
                                    {"name": "b", "agents": 1}, {"name": "d", "agents": 1}]
    assert by_holders["pagination"]["orderBy"] == "agents:desc"
    by_name = await in_use(stack.http, orderBy="name:desc")
    assert [skill["name"] for skill in by_name["skills"]] == ["d", "c", "b", "a"]


async def test_names_in_use_refuse_an_unknown_order_and_parameter(stack: Stack):
    assert_error(await stack.http.get(SKILLS, params={"orderBy": "level:asc"}), 400, "BAD_REQUEST", "orderBy")
    assert_error(await stack.http.get(SKILLS, params={"limit": 0}), 400, "BAD_REQUEST", "limit")
    assert_error(await stack.http.get(SKILLS, params={"agentId": UNKNOWN}), 400, "BAD_REQUEST", "agentId")
