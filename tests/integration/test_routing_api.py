"""Routing over HTTP: /ccaas/1/routing, its versions and its settings."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import assert_error, create_queue, rule, unique
from tests.helpers import put_routing as put_routing_answer

ROUTING = "/ccaas/1/routing"
VERSIONS = "/ccaas/1/routing/versions"
SETTINGS = "/ccaas/1/routing/settings"
QUEUES = "/ccaas/1/queues"
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
TELEGRAM = {"$eq": {"message.channel": "TELEGRAM"}}
STRONG = {"$eq": {"conversation.authentication": "STRONG"}}
SPAIN = {
    "$and": [{"$eq": {"message.channel": "WHATSAPP"}}, {"$in": {"customer.country": ["Croatia", "Spain"]}}]
}


async def put_routing(http, rules: list[dict[str, Any]]) -> dict[str, Any]:
    """The PUT answers the routing as GET shows it, with Infobip's statusCode and message."""
    body = await put_routing_answer(http, rules)
    assert body.pop("statusCode") == "SUCCESS" and body.pop("message") == "Routing saved"
    return body


async def get_json(http, url: str, **params: Any) -> dict[str, Any]:
    response = await http.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def settings(http) -> dict[str, Any]:
    return await get_json(http, SETTINGS)


async def three_queues(http) -> list[dict[str, Any]]:
    return [await create_queue(http, unique(name)) for name in ("Front desk", "Bot", "Authenticated")]


def three_rules(queues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        rule("telegram", queues[0]["id"], TELEGRAM),
        rule("strong", queues[2]["id"], STRONG, priority="HIGH", routeOnlyDuringWorkingHours=True),
        rule("spain", queues[1]["id"], SPAIN, enabled=False),
    ]


# --- GET and PUT ------------------------------------------------------------------------------


async def test_fresh_install_has_no_routes_and_version_0(stack):
    body = await get_json(stack.http, ROUTING)
    assert body["routes"] == []
    assert body["version"] == 0
    assert body["pagination"]["totalItems"] == 0
    versions = await get_json(stack.http, VERSIONS)
    assert versions["versions"] == []
    assert versions["pagination"]["totalItems"] == 0


