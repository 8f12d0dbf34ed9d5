"""Porting from Infobip: every documented list filter narrows the list as Infobip means it,
paging defaults to Infobip's, and a query parameter an endpoint does not know is a 400 naming it,
on every route of the API."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from api.permissions import PERMISSIONS
from api.query_params import API_PREFIXES, UNKNOWN
from domain.models import ActorType
from switchboard.composition import api_app
from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, put_routing, rule, unique

Q, R, C, G = "/ccaas/1/queues", "/ccaas/1/routing", "/ccaas/1/conversations", "/ccaas/1/agents"
ANY = {"$exists": {"message.channel": True}}


def infobip_time(iso: str) -> str:
    """Our `2026-03-01T10:00:00.123Z` as Infobip writes it: `2026-03-01T10:00:00.123+0000`."""
    assert iso.endswith("Z"), iso
    return iso[:-1] + "+0000"


async def ok(http: httpx.AsyncClient, path: str, params: Any = None) -> dict:
    response = await http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def ids(http: httpx.AsyncClient, path: str, items: str, params: Any = None) -> list[str]:
    return [item["id"] for item in (await ok(http, path, params))[items]]


# --- unknown query parameters, every route ---------------------------------------------------


def api_routes(app) -> list[tuple[str, str, APIRoute]]:
    return sorted(
        (method, route.path, route)
        # Every route of the API, flat (FastAPI includes routers lazily).
        for route in app.state.api_routes
        if isinstance(route, APIRoute) and route.path.startswith(API_PREFIXES)
        for method in route.methods or ()
    )


async def test_an_unknown_query_parameter_is_a_400_naming_it_on_every_route(stack: Stack):
    app = api_app(stack.settings, stack.engine, stack.temporal)
    bot = await stack.http.post("/ccaas/1/bots", json={"displayName": unique("bot")})
    assert bot.status_code == 201, bot.text
    agent = await stack.http.post("/ccaas/1/agents", json={"displayName": unique("agent")})
    assert agent.status_code == 201, agent.text
    keys = {ActorType.SUPERVISOR: stack.supervisor_key, ActorType.BOT: bot.json()["apiKey"],
            ActorType.AGENT: agent.json()["apiKey"]}
    routes = api_routes(app)
    assert len(routes) >= 40, [path for _, path, _ in routes]
    checked = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        for method, path, route in routes:
            # Someone who may call the route, so the answer is about the parameter, not the caller.
            access = PERMISSIONS[(method, path)]
            caller = next(actor for actor in (ActorType.SUPERVISOR, ActorType.BOT, ActorType.AGENT)
                          if access[actor] == "allow")  # answering an offer: agents only
            url = re.sub(r"\{[^}]+\}", "1", path)
            headers = {"Authorization": f"App {keys[caller]}"}
            response = await http.request(
                method, url, params=[("noSuchParameter", "1"), ("other", "x"), ("other", "y")],
                headers=headers, json={} if method in ("POST", "PUT", "PATCH") else None,
            )
            exception = assert_error(response, 400, "BAD_REQUEST")
            assert exception["validationErrors"] == {
                "noSuchParameter": [UNKNOWN], "other": [UNKNOWN]
            }, (method, path, exception)
            assert "noSuchParameter" in exception["text"], exception

            # Every parameter the route declares is known (its value may still be refused).
            declared = [param.alias for param in route.dependant.query_params]
            if method == "GET" and declared:
                response = await http.get(url, params={name: "1" for name in declared}, headers=headers)
                errors = (response.json().get("requestError", {}).get("serviceException", {})
                          .get("validationErrors", {})) if response.status_code == 400 else {}
                assert all(UNKNOWN not in messages for messages in errors.values()), (path, errors)
            checked.append((method, path))
    assert ("GET", Q) in checked and ("GET", "/people/2/persons") in checked


async def test_the_console_keeps_its_own_pages_for_unknown_parameters(stack: Stack):
    # Not an API route: no JSON refusal (the sign-in page, as before).
    response = await stack.http.get("/console/sign-in", params={"noSuchParameter": "1"}, headers={"Authorization": ""})
    assert response.status_code != 400 or "requestError" not in response.text


# --- queues -----------------------------------------------------------------------------------


async def test_queues_filter_by_queue_ids_repeated_and_comma_separated(stack: Stack):
    a, b, c = [await create_queue(stack.http) for _ in range(3)]
    assert await ids(stack.http, Q, "queues", [("queueIds", a["id"]), ("queueIds", c["id"])]) == [a["id"], c["id"]]
    assert await ids(stack.http, Q, "queues", {"queueIds": f"{b['id']},{c['id']}"}) == [b["id"], c["id"]]
    assert await ids(stack.http, Q, "queues", {"queueIds": "00000000-0000-0000-0000-000000000000"}) == []


async def test_queues_filter_by_working_hours_id(stack: Stack):
    hours = unique("hours")
    inside = await create_queue(stack.http, workingHoursId=hours)
    await create_queue(stack.http, workingHoursId=unique("other"))
    await create_queue(stack.http)
    body = await ok(stack.http, Q, {"workingHoursId": hours})
    assert [queue["id"] for queue in body["queues"]] == [inside["id"]]
    assert body["pagination"]["totalItems"] == 1


async def test_queues_default_to_ten_a_page_and_order_by_id(stack: Stack):
    for _ in range(11):
        await create_queue(stack.http)
    body = await ok(stack.http, Q)
    assert len(body["queues"]) == 10
    assert body["pagination"] == {"totalItems": 12, "page": 0, "limit": 10, "orderBy": "createdAt:asc"}
    everything = await ids(stack.http, Q, "queues", {"limit": 999})
    assert await ids(stack.http, Q, "queues", {"orderBy": "id:asc", "limit": 999}) == sorted(everything)
    assert await ids(stack.http, Q, "queues", {"orderBy": "id:desc", "limit": 999}) == sorted(everything, reverse=True)


# --- routing ----------------------------------------------------------------------------------


async def test_routing_filters_by_rule_ids_and_enabled_keeping_order_and_pagination(stack: Stack):
    queue = await create_queue(stack.http)
    put = await put_routing(stack.http, [
        rule("one", queue["id"], ANY),
        rule("two", queue["id"], ANY, enabled=False),
        rule("three", queue["id"], ANY),
        rule("four", queue["id"], ANY, enabled=False),
    ])
    made = {route["name"]: route["id"] for route in put["routes"]}

    enabled = await ok(stack.http, R, {"enabled": "true"})
    assert [(r["name"], r["order"]) for r in enabled["routes"]] == [("one", 1), ("three", 3)]
    assert enabled["pagination"]["totalItems"] == 2
    disabled = await ok(stack.http, R, {"enabled": "false"})
    assert [(r["name"], r["order"]) for r in disabled["routes"]] == [("two", 2), ("four", 4)]

    chosen = await ok(stack.http, R, [("ruleIds", made["four"]), ("ruleIds", f"{made['one']},{made['two']}")])
    assert [r["name"] for r in chosen["routes"]] == ["one", "two", "four"]
    assert chosen["pagination"]["totalItems"] == 3
    both = await ok(stack.http, R, {"ruleIds": f"{made['one']},{made['two']}", "enabled": "false"})
    assert [r["name"] for r in both["routes"]] == ["two"]

    paged = await ok(stack.http, R, {"enabled": "false", "page": 1, "limit": 1})
    assert [(r["name"], r["order"]) for r in paged["routes"]] == [("four", 4)]
    assert paged["pagination"] == {"totalItems": 2, "page": 1, "limit": 1, "orderBy": "order:asc"}

    whole = await ok(stack.http, R)
    assert len(whole["routes"]) == 4 and whole["pagination"]["limit"] == 999


async def test_routing_refuses_a_bad_enabled_at_its_name(stack: Stack):
    assert_error(await stack.http.get(R, params={"enabled": "perhaps"}), 400, "BAD_REQUEST", "enabled")


# --- agents -----------------------------------------------------------------------------------


async def new_agent(stack: Stack, **fields: Any) -> dict:
    body = {"displayName": unique("Agent"), "email": f"{unique('a')}@example.com", **fields}
    response = await stack.http.post(G, json=body)
    assert response.status_code == 201, response.text
    await asyncio.sleep(0.01)  # distinct times, to the millisecond
    return response.json()


async def test_agents_filter_by_every_documented_parameter(stack: Stack):
    ann = await new_agent(stack, displayName="Ann Smith", role="SUPERVISOR")
    bob = await new_agent(stack, displayName="Bob Jones", status="BUSY")
    cat = await new_agent(stack, displayName="Cat Smithers", enabled=False, email="Cat@Example.com")
    queue = await create_queue(stack.http)
    other = await create_queue(stack.http)
    for agent, member_of in ((ann, queue), (bob, other)):
        added = await stack.http.post(f"{G}/{agent['id']}/queues", json={"queueId": member_of["id"]})
        assert added.status_code == 200, added.text
    # Bob's change of status makes him the most recently updated.
    await asyncio.sleep(0.01)
    changed = await stack.http.put(f"{G}/{bob['id']}/status", json={"status": "AWAY"})
    assert changed.status_code == 200, changed.text
    bob = changed.json()
    everyone = [ann["id"], bob["id"], cat["id"]]

    async def listed(params: Any) -> list[str]:
        found = await ids(stack.http, G, "agents", params)
        return [agent_id for agent_id in found if agent_id in everyone]

    assert await listed({"agentIds": f"{ann['id']},{cat['id']}"}) == [ann["id"], cat["id"]]
    assert await listed([("agentIds", bob["id"]), ("agentIds", cat["id"])]) == [bob["id"], cat["id"]]
    assert await listed({"queueIds": queue["id"]}) == [ann["id"]]
    assert await listed({"queueIds": f"{queue['id']},{other['id']}"}) == [ann["id"], bob["id"]]
    assert await listed({"displayName": "smith"}) == [ann["id"], cat["id"]]
    assert await listed({"email": "cat@EXAMPLE.com"}) == [cat["id"]]
    assert await listed({"email": "example.com"}) == []
    assert await listed({"status": "AWAY"}) == [bob["id"]]
    assert await listed({"availability": "AWAY"}) == [bob["id"]]
    assert await listed({"availability": "ACTIVE"}) == [ann["id"], cat["id"]]
    assert await listed({"role": "SUPERVISOR"}) == [ann["id"]]
    assert await listed({"enabled": "false"}) == [cat["id"]]
    assert await listed({"createdAfter": bob["createdAt"]}) == [bob["id"], cat["id"]]
    assert await listed({"createdBefore": bob["createdAt"]}) == [ann["id"]]
    assert await listed({"updatedAfter": bob["updatedAt"]}) == [bob["id"]]
    assert await listed({"updatedBefore": bob["updatedAt"]}) == [ann["id"], cat["id"]]
    # Infobip's form of a time, offset without a colon.
    assert await listed({"createdAfter": infobip_time(cat["createdAt"])}) == [cat["id"]]
    assert await listed({"updatedBefore": infobip_time(bob["updatedAt"])}) == [ann["id"], cat["id"]]


async def test_agents_default_to_ten_a_page_and_order_by_id(stack: Stack):
    made = [(await new_agent(stack))["id"] for _ in range(11)]
    body = await ok(stack.http, G)
    assert len(body["agents"]) == 10 and body["pagination"]["limit"] == 10
    assert body["pagination"]["totalItems"] == len(made)
    everything = await ids(stack.http, G, "agents", {"limit": 999})
    assert await ids(stack.http, G, "agents", {"orderBy": "id:asc", "limit": 999}) == sorted(everything)
    assert await ids(stack.http, G, "agents", {"orderBy": "id:desc", "limit": 999}) == sorted(everything, reverse=True)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"availability": "ASLEEP"}, "availability"),
        ({"role": "BOSS"}, "role"),
        ({"createdAfter": "yesterday"}, "createdAfter"),
        ({"createdBefore": "2026-13-01T00:00:00.000+0000"}, "createdBefore"),
        ({"updatedAfter": "2026-01-01T00:00:00.000+00"}, "updatedAfter"),
        ({"updatedBefore": "soon"}, "updatedBefore"),
        ({"orderBy": "id:sideways"}, "orderBy"),
    ],
)
@pytest.mark.sqlite_only
async def test_agents_refuse_bad_filters_at_their_name(stack: Stack, params, field):
    assert_error(await stack.http.get(G, params=params), 400, "BAD_REQUEST", field)


# --- conversations ----------------------------------------------------------------------------


async def test_conversations_filter_by_updated_and_closed_times(stack: Stack):
    queue = await create_queue(stack.http)
    made = []
    for _ in range(3):
        made.append(await create_conversation(stack.http, queueId=queue["id"], topic=unique("t")))
        await asyncio.sleep(0.01)
    first, second, third = (conversation["id"] for conversation in made)

    async def close(cid: str) -> dict:
        response = await stack.http.patch(f"{C}/{cid}", json={"status": "CLOSED"})
        assert response.status_code == 200, response.text
        await asyncio.sleep(0.01)
        return response.json()

    closed_first = await close(first)
    closed_third = await close(third)
    assert closed_first["closedAt"] and closed_third["closedAt"]

    async def listed(params: dict[str, str]) -> list[str]:
        return await ids(stack.http, C, "conversations", {**params, "orderBy": "createdAt:asc", "limit": 999})

    assert await listed({"updatedAfter": closed_first["updatedAt"]}) == [first, third]
    assert await listed({"updatedAfter": closed_third["updatedAt"]}) == [third]
    assert await listed({"updatedBefore": closed_first["updatedAt"]}) == [second]
    assert await listed({"closedAfter": closed_first["closedAt"]}) == [first, third]
    assert await listed({"closedAfter": closed_third["closedAt"]}) == [third]
    assert await listed({"closedBefore": closed_third["closedAt"]}) == [first]
    # An open conversation has no closedAt: any closed bound leaves it out.
    assert second not in await listed({"closedBefore": "2999-01-01T00:00:00.000+0000"})
    # Infobip's form of a time, offset without a colon.
    assert await listed({"closedAfter": infobip_time(closed_third["closedAt"])}) == [third]
    assert await listed({"updatedBefore": infobip_time(closed_first["updatedAt"])}) == [second]
    assert await listed({"createdAfter": infobip_time(made[1]["createdAt"])}) == [second, third]


async def test_conversations_default_to_ten_a_page(stack: Stack):
    body = await ok(stack.http, C)
    assert body["pagination"]["limit"] == 10


@pytest.mark.parametrize(
    "field", ["updatedAfter", "updatedBefore", "closedAfter", "closedBefore", "createdBefore"]
)
@pytest.mark.sqlite_only
async def test_conversations_refuse_a_bad_time_at_its_name(stack: Stack, field):
    assert_error(await stack.http.get(C, params={field: "last tuesday"}), 400, "BAD_REQUEST", field)
