"""The dry run of auto-assignment for one conversation, `GET /conversations/{id}/eligible-agents`,
through the API on SQLite and PostgreSQL: who of its queue's members may take it now and why
the others may not, how that changes at each relaxation of its required skills, and who may ask."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from contract.base import format_time
from domain.models import as_utc
from domain.skills import RequiredSkill
from store.db import session_scope
from store.tables import AgentSkillRow, ConversationRow
from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, unique, wait_for

C, A = "/ccaas/1/conversations", "/ccaas/1/agents"


async def new_agent(stack: Stack, queue_id: str | None, name: str, capacity: int = 3, status: str = "ACTIVE",
                    enabled: bool = True, **levels: int) -> dict:
    body: dict[str, Any] = {"displayName": name, "status": status, "enabled": enabled, "maxConversations": capacity}
    created = await stack.http.post(A, json=body)
    assert created.status_code == 201, created.text
    agent = created.json()
    if queue_id is not None:
        joined = await stack.http.post(f"{A}/{agent['id']}/queues", json={"queueId": queue_id})
        assert joined.status_code == 200, joined.text
    # Skills straight into the store: the skills endpoint is another change's.
    with session_scope(stack.engine) as session:
        for skill, level in levels.items():
            session.add(AgentSkillRow(agent_id=agent["id"], name=skill, level=level))
    return agent


def require(stack: Stack, conversation_id: str, *required: RequiredSkill) -> None:
    """The conversation's requirements as its workflow's projection would write them (the API
    to set them is another change's)."""
    with session_scope(stack.engine) as session:
        row = session.get(ConversationRow, conversation_id)
        assert row is not None
        row.required_skills = [requirement.model_dump(mode="json") for requirement in required]
        session.add(row)


async def dry_run(http: httpx.AsyncClient, conversation_id: str) -> dict:
    response = await http.get(f"{C}/{conversation_id}/eligible-agents")
    assert response.status_code == 200, response.text
    return response.json()


def eligible(standing: dict) -> list[tuple[str, int, int]]:
    return [(agent["displayName"], agent["load"], agent["score"]) for agent in standing["eligible"]]


def why(standing: dict) -> dict[str, str]:
    return {agent["displayName"]: agent["why"] for agent in standing["notEligible"]}


async def test_members_now_and_at_each_relaxation_each_with_its_load_score_or_why_not(stack: Stack):
    http = stack.http
    # No auto-assignment: what waits stays waiting, whatever the dry run says.
    queue = await create_queue(http)
    fluent = await new_agent(stack, queue["id"], "fluent", es=3, billing=2)
    await new_agent(stack, queue["id"], "low", es=2, billing=1)
    await new_agent(stack, queue["id"], "none")
    await new_agent(stack, queue["id"], "away", status="AWAY", es=5, billing=5)
    await new_agent(stack, queue["id"], "off", enabled=False, es=5, billing=5)
    full = await new_agent(stack, queue["id"], "full", capacity=1, es=5, billing=5)
    await new_agent(stack, None, "elsewhere", es=5, billing=5)  # not a member: not listed
    held = await create_conversation(http, queueId=queue["id"])
    taken = await http.put(f"{C}/{held['id']}/assignee", json={"agentId": full["id"]})
    assert taken.status_code == 200, taken.text

    async def full_holds_it() -> bool:
        return (await http.get(f"{A}/{full['id']}")).json()["load"] == 1

    await wait_for(full_holds_it, timeout=10)

    waiting = await create_conversation(http, queueId=queue["id"])
    with session_scope(stack.engine) as session:
        row = session.get(ConversationRow, waiting["id"])
        assert row is not None and row.queued_at is not None
        queued_at = as_utc(row.queued_at)
    # Spanish at 3 relaxes a minute after it entered; billing, set later, 500 s after it was set.
    require(stack, waiting["id"],
            RequiredSkill(name="es", min_level=3, relax_after_seconds=60),
            RequiredSkill(name="billing", relax_after_seconds=500, set_at=queued_at + timedelta(seconds=100)),
            RequiredSkill(name="vip", relaxed=True))
    body = await dry_run(http, waiting["id"])
    assert set(body) == {"now", "relaxations"}
    now = body["now"]
    assert set(now["eligible"][0]) == {"agentId", "displayName", "load", "score"}
    assert now["eligible"][0]["agentId"] == fluent["id"]
    assert eligible(now) == [("fluent", 0, 5)]
    assert why(now) == {
        "low": "es level 2 below 3", "none": "missing skill es", "away": "not ACTIVE (AWAY)",
        "off": "disabled", "full": "full (1/1)",
    }
    first, second = body["relaxations"]
    assert first["at"] == format_time(queued_at + timedelta(seconds=60))
    # Spanish relaxed: the lower level may take it, ranked below by its score; loads as now.
    assert eligible(first) == [("fluent", 0, 5), ("low", 0, 3)]
    assert why(first)["none"] == "missing skill billing" and why(first)["full"] == "full (1/1)"
    assert second["at"] == format_time(queued_at + timedelta(seconds=600))
    assert eligible(second) == [("fluent", 0, 5), ("low", 0, 3), ("none", 0, 0)]
    assert why(second) == {"away": "not ACTIVE (AWAY)", "off": "disabled", "full": "full (1/1)"}

    # Nothing required: every ACTIVE member with room (equal loads, so in no particular
    # order), without relaxations.
    plain = await dry_run(http, held["id"])
    assert sorted(eligible(plain["now"])) == [("fluent", 0, 0), ("low", 0, 0), ("none", 0, 0)]
    assert plain["relaxations"] == []


async def test_a_conversation_in_no_queue_has_nobody_and_an_unknown_one_is_404(stack: Stack):
    # Routing always finds a queue (the default one): a row without one, which the store
    # allows, is made directly.
    nowhere = await create_conversation(stack.http)
    with session_scope(stack.engine) as session:
        row = session.get(ConversationRow, nowhere["id"])
        assert row is not None
        row.queue_id = None
        session.add(row)
    assert await dry_run(stack.http, nowhere["id"]) == {"now": {"eligible": [], "notEligible": []},
                                                       "relaxations": []}
    assert_error(await stack.http.get(f"{C}/{unique('missing')}/eligible-agents"), 404, "NOT_FOUND")


async def test_an_agent_asks_for_its_queues_conversations_only_and_a_bot_never(stack: Stack):
    queue, other = await create_queue(stack.http), await create_queue(stack.http)
    member = await new_agent(stack, queue["id"], "member", es=1)
    stranger = await new_agent(stack, other["id"], "stranger")
    bot = (await stack.http.post("/ccaas/1/bots", json={"displayName": unique("bot")})).json()
    waiting = await create_conversation(stack.http, queueId=queue["id"])

    def as_key(key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=stack.http._transport, base_url=stack.http.base_url,
                                 headers={"Authorization": f"App {key}"})

    async with as_key(member["apiKey"]) as client:
        assert eligible((await dry_run(client, waiting["id"]))["now"]) == [("member", 0, 0)]
    for key in (stranger["apiKey"], bot["apiKey"]):
        async with as_key(key) as client:
            assert_error(await client.get(f"{C}/{waiting['id']}/eligible-agents"), 403, "FORBIDDEN")