async def test_put_replaces_the_routing_and_get_returns_it(stack):
    queues = await three_queues(stack.http)
    response = await stack.http.put(
        ROUTING,
        json=[
            rule("telegram", queues[0]["id"], TELEGRAM),
            rule("strong", queues[2]["id"], STRONG, priority="HIGH", routeOnlyDuringWorkingHours=True),
            rule("spain", queues[1]["id"], SPAIN, enabled=False),
        ],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 1
    routes = body["routes"]
    assert [r["order"] for r in routes] == [1, 2, 3]
    assert [r["name"] for r in routes] == ["telegram", "strong", "spain"]
    assert [r["queueId"] for r in routes] == [queues[0]["id"], queues[2]["id"], queues[1]["id"]]
    assert [r["queueName"] for r in routes] == [queues[0]["name"], queues[2]["name"], queues[1]["name"]]
    assert [r["expression"] for r in routes] == [TELEGRAM, STRONG, SPAIN]
    # Defaults, and what was given.
    assert routes[0]["priority"] == "NORMAL"
    assert routes[0]["enabled"] is True
    assert routes[0]["routeOnlyDuringWorkingHours"] is False
    assert routes[1]["priority"] == "HIGH"
    assert routes[1]["routeOnlyDuringWorkingHours"] is True
    assert routes[2]["enabled"] is False
    assert len({r["id"] for r in routes}) == 3
    for route in routes:
        assert re.fullmatch(r"[0-9a-f-]{36}", route["id"]), route
        assert TIME.match(route["createdAt"]) and TIME.match(route["updatedAt"]), route
        assert not [key for key in route if "_" in key], route
    assert body["pagination"]["totalItems"] == 3

    assert (body.pop("statusCode"), body.pop("message")) == ("SUCCESS", "Routing saved")
    assert await get_json(stack.http, ROUTING) == body


async def test_put_of_an_empty_list_empties_the_routing_as_a_new_version(stack):
    queues = await three_queues(stack.http)
    await put_routing(stack.http, three_rules(queues))
    body = await put_routing(stack.http, [])
    assert body["routes"] == [] and body["version"] == 2


async def test_every_put_and_delete_makes_a_version(stack):
    queues = await three_queues(stack.http)
    first = await put_routing(stack.http, three_rules(queues))
    second = await put_routing(stack.http, [rule("only", queues[1]["id"], TELEGRAM)])
    assert (first["version"], second["version"]) == (1, 2)

    response = await stack.http.delete(ROUTING)
    assert response.status_code == 200, response.text
    deleted = response.json()
    assert deleted["routes"] == [] and deleted["version"] == 3
    assert (deleted.pop("statusCode"), deleted.pop("message")) == ("SUCCESS", "Routing deleted")
    assert await get_json(stack.http, ROUTING) == deleted

    versions = await get_json(stack.http, VERSIONS)
    assert [v["number"] for v in versions["versions"]] == [3, 2, 1]
    assert [v["routesCount"] for v in versions["versions"]] == [0, 1, 3]
    assert versions["pagination"] == {"totalItems": 3, "page": 0, "limit": 20, "orderBy": "number:desc"}
    for version in versions["versions"]:
        assert version["author"]["type"] == "SUPERVISOR"
        assert version["author"]["name"]
        assert TIME.match(version["createdAt"]), version
    assert versions["versions"][0]["createdAt"] >= versions["versions"][2]["createdAt"]

    # Each version keeps its rules, whatever came after.
    one = await get_json(stack.http, f"{VERSIONS}/1")
    assert one["number"] == 1 and one["routesCount"] == 3
    assert one["routes"] == first["routes"]
    two = await get_json(stack.http, f"{VERSIONS}/2")
    assert two["routes"] == second["routes"]
    assert (await get_json(stack.http, f"{VERSIONS}/3"))["routes"] == []


async def test_versions_list_pages_and_orders(stack):
    queue = await create_queue(stack.http)
    for index in range(4):
        await put_routing(stack.http, [rule(f"r{index}", queue["id"], TELEGRAM)])
    body = await get_json(stack.http, VERSIONS, limit=2, page=1)
    assert [v["number"] for v in body["versions"]] == [2, 1]
    body = await get_json(stack.http, VERSIONS, orderBy="number:asc", limit=3)
    assert [v["number"] for v in body["versions"]] == [1, 2, 3]
    assert body["pagination"] == {"totalItems": 4, "page": 0, "limit": 3, "orderBy": "number:asc"}


@pytest.mark.parametrize("number", ["0", "2"])
async def test_unknown_version_is_404(stack, number):
    queue = await create_queue(stack.http)
    await put_routing(stack.http, [rule("r", queue["id"], TELEGRAM)])
    assert_error(await stack.http.get(f"{VERSIONS}/{number}"), 404, "NOT_FOUND")


@pytest.mark.parametrize("number", ["latest", "-1", "1.5"])
@pytest.mark.sqlite_only
async def test_version_that_is_not_a_version_number_is_400(stack, number):
    assert_error(await stack.http.get(f"{VERSIONS}/{number}"), 400, "BAD_REQUEST", "number")


# Versions are numbered 0 to 2**31 - 1 (the database's integer), as the OpenAPI document says:
# a number beyond is no version number, refused at its parameter as the diff's are.
@pytest.mark.parametrize("number", [str(2**31), str(2**63), "99999999999999999999999"])
async def test_version_number_beyond_the_database_range_is_400(stack, number):
    exception = assert_error(await stack.http.get(f"{VERSIONS}/{number}"), 400, "BAD_REQUEST", "number")
    assert set(exception["validationErrors"]) == {"number"}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"page": -1}, "page"), ({"orderBy": "name:asc"}, "orderBy")],
)
@pytest.mark.sqlite_only
async def test_versions_list_refuses_bad_paging(stack, params, field):
    assert_error(await stack.http.get(VERSIONS, params=params), 400, "BAD_REQUEST", field)


