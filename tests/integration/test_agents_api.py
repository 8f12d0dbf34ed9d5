"""Agents over HTTP: /ccaas/1/agents, their queues, and what an agent does to conversations
(assignment, working an assigned conversation, a manual reroute) against the real API,
worker and database. Keys and the permission table have their own files (test_keys.py,
test_permissions.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from api import agents as agents_api
from tests.conftest import Stack, clean_body_check
from tests.helpers import assert_error, create_conversation, create_queue, unique

AGENTS = "/ccaas/1/agents"
QUEUES = "/ccaas/1/queues"
CONVERSATIONS = "/ccaas/1/conversations"
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
AGENT_FIELDS = {"id", "displayName", "email", "title", "role", "status", "availability", "enabled",
                "maxConversations", "load", "createdAt", "updatedAt"}


# --- helpers --------------------------------------------------------------------------------


def email() -> str:
    return f"{unique('agent')}@example.com"


@asynccontextmanager
async def acting_as(stack: Stack, key: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the same in-process API that sends another principal's key."""
    async with httpx.AsyncClient(
        transport=stack.http._transport, base_url=stack.http.base_url,
        headers={"Authorization": f"App {key}"},
        event_hooks={"response": [clean_body_check(key)]},
    ) as client:
        yield client


async def new_agent(stack: Stack, display_name: str | None = None, **fields: Any) -> dict:
    body = {"displayName": display_name or unique("agent"), "email": email(), **fields}
    response = await stack.http.post(AGENTS, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def get_agent(stack: Stack, agent_id: str) -> dict:
    response = await stack.http.get(f"{AGENTS}/{agent_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def list_agents(stack: Stack, **params: Any) -> dict:
    response = await stack.http.get(AGENTS, params={"limit": 999, **params})
    assert response.status_code == 200, response.text
    return response.json()


async def listed_ids(stack: Stack, **params: Any) -> set[str]:
    return {agent["id"] for agent in (await list_agents(stack, **params))["agents"]}


def stored(agent: dict) -> dict:
    """What GET answers for an agent: its creation answer without the key."""
    return {key: value for key, value in agent.items() if key != "apiKey"}


def put_body(agent: dict, **changes: Any) -> dict:
    body = {key: agent[key] for key in ("displayName", "email", "role", "status", "enabled")}
    return {**body, **changes}


async def agent_queues(stack: Stack, agent_id: str) -> list[dict]:
    response = await stack.http.get(f"{AGENTS}/{agent_id}/queues")
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"queues"}
    return response.json()["queues"]


async def join(stack: Stack, agent_id: str, queue_id: str) -> list[dict]:
    response = await stack.http.post(f"{AGENTS}/{agent_id}/queues", json={"queueId": queue_id})
    assert response.status_code == 200, response.text
    return response.json()["queues"]


def ref(queue: dict) -> dict:
    return {"id": queue["id"], "name": queue["name"]}


async def get_queue(stack: Stack, queue_id: str) -> dict:
    response = await stack.http.get(f"{QUEUES}/{queue_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def get_conversation(stack: Stack, conversation_id: str) -> dict:
    response = await stack.http.get(f"{CONVERSATIONS}/{conversation_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def events(stack: Stack, conversation_id: str) -> list[dict]:
    response = await stack.http.get(f"{CONVERSATIONS}/{conversation_id}/events")
    assert response.status_code == 200, response.text
    return response.json()["events"]


def of_type(timeline: list[dict], event_type: str) -> list[dict]:
    return [event for event in timeline if event["type"] == event_type]


# --- create and read ------------------------------------------------------------------------


async def test_create_answers_every_field_with_defaults_and_the_key(stack: Stack):
    name = unique("Ann Smith")
    local = unique("Ann.Smith")
    response = await stack.http.post(AGENTS, json={"displayName": name, "email": f"{local}@Example.COM"})
    assert response.status_code == 201, response.text
    agent = response.json()
    assert set(agent) == AGENT_FIELDS | {"apiKey"}
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", agent["id"])
    assert agent["displayName"] == name
    assert agent["email"] == f"{local}@example.com".lower()
    assert agent["role"] == "AGENT"
    assert agent["status"] == "ACTIVE"
    assert agent["enabled"] is True
    assert TIME.match(agent["createdAt"]), agent["createdAt"]
    assert TIME.match(agent["updatedAt"]), agent["updatedAt"]
    assert isinstance(agent["apiKey"], str) and len(agent["apiKey"]) >= 20

    read = await get_agent(stack, agent["id"])
    assert set(read) == AGENT_FIELDS
    assert read == stored(agent)


async def test_create_keeps_the_role_status_and_enabled_given(stack: Stack):
    agent = await new_agent(stack, role="SUPERVISOR", status="AWAY", enabled=False)
    assert (agent["role"], agent["status"], agent["enabled"]) == ("SUPERVISOR", "AWAY", False)
    assert await get_agent(stack, agent["id"]) == stored(agent)


async def test_get_unknown_agent_is_404(stack: Stack):
    assert_error(await stack.http.get(f"{AGENTS}/00000000-0000-0000-0000-000000000000"), 404, "NOT_FOUND")


# --- list -----------------------------------------------------------------------------------


async def test_list_pages_and_counts_every_agent(stack: Stack):
    made = [(await new_agent(stack))["id"] for _ in range(5)]

    first = await stack.http.get(AGENTS)
    assert first.status_code == 200, first.text
    assert first.json()["pagination"] == {"totalItems": 5, "page": 0, "limit": 10, "orderBy": "createdAt:asc"}
    assert [agent["id"] for agent in first.json()["agents"]] == made
    assert all(set(agent) == AGENT_FIELDS for agent in first.json()["agents"])

    seen = []
    for page, size in ((0, 2), (1, 2), (2, 1)):
        response = await stack.http.get(AGENTS, params={"page": page, "limit": 2})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["pagination"] == {"totalItems": 5, "page": page, "limit": 2, "orderBy": "createdAt:asc"}
        assert len(body["agents"]) == size
        seen += [agent["id"] for agent in body["agents"]]
    assert seen == made

    beyond = (await stack.http.get(AGENTS, params={"page": 3, "limit": 2})).json()
    assert beyond["agents"] == [] and beyond["pagination"]["totalItems"] == 5


async def test_list_filters_by_role_status_and_enabled(stack: Stack):
    plain = await new_agent(stack)
    boss = await new_agent(stack, role="SUPERVISOR")
    busy = await new_agent(stack, status="BUSY")
    off = await new_agent(stack, status="AWAY", enabled=False)

    assert await listed_ids(stack, role="SUPERVISOR") == {boss["id"]}
    assert await listed_ids(stack, role="AGENT") == {plain["id"], busy["id"], off["id"]}
    assert await listed_ids(stack, status="BUSY") == {busy["id"]}
    assert await listed_ids(stack, status="ACTIVE") == {plain["id"], boss["id"]}
    assert await listed_ids(stack, status="INVISIBLE") == set()
    assert await listed_ids(stack, enabled="false") == {off["id"]}
    assert await listed_ids(stack, enabled="true") == {plain["id"], boss["id"], busy["id"]}
    assert await listed_ids(stack, role="AGENT", enabled="true") == {plain["id"], busy["id"]}
    counted = await list_agents(stack, role="AGENT", enabled="true")
    assert counted["pagination"]["totalItems"] == 2


async def test_list_filters_by_queue(stack: Stack):
    queue, other = await create_queue(stack.http), await create_queue(stack.http)
    first, second, outsider = await new_agent(stack), await new_agent(stack), await new_agent(stack)
    await join(stack, first["id"], queue["id"])
    await join(stack, second["id"], queue["id"])
    await join(stack, outsider["id"], other["id"])

    assert await listed_ids(stack, queueId=queue["id"]) == {first["id"], second["id"]}
    assert (await list_agents(stack, queueId=queue["id"]))["pagination"]["totalItems"] == 2
    assert await listed_ids(stack, queueId=other["id"]) == {outsider["id"]}
    assert await listed_ids(stack, queueId=(await create_queue(stack.http))["id"]) == set()


async def test_name_filter_is_a_case_insensitive_substring(stack: Stack):
    token = unique("Wonder")
    alice = await new_agent(stack, f"Alice {token}")
    bob = await new_agent(stack, f"bob {token.upper()}ful")
    await new_agent(stack, "Carol")

    assert await listed_ids(stack, name=token.lower()) == {alice["id"], bob["id"]}
    assert await listed_ids(stack, name="ALICE") == {alice["id"]}
    assert await listed_ids(stack, name="nobody") == set()
    # LIKE wildcards are literal characters.
    assert await listed_ids(stack, name="%") == set()
    assert await listed_ids(stack, name="_") == set()


async def test_list_orders_by_display_name_descending(stack: Stack):
    for name in ("Mia", "Zed", "Abe", "Kim"):
        await new_agent(stack, name)
    response = await stack.http.get(AGENTS, params={"orderBy": "displayName:desc"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [agent["displayName"] for agent in body["agents"]] == ["Zed", "Mia", "Kim", "Abe"]
    assert body["pagination"]["orderBy"] == "displayName:desc"
    ascending = (await stack.http.get(AGENTS, params={"orderBy": "displayName:asc"})).json()
    assert [agent["displayName"] for agent in ascending["agents"]] == ["Abe", "Kim", "Mia", "Zed"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"role": "BOSS"}, "role"),
        ({"status": "ASLEEP"}, "status"),
        ({"enabled": "perhaps"}, "enabled"),
        ({"limit": 0}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"page": -1}, "page"),
        ({"orderBy": "email:asc"}, "orderBy"),
        ({"orderBy": "displayName:sideways"}, "orderBy"),
    ],
    ids=lambda value: str(value) if not isinstance(value, str) else value,
)
@pytest.mark.sqlite_only
async def test_list_refuses_bad_parameters_at_the_parameter(stack: Stack, params, field):
    await new_agent(stack)
    assert_error(await stack.http.get(AGENTS, params=params), 400, "BAD_REQUEST", field)


# --- update (PUT replaces the whole agent) --------------------------------------------------


async def test_put_replaces_every_field(stack: Stack):
    agent = await new_agent(stack, role="SUPERVISOR", status="AWAY", enabled=False)
    name, address = unique("Renamed"), email()
    response = await stack.http.put(f"{AGENTS}/{agent['id']}", json={"displayName": name, "email": address.upper()})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert set(changed) == AGENT_FIELDS
    # Full replace: what is not given is back at its default.
    assert changed["displayName"] == name
    assert changed["email"] == address.lower()
    assert (changed["role"], changed["status"], changed["enabled"]) == ("AGENT", "ACTIVE", True)
    assert changed["id"] == agent["id"]
    assert changed["createdAt"] == agent["createdAt"]
    assert TIME.match(changed["updatedAt"]) and changed["updatedAt"] >= agent["updatedAt"]
    assert await get_agent(stack, agent["id"]) == changed

    again = await stack.http.put(
        f"{AGENTS}/{agent['id']}", json=put_body(changed, role="SUPERVISOR", status="BUSY", enabled=False)
    )
    assert again.status_code == 200, again.text
    read = await get_agent(stack, agent["id"])
    assert (read["role"], read["status"], read["enabled"]) == ("SUPERVISOR", "BUSY", False)


async def test_put_may_keep_its_own_email_in_another_case(stack: Stack):
    agent = await new_agent(stack)
    response = await stack.http.put(f"{AGENTS}/{agent['id']}", json=put_body(agent, email=agent["email"].upper()))
    assert response.status_code == 200, response.text
    assert (await get_agent(stack, agent["id"]))["email"] == agent["email"]


@pytest.mark.parametrize("case", [str.lower, str.upper], ids=["same case", "other case"])
async def test_put_to_an_email_taken_by_another_agent_is_409_and_changes_nothing(stack: Stack, case):
    holder = await new_agent(stack)
    agent = await new_agent(stack)
    body = put_body(agent, displayName=unique("changed"), email=case(holder["email"]))
    response = await stack.http.put(f"{AGENTS}/{agent['id']}", json=body)
    assert_error(response, 409, "CONFLICT", "email")
    assert await get_agent(stack, agent["id"]) == stored(agent)
    assert await get_agent(stack, holder["id"]) == stored(holder)


async def test_put_unknown_agent_is_404_and_makes_none(stack: Stack):
    response = await stack.http.put(
        f"{AGENTS}/00000000-0000-0000-0000-000000000000", json={"displayName": "Ghost", "email": email()}
    )
    assert_error(response, 404, "NOT_FOUND")
    assert (await list_agents(stack))["pagination"]["totalItems"] == 0


# --- status ---------------------------------------------------------------------------------


async def test_an_agent_sets_its_own_status(stack: Stack):
    agent = await new_agent(stack)
    async with acting_as(stack, agent["apiKey"]) as me:
        response = await me.put(f"{AGENTS}/{agent['id']}/status", json={"status": "BUSY"})
    assert response.status_code == 200, response.text
    assert set(response.json()) == AGENT_FIELDS
    assert response.json()["status"] == "BUSY"
    read = await get_agent(stack, agent["id"])
    assert read["status"] == "BUSY"
    assert read["updatedAt"] >= agent["updatedAt"]
    assert {key: read[key] for key in ("displayName", "email", "role", "enabled")} == {
        key: agent[key] for key in ("displayName", "email", "role", "enabled")
    }


async def test_a_supervisor_sets_an_agents_status(stack: Stack):
    agent = await new_agent(stack)
    response = await stack.http.put(f"{AGENTS}/{agent['id']}/status", json={"status": "INVISIBLE"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "INVISIBLE"
    assert (await get_agent(stack, agent["id"]))["status"] == "INVISIBLE"


async def test_another_agent_may_not_set_an_agents_status(stack: Stack):
    agent, other = await new_agent(stack), await new_agent(stack)
    async with acting_as(stack, other["apiKey"]) as stranger:
        response = await stranger.put(f"{AGENTS}/{agent['id']}/status", json={"status": "AWAY"})
    assert_error(response, 403, "FORBIDDEN")
    assert await get_agent(stack, agent["id"]) == stored(agent)


@pytest.mark.parametrize("body", [{"status": "ASLEEP"}, {"status": None}, {}, {"status": "busy"}],
                         ids=["ASLEEP", "null", "missing", "lower case"])
@pytest.mark.sqlite_only
async def test_a_bad_status_is_400_at_status_and_changes_nothing(stack: Stack, body):
    agent = await new_agent(stack, status="AWAY")
    async with acting_as(stack, agent["apiKey"]) as me:
        assert_error(await me.put(f"{AGENTS}/{agent['id']}/status", json=body), 400, "BAD_REQUEST", "status")
    assert_error(await stack.http.put(f"{AGENTS}/{agent['id']}/status", json=body), 400, "BAD_REQUEST", "status")
    assert await get_agent(stack, agent["id"]) == stored(agent)


async def test_status_of_an_unknown_agent_is_404(stack: Stack):
    response = await stack.http.put(f"{AGENTS}/00000000-0000-0000-0000-000000000000/status", json={"status": "BUSY"})
    assert_error(response, 404, "NOT_FOUND")


# --- validation of create -------------------------------------------------------------------


INVALID = [
    pytest.param({"displayName": None}, "displayName", id="displayName missing"),
    pytest.param({"displayName": ""}, "displayName", id="displayName empty"),
    pytest.param({"displayName": "   "}, "displayName", id="displayName blank"),
    pytest.param({"displayName": "x" * 256}, "displayName", id="displayName of 256"),
    pytest.param({"displayName": 7}, "displayName", id="displayName a number"),
    # No email is fine: Infobip's AgentRequest has none (test_infobip_shapes).
    pytest.param({"email": "ann.example.com"}, "email", id="email without @"),
    pytest.param({"email": "ann smith@example.com"}, "email", id="email with a space"),
    pytest.param({"email": "ann@exa mple.com"}, "email", id="email with a space in the domain"),
    pytest.param({"email": "ann@@example.com"}, "email", id="email with two @"),
    pytest.param({"email": "ann@localhost"}, "email", id="email without a dot in the domain"),
    pytest.param({"nickname": "Annie"}, "nickname", id="unknown field"),
    pytest.param({"role": "BOSS"}, "role", id="role not in enum"),
    pytest.param({"role": "agent"}, "role", id="role in lower case"),
    pytest.param({"status": "ASLEEP"}, "status", id="status not in enum"),
    pytest.param({"enabled": "yes"}, "enabled", id="enabled a string"),
    pytest.param({"enabled": 1}, "enabled", id="enabled a number"),
    pytest.param({"enabled": None}, "enabled", id="enabled null"),
]


def invalid_body(overrides: dict) -> dict:
    body = {"displayName": unique("agent"), "email": email(), **overrides}
    return {key: value for key, value in body.items() if value is not None or key not in ("displayName", "email")}


@pytest.mark.parametrize("overrides, field", INVALID)
@pytest.mark.sqlite_only
async def test_create_refuses_an_invalid_body_at_the_field(stack: Stack, overrides, field):
    response = await stack.http.post(AGENTS, json=invalid_body(overrides))
    assert_error(response, 400, "BAD_REQUEST", field)
    assert (await list_agents(stack))["pagination"]["totalItems"] == 0


@pytest.mark.parametrize("overrides, field", INVALID)
@pytest.mark.sqlite_only
async def test_put_refuses_an_invalid_body_at_the_field_and_changes_nothing(stack: Stack, overrides, field):
    agent = await new_agent(stack)
    response = await stack.http.put(f"{AGENTS}/{agent['id']}", json=invalid_body(overrides))
    assert_error(response, 400, "BAD_REQUEST", field)
    assert await get_agent(stack, agent["id"]) == stored(agent)


async def test_create_reports_every_bad_field_at_once(stack: Stack):
    response = await stack.http.post(AGENTS, json={"displayName": "", "email": "nope", "role": "BOSS"})
    exception = assert_error(response, 400, "BAD_REQUEST")
    assert {"displayName", "email", "role"} <= set(exception["validationErrors"])


async def test_display_name_of_255_characters_is_accepted(stack: Stack):
    agent = await new_agent(stack, "x" * 255)
    assert (await get_agent(stack, agent["id"]))["displayName"] == "x" * 255


@pytest.mark.parametrize("case", [str.lower, str.upper, str.title], ids=["same case", "upper", "title"])
async def test_create_with_an_email_in_use_is_409_at_email(stack: Stack, case):
    holder = await new_agent(stack)
    response = await stack.http.post(AGENTS, json={"displayName": unique("twin"), "email": case(holder["email"])})
    assert_error(response, 409, "CONFLICT", "email")
    listed = await list_agents(stack)
    assert listed["pagination"]["totalItems"] == 1
    assert listed["agents"] == [stored(holder)]


def unraising_client(stack: Stack) -> httpx.AsyncClient:
    """As a real server answers: an unhandled error is the 500 response, not an exception here."""
    in_process = stack.http._transport
    assert isinstance(in_process, httpx.ASGITransport)
    transport = httpx.ASGITransport(app=in_process.app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=stack.http.base_url, headers=stack.http.headers)


async def test_concurrent_creates_of_one_email_make_one_agent(stack: Stack):
    async with unraising_client(stack) as http:
        for _ in range(3):  # a few rounds, so that the race is run for sure
            address = email()
            responses = await asyncio.gather(*[
                http.post(AGENTS, json={"displayName": unique("racer"), "email": address}) for _ in range(10)
            ])
            statuses = sorted(response.status_code for response in responses)
            assert statuses == [201] + [409] * 9, [(r.status_code, r.text) for r in responses]
            for response in responses:
                if response.status_code == 409:
                    assert_error(response, 409, "CONFLICT", "email")
    assert (await list_agents(stack))["pagination"]["totalItems"] == 3


async def test_a_create_that_loses_the_email_race_is_409_at_email(stack: Stack, monkeypatch):
    """The race made certain: the email check runs before the winner is visible."""
    holder = await new_agent(stack)
    monkeypatch.setattr(agents_api.agent_store, "by_email", lambda session, address: None)
    async with unraising_client(stack) as http:
        response = await http.post(AGENTS, json={"displayName": unique("late"), "email": holder["email"]})
    monkeypatch.undo()
    assert_error(response, 409, "CONFLICT", "email")
    assert (await list_agents(stack))["agents"] == [stored(holder)]


# --- queue membership -----------------------------------------------------------------------


async def test_joining_a_queue_answers_the_agents_queues_and_twice_keeps_one(stack: Stack):
    agent = await new_agent(stack)
    front, back = await create_queue(stack.http, unique("Front desk")), await create_queue(stack.http)

    response = await stack.http.post(f"{AGENTS}/{agent['id']}/queues", json={"queueId": front["id"]})
    assert response.status_code == 200, response.text
    # With Infobip's StatusCodeResponse fields.
    added = {"statusCode": "SUCCESS", "message": "Agent added to queue"}
    assert response.json() == {"queues": [ref(front)], **added}

    again = await stack.http.post(f"{AGENTS}/{agent['id']}/queues", json={"queueId": front["id"]})
    assert again.status_code == 200, again.text
    assert again.json() == {"queues": [ref(front)], **added}

    assert await join(stack, agent["id"], back["id"]) == [ref(front), ref(back)]
    assert await agent_queues(stack, agent["id"]) == [ref(front), ref(back)]


async def test_a_new_agent_has_no_queues(stack: Stack):
    agent = await new_agent(stack)
    assert await agent_queues(stack, agent["id"]) == []


async def test_leaving_a_queue_answers_the_rest_and_leaving_it_again_is_404(stack: Stack):
    agent = await new_agent(stack)
    front, back = await create_queue(stack.http), await create_queue(stack.http)
    await join(stack, agent["id"], front["id"])
    await join(stack, agent["id"], back["id"])

    response = await stack.http.delete(f"{AGENTS}/{agent['id']}/queues/{front['id']}")
    assert response.status_code == 200, response.text
    assert response.json() == {"queues": [ref(back)], "statusCode": "SUCCESS",
                               "message": "Agent removed from queue"}
    assert await agent_queues(stack, agent["id"]) == [ref(back)]

    assert_error(await stack.http.delete(f"{AGENTS}/{agent['id']}/queues/{front['id']}"), 404, "NOT_FOUND")
    assert await agent_queues(stack, agent["id"]) == [ref(back)]


async def test_leaving_a_queue_never_joined_is_404_and_changes_nothing(stack: Stack):
    agent = await new_agent(stack)
    member_of, never = await create_queue(stack.http), await create_queue(stack.http)
    await join(stack, agent["id"], member_of["id"])
    assert_error(await stack.http.delete(f"{AGENTS}/{agent['id']}/queues/{never['id']}"), 404, "NOT_FOUND")
    assert await agent_queues(stack, agent["id"]) == [ref(member_of)]


async def test_membership_of_an_unknown_agent_is_404(stack: Stack):
    queue = await create_queue(stack.http)
    ghost = "00000000-0000-0000-0000-000000000000"
    assert_error(await stack.http.get(f"{AGENTS}/{ghost}/queues"), 404, "NOT_FOUND")
    assert_error(await stack.http.post(f"{AGENTS}/{ghost}/queues", json={"queueId": queue["id"]}), 404, "NOT_FOUND")
    assert_error(await stack.http.delete(f"{AGENTS}/{ghost}/queues/{queue['id']}"), 404, "NOT_FOUND")
    assert (await get_queue(stack, queue["id"]))["enabledAgentsCount"] == 0


@pytest.mark.parametrize("which", ["unknown", "deleted", "empty", "too long", "missing"])
async def test_joining_an_unknown_or_deleted_queue_is_400_at_queue_id(stack: Stack, which):
    agent = await new_agent(stack)
    kept = await create_queue(stack.http)
    await join(stack, agent["id"], kept["id"])
    gone = await create_queue(stack.http)
    assert (await stack.http.delete(f"{QUEUES}/{gone['id']}")).status_code == 200
    body = {
        "unknown": {"queueId": "00000000-0000-0000-0000-000000000000"},
        "deleted": {"queueId": gone["id"]},
        "empty": {"queueId": ""},
        "too long": {"queueId": "x" * 37},
        "missing": {},
    }[which]
    response = await stack.http.post(f"{AGENTS}/{agent['id']}/queues", json=body)
    assert_error(response, 400, "BAD_REQUEST", "queueId")
    assert await agent_queues(stack, agent["id"]) == [ref(kept)]


async def test_a_deleted_queue_disappears_from_the_agents_queues(stack: Stack):
    agent = await new_agent(stack)
    kept, doomed = await create_queue(stack.http), await create_queue(stack.http)
    await join(stack, agent["id"], doomed["id"])
    await join(stack, agent["id"], kept["id"])
    assert (await stack.http.delete(f"{QUEUES}/{doomed['id']}")).status_code == 200
    assert await agent_queues(stack, agent["id"]) == [ref(kept)]
    listed = await stack.http.get(QUEUES, params={"agentId": agent["id"]})
    assert [queue["id"] for queue in listed.json()["queues"]] == [kept["id"]]


async def test_enabled_agents_count_counts_enabled_members_only(stack: Stack):
    queue = await create_queue(stack.http)
    assert queue["enabledAgentsCount"] == 0
    first, second = await new_agent(stack), await new_agent(stack)
    off = await new_agent(stack, enabled=False)
    for agent in (first, second, off):
        await join(stack, agent["id"], queue["id"])
    await new_agent(stack)  # not a member: does not count
    assert (await get_queue(stack, queue["id"]))["enabledAgentsCount"] == 2

    disable = await stack.http.put(f"{AGENTS}/{second['id']}", json=put_body(second, enabled=False))
    assert disable.status_code == 200, disable.text
    assert (await get_queue(stack, queue["id"]))["enabledAgentsCount"] == 1

    enable = await stack.http.put(f"{AGENTS}/{off['id']}", json=put_body(off, enabled=True))
    assert enable.status_code == 200, enable.text
    assert (await get_queue(stack, queue["id"]))["enabledAgentsCount"] == 2

    assert (await stack.http.delete(f"{AGENTS}/{first['id']}/queues/{queue['id']}")).status_code == 200
    assert (await get_queue(stack, queue["id"]))["enabledAgentsCount"] == 1
    listed = (await stack.http.get(QUEUES, params={"limit": 999})).json()["queues"]
    assert {q["id"]: q["enabledAgentsCount"] for q in listed}[queue["id"]] == 1


async def test_queue_list_by_agent_id_shows_exactly_that_agents_queues(stack: Stack):
    q1, q2, q3 = [await create_queue(stack.http) for _ in range(3)]
    x, y, idle = await new_agent(stack), await new_agent(stack), await new_agent(stack)
    await join(stack, x["id"], q1["id"])
    await join(stack, x["id"], q2["id"])
    await join(stack, y["id"], q2["id"])
    await join(stack, y["id"], q3["id"])

    async def queue_ids(agent_id: str) -> set[str]:
        response = await stack.http.get(QUEUES, params={"agentId": agent_id, "limit": 999})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["pagination"]["totalItems"] == len(body["queues"])
        return {queue["id"] for queue in body["queues"]}

    assert await queue_ids(x["id"]) == {q1["id"], q2["id"]}
    assert await queue_ids(y["id"]) == {q2["id"], q3["id"]}
    assert await queue_ids(idle["id"]) == set()
    assert await queue_ids("00000000-0000-0000-0000-000000000000") == set()


# --- assignment -----------------------------------------------------------------------------


async def test_a_supervisor_assigns_a_conversation_and_the_timeline_names_the_supervisor(stack: Stack):
    boss = await new_agent(stack, role="SUPERVISOR")
    agent = await new_agent(stack)
    queue = await create_queue(stack.http)
    conversation = await create_conversation(stack.http, queueId=queue["id"])
    assert conversation["agentId"] is None

    async with acting_as(stack, boss["apiKey"]) as supervisor:
        response = await supervisor.patch(f"{CONVERSATIONS}/{conversation['id']}", json={"agentId": agent["id"]})
    assert response.status_code == 200, response.text
    assert response.json()["agentId"] == agent["id"]
    assert response.json()["queueId"] == queue["id"]
    assert (await get_conversation(stack, conversation["id"]))["agentId"] == agent["id"]

    assigned = of_type(await events(stack, conversation["id"]), "ASSIGNED")
    assert len(assigned) == 1, assigned
    assert assigned[0]["actor"] == {"type": "SUPERVISOR", "id": boss["id"], "name": boss["displayName"]}
    assert assigned[0]["agentId"] == agent["id"], "the timeline names who it was given to"
    assert TIME.match(assigned[0]["at"])


async def test_the_bootstrap_supervisor_assigns_and_is_the_actor(stack: Stack):
    agent = await new_agent(stack)
    conversation = await create_conversation(stack.http, queueId=(await create_queue(stack.http))["id"])
    response = await stack.http.patch(f"{CONVERSATIONS}/{conversation['id']}", json={"agentId": agent["id"]})
    assert response.status_code == 200, response.text
    assert response.json()["agentId"] == agent["id"]
    assigned = of_type(await events(stack, conversation["id"]), "ASSIGNED")
    assert len(assigned) == 1, assigned
    assert assigned[0]["actor"]["type"] == "SUPERVISOR"
    assert assigned[0]["actor"]["id"]

    # The same agent again is no change: no second event.
    again = await stack.http.patch(f"{CONVERSATIONS}/{conversation['id']}", json={"agentId": agent["id"]})
    assert again.status_code == 200, again.text
    assert len(of_type(await events(stack, conversation["id"]), "ASSIGNED")) == 1


@pytest.mark.parametrize("which", ["unknown", "disabled"])
async def test_assigning_an_unknown_or_disabled_agent_is_400_at_agent_id_and_changes_nothing(stack: Stack, which):
    first = await new_agent(stack)
    conversation = await create_conversation(stack.http, queueId=(await create_queue(stack.http))["id"])
    assigned = await stack.http.patch(f"{CONVERSATIONS}/{conversation['id']}", json={"agentId": first["id"]})
    assert assigned.status_code == 200, assigned.text
    before = await get_conversation(stack, conversation["id"])
    timeline = await events(stack, conversation["id"])

    target = (
        "00000000-0000-0000-0000-000000000000" if which == "unknown"
        else (await new_agent(stack, enabled=False))["id"]
    )
    response = await stack.http.patch(
        f"{CONVERSATIONS}/{conversation['id']}", json={"agentId": target, "topic": "should not stick"}
    )
    assert_error(response, 400, "BAD_REQUEST", "agentId")

    after = await get_conversation(stack, conversation["id"])
    assert after == before
    assert after["agentId"] == first["id"]
    assert await events(stack, conversation["id"]) == timeline


async def test_the_assigned_agent_works_the_conversation_and_another_agent_may_not(stack: Stack):
    queue = await create_queue(stack.http)
    assignee, stranger = await new_agent(stack), await new_agent(stack)
    conversation = await create_conversation(stack.http, queueId=queue["id"], topic="before")
    url = f"{CONVERSATIONS}/{conversation['id']}"

    async with acting_as(stack, assignee["apiKey"]) as mine, acting_as(stack, stranger["apiKey"]) as theirs:
        # Not a member of the queue and not yet assigned: refused.
        assert_error(await mine.get(url), 403, "FORBIDDEN")
        assert (await stack.http.patch(url, json={"agentId": assignee["id"]})).status_code == 200

        read = await mine.get(url)
        assert read.status_code == 200, read.text
        assert read.json()["agentId"] == assignee["id"]
        changed = await mine.patch(url, json={"topic": "by the assignee", "priority": "HIGH"})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["topic"], changed.json()["priority"]) == ("by the assignee", "HIGH")
        assert (await mine.get(f"{url}/events")).status_code == 200

        assert_error(await theirs.get(url), 403, "FORBIDDEN")
        assert_error(await theirs.patch(url, json={"topic": "by a stranger"}), 403, "FORBIDDEN")
        assert_error(await theirs.get(f"{url}/events"), 403, "FORBIDDEN")

    read_back = await get_conversation(stack, conversation["id"])
    assert (read_back["topic"], read_back["priority"], read_back["agentId"]) == (
        "by the assignee", "HIGH", assignee["id"]
    )


# --- an agent's reroute ---------------------------------------------------------------------


async def test_an_agent_reroutes_a_conversation_of_its_queue_and_the_timeline_names_it(stack: Stack):
    front = await create_queue(stack.http, unique("Front desk"))
    target = await create_queue(stack.http, unique("Authentication"))
    agent = await new_agent(stack, unique("Ann"))
    await join(stack, agent["id"], front["id"])
    conversation = await create_conversation(stack.http, queueId=front["id"])
    assert conversation["queueId"] == front["id"]

    async with acting_as(stack, agent["apiKey"]) as me:
        response = await me.patch(
            f"{CONVERSATIONS}/{conversation['id']}", json={"queueId": target["id"], "reason": "needs authentication"}
        )
    assert response.status_code == 200, response.text
    assert response.json()["queueId"] == target["id"]
    assert (await get_conversation(stack, conversation["id"]))["queueId"] == target["id"]

    rerouted = of_type(await events(stack, conversation["id"]), "REROUTED")
    assert len(rerouted) == 1, rerouted
    event = rerouted[0]
    assert event["actor"] == {"type": "AGENT", "id": agent["id"], "name": agent["displayName"]}
    assert (event["fromQueueId"], event["toQueueId"]) == (front["id"], target["id"])
    assert event["reason"] == "needs authentication"
