"""Staffing over HTTP: given figures answer the published Erlang C case; observed ones come from
conversations created, assigned and solved through the API; who may ask; bad parameters. The
store's reading of timelines (SQLite and PostgreSQL, exact times) is tests/store/test_staffing_store.py's,
the mathematics tests/unit/test_staffing.py's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.databases import copy_sqlite_file
from tests.helpers import assert_error, create_conversation, create_queue, unique, wait_for

Q, C, A = "/ccaas/1/queues", "/ccaas/1/conversations", "/ccaas/1/agents"
TEXTBOOK = {"arrivalsPerHour": 200, "handleSeconds": 180, "capacity": 1, "serviceLevelPercent": 80,
            "targetSeconds": 20}


@pytest.fixture
def database_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    """SQLite only: the store's queries are tested on both databases in tests/store."""
    return copy_sqlite_file(migrated_sqlite, tmp_path / "switchboard.db")


async def staffing(http: httpx.AsyncClient, queue_id: str, **params: Any) -> dict[str, Any]:
    response = await http.get(f"{Q}/{queue_id}/staffing", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def new_agent(stack: Stack, queue_id: str, capacity: int, status: str = "ACTIVE") -> dict[str, Any]:
    body = {"displayName": unique("agent"), "status": status, "role": "AGENT", "maxConversations": capacity}
    created = await stack.http.post(A, json=body)
    assert created.status_code == 201, created.text
    joined = await stack.http.post(f"{A}/{created.json()['id']}/queues", json={"queueId": queue_id})
    assert joined.status_code == 200, joined.text
    return created.json()


def as_key(stack: Stack, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=stack.http._transport, base_url=stack.http.base_url,
                             headers={"Authorization": f"App {key}"})


async def test_given_figures_answer_the_published_case(stack: Stack) -> None:
    queue = await create_queue(stack.http)
    body = await staffing(stack.http, queue["id"], **TEXTBOOK)
    assert body["model"] == "ERLANG_C" and body["missing"] == []
    assert body["inputs"]["arrivalsPerHour"] == {"value": 200.0, "source": "GIVEN"}
    assert body["inputs"]["patienceSeconds"] == {"value": None, "source": "OBSERVED"}
    assert body["loadErlangs"] == 10.0
    needed = body["needed"]
    assert (needed["servers"], needed["agents"]) == (14, 14)
    assert round(needed["serviceLevel"], 3) == 0.888
    assert round(needed["occupancy"], 3) == 0.714
    assert round(needed["probabilityOfWaiting"], 3) == 0.174
    assert round(needed["averageWaitSeconds"], 1) == 7.8
    assert needed["abandonFraction"] is None
    # Nobody is available: today's staffing cannot carry the load.
    assert body["atCurrentStaffing"] == {"agentsAvailable": 0, "servers": 0, "carriesLoad": False,
                                         "meetsTarget": False, "figures": None}
    assert body["gap"] == 14
    # Shrinkage and capacity divide, rounding up; a finite patience needs fewer.
    assert (await staffing(stack.http, queue["id"], **TEXTBOOK, shrinkage=0.3))["needed"]["agents"] == 20
    assert (await staffing(stack.http, queue["id"], **{**TEXTBOOK, "capacity": 2}))["needed"]["agents"] == 7
    patient = await staffing(stack.http, queue["id"], **TEXTBOOK, patienceSeconds=60)
    assert patient["model"] == "ERLANG_A" and patient["needed"]["agents"] < 14
    assert patient["needed"]["abandonFraction"] > 0
    # The queue's own target by default (60 s, 80 %), and no traffic needs nobody.
    idle = await staffing(stack.http, queue["id"])
    assert (idle["targetSeconds"], idle["serviceLevelPercent"]) == (60, 80)
    assert idle["needed"]["agents"] == 0 and idle["needed"]["serviceLevel"] == 1.0 and idle["gap"] == 0


async def test_observed_figures_come_from_the_queues_conversations(stack: Stack) -> None:
    queue = await create_queue(stack.http)
    agent = await new_agent(stack, queue["id"], capacity=2)
    await new_agent(stack, queue["id"], capacity=4, status="AWAY")
    for _ in range(2):
        conversation = await create_conversation(stack.http, queueId=queue["id"])
        assigned = await stack.http.patch(f"{C}/{conversation['id']}", json={"agentId": agent["id"]})
        assert assigned.status_code == 200, assigned.text
        solved = await stack.http.patch(f"{C}/{conversation['id']}", json={"status": "SOLVED"})
        assert solved.status_code == 200, solved.text

    async def handled() -> dict[str, Any] | None:
        body = await staffing(stack.http, queue["id"], targetSeconds=20)
        return body if body["observed"]["handled"] == 2 else None

    body = await wait_for(handled)
    assert body["observed"]["staysEntered"] == 2 and body["inputs"]["arrivalsPerHour"]["value"] == 2.0
    assert body["inputs"]["handleSeconds"]["source"] == "OBSERVED"
    assert 0 <= body["inputs"]["handleSeconds"]["value"] < 30
    assert body["inputs"]["capacity"] == {"value": 3.0, "source": "OBSERVED"}
    assert body["model"] == "ERLANG_C" and body["observed"]["abandoned"] == 0
    assert body["atCurrentStaffing"]["agentsAvailable"] == 1 and body["atCurrentStaffing"]["servers"] == 3
    assert body["gap"] == body["needed"]["agents"] - 1

    # One closed while waiting: abandoned, and the patience observed makes it Erlang A.
    waiting = await create_conversation(stack.http, queueId=queue["id"])
    closed = await stack.http.patch(f"{C}/{waiting['id']}", json={"status": "CLOSED"})
    assert closed.status_code == 200, closed.text

    async def abandoned() -> dict[str, Any] | None:
        body = await staffing(stack.http, queue["id"], window="PT30M")
        return body if body["observed"]["abandoned"] == 1 else None

    body = await wait_for(abandoned)
    assert body["model"] == "ERLANG_A" and body["inputs"]["patienceSeconds"]["value"] is not None
    assert body["window"] == "PT30M" and body["inputs"]["arrivalsPerHour"]["value"] == 6.0


async def test_who_may_ask(stack: Stack) -> None:
    mine, other = await create_queue(stack.http), await create_queue(stack.http)
    agent = await new_agent(stack, mine["id"], capacity=1)
    bot = (await stack.http.post("/ccaas/1/bots", json={"displayName": unique("bot")})).json()
    served = await create_queue(stack.http, botId=bot["id"])
    async with as_key(stack, agent["apiKey"]) as as_agent, as_key(stack, bot["apiKey"]) as as_bot:
        assert (await as_agent.get(f"{Q}/{mine['id']}/staffing")).status_code == 200
        assert_error(await as_agent.get(f"{Q}/{other['id']}/staffing"), 403, "FORBIDDEN")
        assert_error(await as_bot.get(f"{Q}/{served['id']}/staffing"), 403, "FORBIDDEN")
    assert_error(await stack.http.get(f"{Q}/no-such-queue/staffing"), 404, "NOT_FOUND")


async def test_bad_parameters_are_400_at_the_parameter(stack: Stack) -> None:
    queue = await create_queue(stack.http)
    url = f"{Q}/{queue['id']}/staffing"
    for name, value in [
        ("window", "1h"), ("window", "P32D"), ("window", "PT"), ("window", "PT0S"), ("window", "P1M"),
        ("window", "P99999999999999999999999W"),
        ("shrinkage", "0.95"), ("shrinkage", "-0.1"), ("serviceLevelPercent", "0"),
        ("serviceLevelPercent", "101"), ("targetSeconds", "-1"), ("targetSeconds", "2.5"),
        ("arrivalsPerHour", "-1"), ("arrivalsPerHour", "nan"), ("handleSeconds", "0"),
        ("patienceSeconds", "inf"), ("capacity", "0"), ("capacity", "many"),
    ]:
        assert_error(await stack.http.get(url, params={name: value}), 400, "BAD_REQUEST", name)
    # A load beyond what is computed: named at the figure given.
    assert_error(await stack.http.get(url, params={"arrivalsPerHour": 1_000_000, "handleSeconds": 3600}),
                 400, "BAD_REQUEST", "arrivalsPerHour")
    # Windows of days and weeks are read.
    assert (await staffing(stack.http, queue["id"], window="P1W"))["window"] == "P1W"
    assert (await staffing(stack.http, queue["id"], window="p1dt12h"))["window"] == "P1DT12H"