# --- rule identity ----------------------------------------------------------------------------


async def test_passing_a_rule_id_back_keeps_its_identity(stack):
    queues = await three_queues(stack.http)
    first = (await put_routing(stack.http, three_rules(queues)))["routes"]

    kept = {**rule("telegram", queues[0]["id"], TELEGRAM), "id": first[0]["id"]}
    changed = {**rule("strong, renamed", queues[2]["id"], STRONG, priority="URGENT"), "id": first[1]["id"]}
    fresh = rule("new", queues[1]["id"], TELEGRAM)
    body = await put_routing(stack.http, [changed, fresh, kept])
    routes = body["routes"]

    assert [r["id"] for r in routes][0::2] == [first[1]["id"], first[0]["id"]]
    assert routes[1]["id"] not in {r["id"] for r in first}
    assert [r["order"] for r in routes] == [1, 2, 3]
    # Identity survives: createdAt is kept; updatedAt moves only for a rule that changed.
    assert routes[2]["createdAt"] == first[0]["createdAt"]
    assert routes[2]["updatedAt"] == first[0]["updatedAt"]
    assert routes[0]["createdAt"] == first[1]["createdAt"]
    assert routes[0]["updatedAt"] >= first[1]["updatedAt"]
    assert routes[0]["name"] == "strong, renamed" and routes[0]["priority"] == "URGENT"


async def test_a_rule_left_out_loses_its_id_for_good(stack):
    queue = await create_queue(stack.http)
    first = (await put_routing(stack.http, [rule("a", queue["id"], TELEGRAM)]))["routes"][0]
    await put_routing(stack.http, [rule("b", queue["id"], TELEGRAM)])
    before = await get_json(stack.http, ROUTING)
    response = await stack.http.put(ROUTING, json=[{**rule("a", queue["id"], TELEGRAM), "id": first["id"]}])
    assert_error(response, 400, "BAD_REQUEST", "[0].id")
    assert await get_json(stack.http, ROUTING) == before


# --- refusals ---------------------------------------------------------------------------------


def _deep(levels: int) -> dict[str, Any]:
    tree: dict[str, Any] = TELEGRAM
    for _ in range(levels):
        tree = {"$not": tree}
    return tree


Mutation = Callable[[list[dict[str, Any]], dict[str, Any]], None]


def _set(index: int, **fields: Any) -> Mutation:
    def mutate(rules: list[dict[str, Any]], _: dict[str, Any]) -> None:
        rules[index].update(fields)

    return mutate


def _drop(index: int, field: str) -> Mutation:
    return lambda rules, _: rules[index].pop(field)


def _deleted_queue(index: int) -> Mutation:
    def mutate(rules: list[dict[str, Any]], context: dict[str, Any]) -> None:
        rules[index]["queueId"] = context["deleted"]

    return mutate


def _reuse_id(index: int, of: int) -> Mutation:
    def mutate(rules: list[dict[str, Any]], context: dict[str, Any]) -> None:
        rules[index]["id"] = context["ids"][of]

    return mutate


