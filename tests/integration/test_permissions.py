"""The spec's permission table, role by role and route by route, against the real API.

Every route of the application must have a row here (and in api/permissions.py): a route
added later without one fails `test_every_route_has_a_row`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from api.permissions import PERMISSIONS
from tests.conftest import Stack
from tests.databases import copy_sqlite_file
from tests.helpers import create_conversation, create_queue, unique, wait_for
from tests.sse import STREAM, hang_up_on_streams


@pytest.fixture
def database_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    """SQLite only (this overrides conftest's, which adds PostgreSQL): who may do what is the
    API's rule, the same on every store, and the PostgreSQL variant doubled the file's 80 s.
    A copy of the session's migrated file, as conftest's SQLite variant is."""
    return copy_sqlite_file(migrated_sqlite, tmp_path / "switchboard.db")


ROLES = ("supervisor", "agent", "stranger agent", "bot", "other bot")
EVERYONE = set(ROLES)
SUPERVISORS = {"supervisor"}
# Conversation work: the agent is a member of the conversation's queue, the bot serves it.
WORK = {"supervisor", "agent", "bot"}
HISTORY = {"supervisor", "agent"}
REPORT = {"bot"}
OWN_STATUS = {"supervisor", "agent"}
# A supervisor assigns anyone; the agent takes for itself (a member) or releases its own.
ASSIGN = {"supervisor", "agent"}
# A queue's staffing and service level today (the wallboard): any queue, an agent its own (the
# stranger is no member), no bot.
QUEUE_WORK = {"supervisor", "agent"}


@dataclass
class World:
    """Principals and places; the conversation queue is served by `bot` and worked by `agent`."""

    stack: Stack
    clients: dict[str, httpx.AsyncClient]
    queue: dict
    agent_id: str

    async def fresh_conversation(self, **fields: Any) -> str:
        return (await create_conversation(self.stack.http, queueId=self.queue["id"], **fields))["id"]

    async def fresh_queue(self) -> str:
        return (await create_queue(self.stack.http))["id"]

    async def fresh_bot(self) -> str:
        return (await self.stack.http.post("/ccaas/1/bots", json={"displayName": unique("b")})).json()["id"]

    async def fresh_agent(self) -> str:
        body = {"displayName": unique("a"), "email": f"{unique('a')}@example.com"}
        return (await self.stack.http.post("/ccaas/1/agents", json=body)).json()["id"]

    async def fresh_tag(self) -> str:
        name = unique("tag")
        assert (await self.stack.http.post("/ccaas/1/tags", json={"name": name})).status_code == 201
        return name

    async def fresh_person(self) -> str:
        response = await self.stack.http.post("/people/2/persons", json={"firstName": unique("p")})
        assert response.status_code == 201, response.text
        return response.json()["id"]


    async def fresh_webhook(self) -> str:
        response = await self.stack.http.post(H, json=WEBHOOK)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def fresh_bot_with_webhook(self) -> str:
        response = await self.stack.http.post(B, json={"displayName": unique("b"), "webhookUrl": WEBHOOK["url"]})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def fresh_sla_policy(self) -> str:
        response = await self.stack.http.post(SLA, json=SLA_POLICY)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def fresh_working_hours(self) -> str:
        response = await self.stack.http.post(WH, json={**WORKING_HOURS, "holidays": [HOLIDAY]})
        assert response.status_code == 201, response.text
        return response.json()["id"]


async def a_holiday(world: World):
    return "DELETE", f"{WH}/{await world.fresh_working_hours()}/holiday/{HOLIDAY['id']}", None


async def a_delivery(world: World):
    """A webhook's delivery of a conversation's creation (written with the event, before the 201)."""
    webhook = (await world.stack.http.post(H, json={**WEBHOOK, "eventTypes": ["conversation.created"]})).json()
    await world.fresh_conversation()
    deliveries = (await world.stack.http.get(f"{H}/{webhook['id']}/deliveries")).json()["deliveries"]
    assert len(deliveries) == 1, deliveries
    return "POST", f"{H}/{webhook['id']}/deliveries/{deliveries[0]['id']}/retry", None


Request = Callable[[World], Awaitable[tuple[str, str, Any]]]


def fixed(method: str, url: str, body: Any = None) -> Request:
    async def build(world: World):
        return method, url, body
    return build


def on(method: str, make: str, template: str, body: Any = None) -> Request:
    """A request on a fresh resource made by `World.<make>`, so no call depends on another."""
    async def build(world: World):
        return method, template.format(await getattr(world, make)()), body
    return build


def on_agent(method: str, template: str, body: Any = None) -> Request:
    async def build(world: World):
        return method, template.format(world.agent_id), body
    return build


def on_conversation(method: str, suffix: str = "", body: Any = None, **fields: Any) -> Request:
    async def build(world: World):
        return method, f"/ccaas/1/conversations/{await world.fresh_conversation(**fields)}{suffix}", body
    return build


def the_worked_queue(suffix: str) -> Request:
    async def build(world: World):
        return "GET", f"/ccaas/1/queues/{world.queue['id']}/{suffix}", None
    return build


async def settings_body(world: World):
    default = (await world.stack.http.get("/ccaas/1/routing/settings")).json()["defaultQueueId"]
    return "PUT", "/ccaas/1/routing/settings", {"defaultQueueId": default}


async def membership(world: World):
    return "POST", f"/ccaas/1/agents/{await world.fresh_agent()}/queues", {"queueId": world.queue["id"]}


async def remove_membership(world: World):
    agent = await world.fresh_agent()
    await world.stack.http.post(f"/ccaas/1/agents/{agent}/queues", json={"queueId": world.queue["id"]})
    return "DELETE", f"/ccaas/1/agents/{agent}/queues/{world.queue['id']}", None


async def assign_to_the_agent(world: World):
    return "PUT", f"/ccaas/1/conversations/{await world.fresh_conversation()}/assignee", {"agentId": world.agent_id}


def answering_the_agents_offer(answer: str) -> Request:
    """The agent's pending offer (the one a role before was refused, or a new one): only the
    agent may answer it."""
    async def build(world: World):
        http = world.stack.http
        offers = (await http.get(f"/ccaas/1/agents/{world.agent_id}/offers")).json()["offers"]
        if not offers:
            queue = await create_queue(http, unique("offers"), isAutoAssignmentEnabled=True, offerTimeoutSeconds=600)
            await http.post(f"/ccaas/1/agents/{world.agent_id}/queues", json={"queueId": queue["id"]})
            await http.put(f"/ccaas/1/agents/{world.agent_id}/status", json={"status": "ACTIVE"})
            await create_conversation(http, queueId=queue["id"])

            async def offered() -> list[dict]:
                return (await http.get(f"/ccaas/1/agents/{world.agent_id}/offers")).json()["offers"]

            offers = await wait_for(offered, timeout=20)
        return "POST", f"/ccaas/1/conversations/{offers[0]['conversationId']}/offer/{answer}", None
    return build


async def unassign_the_agent(world: World):
    return "DELETE", f"/ccaas/1/conversations/{await world.fresh_conversation(agentId=world.agent_id)}/assignee", None


Q, C, G, B, P = "/ccaas/1/queues", "/ccaas/1/conversations", "/ccaas/1/agents", "/ccaas/1/bots", "/people/2/persons"
T = "/ccaas/1/tags"
H = "/ccaas/1/webhooks"
# Nothing listens there: its deliveries fail and are retried, which no row here waits for.
WEBHOOK = {"url": "http://127.0.0.1:9/hook"}
AGENT_BODY = {"displayName": "Ann", "email": "ann-{}@example.com"}
WH = "/ccaas/1/working-hours"
WORKING_HOURS = {"name": "Office", "timezone": "Europe/Zagreb", "message": "Closed", "workWeek": {
    day: {"startTime": 540, "endTime": 1020, "enabled": True}
    for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")}}
SLA = "/ccaas/1/sla-policies"
SLA_POLICY = {"name": "Telegram", "expression": {"$eq": {"message.channel": "TELEGRAM"}}, "firstResponseSeconds": 60}
HOLIDAY = {"id": "christmas", "name": "Christmas", "startDate": "2026-12-25"}
# A reply (OUTBOUND, the default): every role that may write messages may write this one.
MESSAGE = {"channel": "LIVE_CHAT", "from": "support", "to": "+447700900123", "contentType": "TEXT",
           "content": {"text": "Hello"}}

ROWS: dict[tuple[str, str], tuple[Request, set[str]]] = {
    ("GET", Q): (fixed("GET", Q), EVERYONE),
    ("GET", Q + "/statistics"): (fixed("GET", Q + "/statistics"), EVERYONE),
    ("GET", Q + "/{queue_id}/statistics"): (on("GET", "fresh_queue", Q + "/{}/statistics"), EVERYONE),
    ("GET", Q + "/{queue_id}/staffing"): (the_worked_queue("staffing"), QUEUE_WORK),
    ("GET", Q + "/{queue_id}/service-level-today"): (the_worked_queue("service-level-today"), QUEUE_WORK),
    ("POST", Q): (fixed("POST", Q, {"name": "new"}), SUPERVISORS),
    ("GET", Q + "/{queue_id}"): (on("GET", "fresh_queue", Q + "/{}"), EVERYONE),
    ("PUT", Q + "/{queue_id}"): (on("PUT", "fresh_queue", Q + "/{}", {"name": "renamed"}), SUPERVISORS),
    ("DELETE", Q + "/{queue_id}"): (on("DELETE", "fresh_queue", Q + "/{}"), SUPERVISORS),
    ("GET", Q + "/{queue_id}/escalations"): (on("GET", "fresh_queue", Q + "/{}/escalations"), SUPERVISORS),
    ("GET", "/ccaas/1/routing"): (fixed("GET", "/ccaas/1/routing"), EVERYONE),
    ("PUT", "/ccaas/1/routing"): (fixed("PUT", "/ccaas/1/routing", []), SUPERVISORS),
    ("DELETE", "/ccaas/1/routing"): (fixed("DELETE", "/ccaas/1/routing"), SUPERVISORS),
    ("GET", "/ccaas/1/routing/versions"): (fixed("GET", "/ccaas/1/routing/versions"), EVERYONE),
    ("GET", "/ccaas/1/routing/versions/{number}"): (fixed("GET", "/ccaas/1/routing/versions/1"), EVERYONE),
    ("GET", "/ccaas/1/routing/versions/{a}/diff/{b}"): (fixed("GET", "/ccaas/1/routing/versions/0/diff/1"), EVERYONE),
    ("GET", "/ccaas/1/routing/settings"): (fixed("GET", "/ccaas/1/routing/settings"), EVERYONE),
    ("PUT", "/ccaas/1/routing/settings"): (settings_body, SUPERVISORS),
    ("POST", "/ccaas/1/routing/simulate"): (
        fixed("POST", "/ccaas/1/routing/simulate", {"version": 1, "recent": 10}), SUPERVISORS
    ),
    ("GET", B): (fixed("GET", B), EVERYONE),
    ("POST", B): (fixed("POST", B, {"displayName": "new bot"}), SUPERVISORS),
    ("GET", B + "/{bot_id}"): (on("GET", "fresh_bot", B + "/{}"), EVERYONE),
    ("PUT", B + "/{bot_id}"): (on("PUT", "fresh_bot", B + "/{}", {"displayName": "x"}), SUPERVISORS),
    ("DELETE", B + "/{bot_id}"): (on("DELETE", "fresh_bot", B + "/{}"), SUPERVISORS),
    ("POST", B + "/{bot_id}/api-key"): (on("POST", "fresh_bot", B + "/{}/api-key"), SUPERVISORS),
    ("GET", G): (fixed("GET", G), EVERYONE),
    ("POST", G): (fixed("POST", G, {"displayName": "new", "email": "new@example.com"}), SUPERVISORS),
    ("GET", G + "/{agent_id}"): (on("GET", "fresh_agent", G + "/{}"), EVERYONE),
    ("PUT", G + "/{agent_id}"): (
        on("PUT", "fresh_agent", G + "/{}", {"displayName": "x", "email": "x@example.com"}), SUPERVISORS
    ),
    ("PUT", G + "/{agent_id}/status"): (on_agent("PUT", G + "/{}/status", {"status": "BUSY"}), OWN_STATUS),
    ("POST", G + "/{agent_id}/api-key"): (on("POST", "fresh_agent", G + "/{}/api-key"), SUPERVISORS),
    ("GET", G + "/{agent_id}/queues"): (on_agent("GET", G + "/{}/queues"), EVERYONE),
    ("POST", G + "/{agent_id}/queues"): (membership, SUPERVISORS),
    ("DELETE", G + "/{agent_id}/queues/{queue_id}"): (remove_membership, SUPERVISORS),
    ("GET", G + "/{agent_id}/skills"): (on_agent("GET", G + "/{}/skills"), EVERYONE),
    ("PUT", G + "/{agent_id}/skills"): (
        on("PUT", "fresh_agent", G + "/{}/skills", {"skills": [{"name": "es", "level": 3}]}), SUPERVISORS),
    ("GET", "/ccaas/1/skills"): (fixed("GET", "/ccaas/1/skills"), EVERYONE),
    ("GET", P): (fixed("GET", P), SUPERVISORS),
    ("POST", P): (fixed("POST", P, {"firstName": "New"}), SUPERVISORS),
    ("GET", P + "/{person_id}"): (on("GET", "fresh_person", P + "/{}"), SUPERVISORS),
    ("PUT", P + "/{person_id}"): (on("PUT", "fresh_person", P + "/{}", {"firstName": "X"}), SUPERVISORS),
    ("PATCH", P + "/{person_id}"): (on("PATCH", "fresh_person", P + "/{}", {"firstName": "X"}), SUPERVISORS),
    ("DELETE", P + "/{person_id}"): (on("DELETE", "fresh_person", P + "/{}"), SUPERVISORS),
    ("POST", C): (fixed("POST", C, {}), EVERYONE),
    ("GET", C): (fixed("GET", C), EVERYONE),
    ("GET", C + "/{conversation_id}"): (on_conversation("GET"), WORK),
    ("PATCH", C + "/{conversation_id}"): (on_conversation("PATCH", body={"topic": "x"}), WORK),
    ("PUT", C + "/{conversation_id}"): (on_conversation("PUT", body={"topic": "x"}), WORK),
    ("POST", C + "/{conversation_id}/route"): (on_conversation("POST", "/route"), WORK),
    ("POST", C + "/{conversation_id}/tags"): (on_conversation("POST", "/tags", {"tagName": "t"}), WORK),
    ("DELETE", C + "/{conversation_id}/tags/{tag_name}"): (on_conversation("DELETE", "/tags/t", tags=["t"]), WORK),
    ("POST", C + "/{conversation_id}/authentication"): (
        on_conversation("POST", "/authentication", {"status": "SUCCEEDED"}), REPORT),
    ("PUT", C + "/{conversation_id}/assignee"): (assign_to_the_agent, ASSIGN),
    # Only agents answer offers, and of them only the offered one (the workflow's 403).
    ("POST", C + "/{conversation_id}/offer/accept"): (answering_the_agents_offer("accept"), {"agent"}),
    ("POST", C + "/{conversation_id}/offer/decline"): (answering_the_agents_offer("decline"), {"agent"}),
    ("GET", G + "/{agent_id}/offers"): (on_agent("GET", G + "/{}/offers"), OWN_STATUS),
    ("DELETE", C + "/{conversation_id}/assignee"): (unassign_the_agent, ASSIGN),
    ("GET", G + "/{agent_id}/conversations"): (on_agent("GET", G + "/{}/conversations"), OWN_STATUS),
    ("GET", C + "/{conversation_id}/events"): (on_conversation("GET", "/events"), HISTORY),
    ("GET", C + "/{conversation_id}/simulate-routing"): (on_conversation("GET", "/simulate-routing"), HISTORY),
    ("GET", C + "/{conversation_id}/eligible-agents"): (on_conversation("GET", "/eligible-agents"), HISTORY),
    ("GET", C + "/{conversation_id}/workflow-history"): (on_conversation("GET", "/workflow-history"), SUPERVISORS),
    ("GET", C + "/{conversation_id}/messages"): (on_conversation("GET", "/messages"), WORK),
    ("POST", C + "/{conversation_id}/messages"): (on_conversation("POST", "/messages", MESSAGE), WORK),
    ("GET", T): (fixed("GET", T), EVERYONE),
    ("POST", T): (fixed("POST", T, {"name": "new"}), SUPERVISORS),
    ("DELETE", T + "/{tag_name}"): (on("DELETE", "fresh_tag", T + "/{}"), SUPERVISORS),
    # Everyone may open it; what each sees is tests/integration/test_event_stream.py's.
    ("GET", STREAM): (fixed("GET", STREAM), EVERYONE),
    ("GET", H): (fixed("GET", H), SUPERVISORS),
    ("POST", H): (fixed("POST", H, WEBHOOK), SUPERVISORS),
    ("GET", H + "/{webhook_id}"): (on("GET", "fresh_webhook", H + "/{}"), SUPERVISORS),
    ("PUT", H + "/{webhook_id}"): (on("PUT", "fresh_webhook", H + "/{}", WEBHOOK), SUPERVISORS),
    ("DELETE", H + "/{webhook_id}"): (on("DELETE", "fresh_webhook", H + "/{}"), SUPERVISORS),
    ("POST", H + "/{webhook_id}/secret"): (on("POST", "fresh_webhook", H + "/{}/secret"), SUPERVISORS),
    ("GET", H + "/{webhook_id}/deliveries"): (on("GET", "fresh_webhook", H + "/{}/deliveries"), SUPERVISORS),
    ("POST", H + "/{webhook_id}/deliveries/{delivery_id}/retry"): (a_delivery, SUPERVISORS),
    ("POST", B + "/{bot_id}/webhook-secret"): (on("POST", "fresh_bot_with_webhook", B + "/{}/webhook-secret"),
                                               SUPERVISORS),
    ("GET", WH): (fixed("GET", WH), EVERYONE),
    ("POST", WH): (fixed("POST", WH, WORKING_HOURS), SUPERVISORS),
    ("GET", WH + "/{working_hours_id}"): (on("GET", "fresh_working_hours", WH + "/{}"), EVERYONE),
    ("PUT", WH + "/{working_hours_id}"): (on("PUT", "fresh_working_hours", WH + "/{}", WORKING_HOURS), SUPERVISORS),
    ("PATCH", WH + "/{working_hours_id}"): (on("PATCH", "fresh_working_hours", WH + "/{}", {"message": "x"}),
                                            SUPERVISORS),
    ("DELETE", WH + "/{working_hours_id}"): (on("DELETE", "fresh_working_hours", WH + "/{}"), SUPERVISORS),
    ("GET", WH + "/{working_hours_id}/status"): (on("GET", "fresh_working_hours", WH + "/{}/status"), EVERYONE),
    ("POST", WH + "/{working_hours_id}/holiday"): (
        on("POST", "fresh_working_hours", WH + "/{}/holiday", {"name": "New year", "startDate": "2027-01-01"}),
        SUPERVISORS),
    ("DELETE", WH + "/{working_hours_id}/holiday/{holiday_id}"): (a_holiday, SUPERVISORS),
    # SLA policies: the spec's "skills of agents, SLA policies" row: read by all, written by supervisors.
    ("GET", SLA): (fixed("GET", SLA), EVERYONE),
    ("POST", SLA): (fixed("POST", SLA, SLA_POLICY), SUPERVISORS),
    ("GET", SLA + "/{sla_policy_id}"): (on("GET", "fresh_sla_policy", SLA + "/{}"), EVERYONE),
    ("PUT", SLA + "/{sla_policy_id}"): (on("PUT", "fresh_sla_policy", SLA + "/{}", SLA_POLICY), SUPERVISORS),
    ("DELETE", SLA + "/{sla_policy_id}"): (on("DELETE", "fresh_sla_policy", SLA + "/{}"), SUPERVISORS),
}


def app_routes(stack: Stack) -> set[tuple[str, str]]:
    transport = stack.http._transport
    assert isinstance(transport, httpx.ASGITransport) and isinstance(transport.app, FastAPI)
    routes = set()
    for route in transport.app.state.api_routes:
        assert isinstance(route, APIRoute) and route.methods is not None
        routes |= {(method, route.path) for method in route.methods}
    return routes


def test_every_route_has_a_row(stack: Stack):
    routes = app_routes(stack)
    assert routes == set(ROWS), f"rows missing: {routes - set(ROWS)}; rows for no route: {set(ROWS) - routes}"
    assert routes == set(PERMISSIONS), f"permissions missing: {routes - set(PERMISSIONS)}"


@pytest.fixture
async def world(stack: Stack):
    assert (await stack.http.put("/ccaas/1/routing", json=[])).status_code == 200  # version 1
    queue_bot = (await stack.http.post("/ccaas/1/bots", json={"displayName": "serving bot"})).json()
    other_bot = (await stack.http.post("/ccaas/1/bots", json={"displayName": "other bot"})).json()
    queue = await create_queue(stack.http, unique("worked"), botId=queue_bot["id"])
    agents = {}
    for name in ("agent", "stranger agent"):
        body = {"displayName": name, "email": f"{unique('agent')}@example.com"}
        agents[name] = (await stack.http.post("/ccaas/1/agents", json=body)).json()
    member = await stack.http.post(f"/ccaas/1/agents/{agents['agent']['id']}/queues", json={"queueId": queue["id"]})
    assert member.status_code == 200, member.text
    keys = {"agent": agents["agent"]["apiKey"], "stranger agent": agents["stranger agent"]["apiKey"],
            "bot": queue_bot["apiKey"], "other bot": other_bot["apiKey"]}
    keys["supervisor"] = stack.supervisor_key
    # The stack's app, through a client that hangs up on the live stream once its head has come
    # (the stream never ends, and ASGITransport waits for the end of an answer).
    asgi = stack.http._transport
    assert isinstance(asgi, httpx.ASGITransport)
    transport = httpx.ASGITransport(app=hang_up_on_streams(asgi.app))
    clients = {
        role: httpx.AsyncClient(
            transport=transport, base_url=stack.http.base_url, headers={"Authorization": f"App {key}"},
            event_hooks=stack.http.event_hooks if role == "supervisor" else None)
        for role, key in keys.items()
    }
    yield World(stack, clients, queue, agents["agent"]["id"])
    for client in clients.values():
        await client.aclose()


@pytest.mark.parametrize("route", sorted(ROWS), ids=lambda route: f"{route[0]} {route[1]}")
async def test_each_role_gets_what_the_table_gives(world: World, route):
    build, allowed = ROWS[route]
    for role in ROLES:
        method, url, body = await build(world)
        if isinstance(body, dict) and "email" in body:
            body = {**body, "email": f"{unique('e')}@example.com"}
        if isinstance(body, dict) and set(body) in ({"name"}, {"displayName"}):
            body = {key: unique(value) for key, value in body.items()}
        response = await world.clients[role].request(method, url, json=body)
        if role in allowed:
            assert response.status_code in (200, 201, 202, 204), (role, method, url, response.text)
        else:
            assert response.status_code == 403, (role, method, url, response.text)
            assert response.json()["requestError"]["serviceException"]["messageId"] == "FORBIDDEN"


async def test_lists_show_agents_and_bots_only_the_conversations_they_may_work(world: World):
    mine = await world.fresh_conversation()
    elsewhere = (await create_conversation(world.stack.http))["id"]
    assigned_queue = await world.fresh_queue()
    assigned = (await create_conversation(world.stack.http, queueId=assigned_queue))["id"]
    response = await world.stack.http.patch(f"{C}/{assigned}", json={"agentId": world.agent_id})
    assert response.status_code == 200, response.text

    async def listed(role: str) -> set[str]:
        body = (await world.clients[role].get(C, params={"limit": 999})).json()
        return {conversation["id"] for conversation in body["conversations"]}

    assert {mine, elsewhere, assigned} <= await listed("supervisor")
    assert await listed("agent") == {mine, assigned}
    assert await listed("stranger agent") == set()
    assert await listed("bot") == {mine}
    assert await listed("other bot") == set()


async def test_a_repeated_external_id_is_no_way_around_the_read_rights(world: World):
    external_id = unique("ext")
    created = await create_conversation(world.stack.http, externalId=external_id)
    repeat = await world.clients["stranger agent"].post(C, json={"externalId": external_id})
    assert repeat.status_code == 409, repeat.text
    assert created["id"] in repeat.text and "createdAt" not in repeat.text
    mine = await world.fresh_conversation(externalId=unique("ext2"))
    row = (await world.stack.http.get(f"{C}/{mine}")).json()
    again = await world.clients["agent"].post(C, json={"externalId": row["externalId"]})
    assert again.status_code == 200 and again.json()["id"] == mine