def _both(*mutations: Mutation) -> Mutation:
    def mutate(rules: list[dict[str, Any]], context: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(rules, context)

    return mutate


def _many(count: int) -> Mutation:
    def mutate(rules: list[dict[str, Any]], _: dict[str, Any]) -> None:
        rules[:] = [dict(rules[0], name=f"r{i}") for i in range(count)]

    return mutate


AND_WITH_BAD_OPERAND = {"$and": [TELEGRAM, {"$like": {"message.channel": "TELE%"}}]}

REFUSALS = [
    pytest.param(_set(1, queueId="00000000-0000-0000-0000-000000000000"), "[1].queueId", id="unknown queue"),
    pytest.param(_deleted_queue(1), "[1].queueId", id="deleted queue"),
    pytest.param(_drop(0, "expression"), "[0].expression", id="missing expression"),
    pytest.param(_set(0, expression=None), "[0].expression", id="null expression"),
    pytest.param(_set(0, expression="message.channel == 'SMS'"), "[0].expression", id="string expression"),
    pytest.param(_set(2, expression=AND_WITH_BAD_OPERAND), "[2].expression.$and[1]", id="unknown operator"),
    pytest.param(
        _set(0, expression={"$eq": {"message.chanel": "SMS"}}), "[0].expression.$eq", id="unknown attribute"
    ),
    pytest.param(
        _set(1, expression={"$eq": {"conversation.priority": "URGNT"}}), "[1].expression.$eq", id="enum typo"
    ),
    pytest.param(
        _set(0, expression={"$in": {"customer.country": "Spain"}}), "[0].expression.$in", id="in needs a list"
    ),
    pytest.param(
        _set(0, expression=_deep(12)), "[0].expression" + ".$not" * 12, id="too deep"
    ),
    pytest.param(_many(1000), "body", id="1000 rules"),
    pytest.param(_set(0, queueID="x"), "[0].queueID", id="unknown field"),
    # An answer's field sent back is ignored (test_infobip_shapes), but a time must be a time.
    pytest.param(_set(0, createdAt="yesterday"), "[0].createdAt", id="output field not a time"),
    pytest.param(_set(1, name=""), "[1].name", id="empty name"),
    pytest.param(_drop(2, "queueId"), "[2].queueId", id="missing queueId"),
    pytest.param(_set(0, priority="URGNT"), "[0].priority", id="priority typo"),
    pytest.param(_set(0, enabled="maybe"), "[0].enabled", id="enabled not a boolean"),
    pytest.param(_set(1, id="00000000-0000-0000-0000-000000000000"), "[1].id", id="unknown rule id"),
    pytest.param(_both(_reuse_id(0, 0), _reuse_id(2, 0)), "[2].id", id="same id twice"),
]


@pytest.mark.parametrize(("mutate", "field"), REFUSALS)
@pytest.mark.sqlite_only
async def test_bad_put_is_refused_and_the_routing_in_force_is_unchanged(stack, mutate, field):
    queues = await three_queues(stack.http)
    current = await put_routing(stack.http, three_rules(queues))
    deleted = await create_queue(stack.http)
    assert (await stack.http.delete(f"{QUEUES}/{deleted['id']}")).status_code == 200
    context = {"deleted": deleted["id"], "ids": [r["id"] for r in current["routes"]]}

    rules = three_rules(queues)
    mutate(rules, context)
    response = await stack.http.put(ROUTING, json=rules)
    assert_error(response, 400, "BAD_REQUEST", field)

    assert await get_json(stack.http, ROUTING) == current
    versions = await get_json(stack.http, VERSIONS)
    assert [v["number"] for v in versions["versions"]] == [1]


async def test_all_rule_errors_are_reported_at_once(stack):
    queues = await three_queues(stack.http)
    current = await put_routing(stack.http, three_rules(queues))
    response = await stack.http.put(
        ROUTING,
        json=[
            rule("typo", queues[0]["id"], {"$eq": {"conversation.priority": "URGNT"}}),
            rule("nowhere", "00000000-0000-0000-0000-000000000000", {"$eq": {"customer.shoeSize": 42}}),
            rule("operator", queues[1]["id"], AND_WITH_BAD_OPERAND),
            rule("deep", queues[2]["id"], _deep(13)),
        ],
    )
    exception = assert_error(response, 400, "BAD_REQUEST")
    keys = set(exception["validationErrors"])
    assert {
        "[0].expression.$eq",
        "[1].queueId",
        "[1].expression.$eq",
        "[2].expression.$and[1]",
    } <= keys, keys
    assert any(key.startswith("[3].expression.$not") for key in keys), keys
    assert await get_json(stack.http, ROUTING) == current


async def test_schema_errors_of_several_rules_are_reported_at_once(stack):
    queues = await three_queues(stack.http)
    current = await put_routing(stack.http, three_rules(queues))
    rules = three_rules(queues)
    del rules[0]["expression"]
    rules[1]["priority"] = "URGNT"
    rules[2]["colour"] = "red"
    exception = assert_error(await stack.http.put(ROUTING, json=rules), 400, "BAD_REQUEST")
    assert {"[0].expression", "[1].priority", "[2].colour"} <= set(exception["validationErrors"])
    assert await get_json(stack.http, ROUTING) == current


async def test_schema_and_semantic_errors_are_reported_together(stack):
    queues = await three_queues(stack.http)
    current = await put_routing(stack.http, three_rules(queues))
    rules = three_rules(queues)
    del rules[0]["expression"]  # schema error
    rules[1]["queueId"] = "00000000-0000-0000-0000-000000000000"  # semantic error
    rules[2]["expression"] = AND_WITH_BAD_OPERAND  # expression error
    exception = assert_error(await stack.http.put(ROUTING, json=rules), 400, "BAD_REQUEST")
    assert await get_json(stack.http, ROUTING) == current
    assert {"[0].expression", "[1].queueId", "[2].expression.$and[1]"} <= set(
        exception["validationErrors"]
    ), exception


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"name": "x"}, id="object"),
        pytest.param("rules", id="string"),
        pytest.param(None, id="null"),
    ],
)
@pytest.mark.sqlite_only
async def test_put_needs_a_json_array(stack, body):
    queues = await three_queues(stack.http)
    current = await put_routing(stack.http, three_rules(queues))
    assert_error(await stack.http.put(ROUTING, json=body), 400, "BAD_REQUEST", "body")
    assert await get_json(stack.http, ROUTING) == current


async def test_the_largest_routing_is_accepted_and_readable_in_pages(stack):
    queue = await create_queue(stack.http)
    rules = [rule(f"r{i}", queue["id"], TELEGRAM) for i in range(1, 1000)]
    response = await stack.http.put(ROUTING, json=rules)
    assert response.status_code == 200, response.text
    assert response.json()["pagination"]["totalItems"] == 999
    first = await get_json(stack.http, ROUTING, limit=500, page=0)
    second = await get_json(stack.http, ROUTING, limit=500, page=1)
    routes = first["routes"] + second["routes"]
    assert [r["order"] for r in routes] == list(range(1, 1000))
    assert [r["name"] for r in routes] == [f"r{i}" for i in range(1, 1000)]
    version = await get_json(stack.http, f"{VERSIONS}/1")
    assert version["routesCount"] == 999 and len(version["routes"]) == 999
    assert (await get_json(stack.http, f"{QUEUES}/{queue['id']}"))["enabledRoutesCount"] == 999


async def test_the_largest_routing_comes_back_whole(stack):
    queue = await create_queue(stack.http)
    body = await put_routing(stack.http, [rule(f"r{i}", queue["id"], TELEGRAM) for i in range(1, 1000)])
    assert len(body["routes"]) == 999, body["pagination"]
    assert len((await get_json(stack.http, ROUTING))["routes"]) == 999


async def test_queue_names_follow_renames(stack):
    queue = await create_queue(stack.http)
    await put_routing(stack.http, [rule("r", queue["id"], TELEGRAM)])
    new_name = unique("renamed")
    assert (await stack.http.put(f"{QUEUES}/{queue['id']}", json={"name": new_name})).status_code == 200
    assert (await get_json(stack.http, ROUTING))["routes"][0]["queueName"] == new_name


# --- paging of GET /routing -------------------------------------------------------------------


async def test_get_routing_pages_keep_the_global_order(stack):
    queue = await create_queue(stack.http)
    await put_routing(stack.http, [rule(f"r{i}", queue["id"], TELEGRAM) for i in range(1, 6)])
    body = await get_json(stack.http, ROUTING, limit=2, page=1)
    assert [r["order"] for r in body["routes"]] == [3, 4]
    assert [r["name"] for r in body["routes"]] == ["r3", "r4"]
    assert body["pagination"] == {"totalItems": 5, "page": 1, "limit": 2, "orderBy": "order:asc"}
    assert body["version"] == 1
    last = await get_json(stack.http, ROUTING, limit=2, page=2)
    assert [r["order"] for r in last["routes"]] == [5]


@pytest.mark.parametrize(
    ("params", "field"), [({"limit": 0}, "limit"), ({"limit": 1000}, "limit"), ({"page": -1}, "page")]
)
async def test_get_routing_refuses_bad_paging(stack, params, field):
    assert_error(await stack.http.get(ROUTING, params=params), 400, "BAD_REQUEST", field)


# --- concurrency ------------------------------------------------------------------------------


async def test_concurrent_puts_make_contiguous_versions(stack):
    queue = await create_queue(stack.http)
    responses = await asyncio.gather(
        *[stack.http.put(ROUTING, json=[rule(f"r{i}", queue["id"], TELEGRAM)]) for i in range(6)]
    )
    winners = [r for r in responses if r.status_code == 200]
    for response in responses:
        if response.status_code != 200:
            assert_error(response, 409, "CONFLICT")
    assert winners
    numbers = sorted(r.json()["version"] for r in winners)
    assert numbers == list(range(1, len(winners) + 1))
    versions = await get_json(stack.http, VERSIONS)
    assert versions["pagination"]["totalItems"] == len(winners)


# --- settings ---------------------------------------------------------------------------------


async def test_settings_name_the_bootstrap_default_queue(stack):
    body = await settings(stack.http)
    assert body["defaultQueueName"] == "Default"
    assert TIME.match(body["updatedAt"])
    queue = await get_json(stack.http, f"{QUEUES}/{body['defaultQueueId']}")
    assert queue["name"] == "Default"


async def test_settings_put_moves_the_default_queue(stack):
    before = await settings(stack.http)
    queue = await create_queue(stack.http)
    response = await stack.http.put(SETTINGS, json={"defaultQueueId": queue["id"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["defaultQueueId"] == queue["id"]
    assert body["defaultQueueName"] == queue["name"]
    assert body["updatedAt"] >= before["updatedAt"]
    assert await settings(stack.http) == body
    # Settings are not routing: no version is made.
    assert (await get_json(stack.http, ROUTING))["version"] == 0


@pytest.mark.parametrize(
    ("make_body", "field"),
    [
        pytest.param(
            lambda ids: {"defaultQueueId": "00000000-0000-0000-0000-000000000000"}, "defaultQueueId", id="unknown"
        ),
        pytest.param(lambda ids: {"defaultQueueId": ids["deleted"]}, "defaultQueueId", id="deleted"),
        pytest.param(lambda ids: {"defaultQueueId": None}, "defaultQueueId", id="null"),
        pytest.param(lambda ids: {}, "defaultQueueId", id="missing"),
        pytest.param(
            # defaultQueueName and updatedAt are the answer's: sent back, they are ignored.
            lambda ids: {"defaultQueueId": ids["live"], "defaultQueueName": "x", "colour": "red"},
            "colour",
            id="unknown field",
        ),
    ],
)
@pytest.mark.sqlite_only
async def test_settings_put_refusals_change_nothing(stack, make_body, field):
    live = await create_queue(stack.http)
    deleted = await create_queue(stack.http)
    assert (await stack.http.delete(f"{QUEUES}/{deleted['id']}")).status_code == 200
    before = await settings(stack.http)
    response = await stack.http.put(SETTINGS, json=make_body({"live": live["id"], "deleted": deleted["id"]}))
    assert_error(response, 400, "BAD_REQUEST", field)
    assert await settings(stack.http) == before

