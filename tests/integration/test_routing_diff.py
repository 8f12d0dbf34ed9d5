"""GET /ccaas/1/routing/versions/{a}/diff/{b}: what changed between two routing versions."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.helpers import assert_error, create_queue, put_routing, rule, unique

ROUTING = "/ccaas/1/routing"
VERSIONS = "/ccaas/1/routing/versions"
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
TELEGRAM = {"$eq": {"message.channel": "TELEGRAM"}}
STRONG = {"$eq": {"conversation.authentication": "STRONG"}}
SMS = {"$eq": {"message.channel": "SMS"}}
NOTHING_CHANGED: dict[str, list[Any]] = {"added": [], "removed": [], "changed": []}


def diff_url(a: Any, b: Any) -> str:
    return f"{VERSIONS}/{a}/diff/{b}"


async def get_json(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    response = await http.get(url)
    assert response.status_code == 200, response.text
    return response.json()


async def diff(http: httpx.AsyncClient, a: Any, b: Any) -> dict[str, Any]:
    body = await get_json(http, diff_url(a, b))
    assert set(body) == {"from", "to", "added", "removed", "changed", "unchanged"}, body
    return body


def by_name(routes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {route["name"]: route for route in routes}


def keep(route: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A rule of the routing in force passed back by id, with the given fields changed."""
    body = {key: route[key] for key in ("id", "name", "queueId", "expression", "priority", "enabled",
                                        "routeOnlyDuringWorkingHours")}
    return {**body, **fields}


async def two_versions(http: httpx.AsyncClient) -> tuple[dict, dict, list[dict[str, Any]]]:
    """Version 1 [kept, moved, changed, removed] and version 2 [kept, added, changed, moved]:
    one rule each added, removed, changed in two fields (queue and priority), only moved
    (position 2 to 4), and unchanged (position 1 in both)."""
    queues = [await create_queue(http, unique(name)) for name in ("Front desk", "Bot", "VIP")]
    first = await put_routing(
        http,
        [
            rule("kept", queues[0]["id"], TELEGRAM),
            rule("moved", queues[1]["id"], STRONG, priority="URGENT"),
            rule("changed", queues[0]["id"], SMS),
            rule("removed", queues[2]["id"], TELEGRAM, enabled=False),
        ],
    )
    old = by_name(first["routes"])
    second = await put_routing(
        http,
        [
            keep(old["kept"]),
            rule("added", queues[2]["id"], SMS, routeOnlyDuringWorkingHours=True),
            keep(old["changed"], queueId=queues[1]["id"], priority="HIGH"),
            keep(old["moved"]),
        ],
    )
    assert (first["version"], second["version"]) == (1, 2)
    return first, second, queues


# --- what changed -----------------------------------------------------------------------------


async def test_added_removed_changed_moved_and_unchanged_rules_are_each_reported_exactly(stack):
    first, second, queues = await two_versions(stack.http)
    old, new = by_name(first["routes"]), by_name(second["routes"])
    body = await diff(stack.http, 1, 2)

    # Added and removed rules come whole, as GET of their version shows them.
    assert body["added"] == [new["added"]]
    assert body["added"][0]["order"] == 2 and body["added"][0]["queueName"] == queues[2]["name"]
    assert body["removed"] == [old["removed"]]
    assert body["removed"][0]["order"] == 4
    # Changed: field by field, in the order of the `to` version; a move is a change of `order`.
    assert body["changed"] == [
        {
            "id": old["changed"]["id"],
            "name": "changed",
            "changes": [
                {"field": "queueId", "from": queues[0]["id"], "to": queues[1]["id"]},
                {"field": "priority", "from": "NORMAL", "to": "HIGH"},
            ],
        },
        {
            "id": old["moved"]["id"],
            "name": "moved",
            "changes": [{"field": "order", "from": 2, "to": 4}],
        },
    ]
    # "kept" is in both versions at the same place with the same fields.
    assert new["kept"]["id"] == old["kept"]["id"]
    assert body["unchanged"] == 1
    assert (body["from"]["number"], body["to"]["number"]) == (1, 2)
    assert (body["from"]["routesCount"], body["to"]["routesCount"]) == (4, 4)


@pytest.mark.parametrize(
    ("field", "before", "after"),
    [
        pytest.param("name", "one", "one, renamed", id="name"),
        pytest.param("expression", TELEGRAM, {"$not": TELEGRAM}, id="expression"),
        pytest.param("priority", "LOW", "URGENT", id="priority"),
        pytest.param("enabled", True, False, id="enabled"),
        pytest.param("routeOnlyDuringWorkingHours", False, True, id="routeOnlyDuringWorkingHours"),
        pytest.param("queueId", 0, 1, id="queueId"),
    ],
)
async def test_each_compared_field_is_reported_with_its_old_and_new_value(stack, field, before, after):
    queues = [await create_queue(stack.http), await create_queue(stack.http)]
    if field == "queueId":
        before, after = queues[before]["id"], queues[after]["id"]
    first = await put_routing(stack.http, [{**rule("one", queues[0]["id"], TELEGRAM), field: before}])
    route = first["routes"][0]
    await put_routing(stack.http, [keep(route, **{field: after})])
    body = await diff(stack.http, 1, 2)
    assert body["changed"] == [
        {
            "id": route["id"],
            "name": after if field == "name" else "one",
            "changes": [{"field": field, "from": before, "to": after}],
        }
    ]
    assert (body["added"], body["removed"], body["unchanged"]) == ([], [], 0)


async def test_an_expression_value_of_another_json_type_is_a_change(stack):
    # 1 and true are equal in Python; they are not the same routing.
    queue = await create_queue(stack.http)
    vip = "customer.customAttributes.vip"
    first = await put_routing(stack.http, [rule("vip", queue["id"], {"$eq": {vip: True}})])
    await put_routing(stack.http, [keep(first["routes"][0], expression={"$eq": {vip: 1}})])
    body = await diff(stack.http, 1, 2)
    assert body["changed"] == [
        {
            "id": first["routes"][0]["id"],
            "name": "vip",
            "changes": [{"field": "expression", "from": {"$eq": {vip: True}}, "to": {"$eq": {vip: 1}}}],
        }
    ]


async def test_rules_are_matched_by_id_so_one_put_back_without_its_id_is_removed_and_added(stack):
    queue = await create_queue(stack.http)
    first = await put_routing(stack.http, [rule("same", queue["id"], TELEGRAM)])
    second = await put_routing(stack.http, [rule("same", queue["id"], TELEGRAM)])
    body = await diff(stack.http, 1, 2)
    assert body["removed"] == first["routes"]
    assert body["added"] == second["routes"]
    assert (body["changed"], body["unchanged"]) == ([], 0)


# --- edges: itself, version 0, reversed ------------------------------------------------------


async def test_a_version_diffed_with_itself_is_empty(stack):
    first, _, _ = await two_versions(stack.http)
    body = await diff(stack.http, 1, 1)
    assert {key: body[key] for key in NOTHING_CHANGED} == NOTHING_CHANGED
    assert body["unchanged"] == len(first["routes"]) == 4
    assert body["from"] == body["to"]
    assert body["from"]["number"] == 1


async def test_version_0_diffed_with_itself_is_empty_even_on_a_fresh_install(stack):
    body = await diff(stack.http, 0, 0)
    assert body == {
        "from": {"number": 0, "author": None, "createdAt": None, "routesCount": 0},
        "to": {"number": 0, "author": None, "createdAt": None, "routesCount": 0},
        **NOTHING_CHANGED,
        "unchanged": 0,
    }


async def test_from_version_0_every_rule_is_added(stack):
    first, second, _ = await two_versions(stack.http)
    for number, version in ((1, first), (2, second)):
        body = await diff(stack.http, 0, number)
        assert body["added"] == version["routes"]
        assert (body["removed"], body["changed"], body["unchanged"]) == ([], [], 0)
        assert body["from"] == {"number": 0, "author": None, "createdAt": None, "routesCount": 0}
        assert body["to"]["number"] == number


async def test_to_version_0_every_rule_is_removed(stack):
    first, second, _ = await two_versions(stack.http)
    for number, version in ((1, first), (2, second)):
        body = await diff(stack.http, number, 0)
        assert body["removed"] == version["routes"]
        assert (body["added"], body["changed"], body["unchanged"]) == ([], [], 0)
        assert body["to"] == {"number": 0, "author": None, "createdAt": None, "routesCount": 0}
        assert body["from"]["number"] == number


async def test_an_emptied_routing_diffs_like_version_0(stack):
    first, _, _ = await two_versions(stack.http)
    response = await stack.http.delete(ROUTING)
    assert response.status_code == 200 and response.json()["version"] == 3
    body = await diff(stack.http, 1, 3)
    assert body["removed"] == first["routes"]
    assert (body["added"], body["changed"], body["unchanged"]) == ([], [], 0)
    assert body["to"]["routesCount"] == 0 and body["to"]["author"] is not None


async def test_the_reversed_diff_swaps_added_and_removed_and_each_from_and_to(stack):
    await two_versions(stack.http)
    forward = await diff(stack.http, 1, 2)
    backward = await diff(stack.http, 2, 1)
    assert (backward["from"], backward["to"]) == (forward["to"], forward["from"])
    assert backward["added"] == forward["removed"]
    assert backward["removed"] == forward["added"]
    assert backward["unchanged"] == forward["unchanged"] == 1
    # The same rules changed, each change with its values swapped; listed in the order of
    # the `to` version, here version 1: moved (position 2) before changed (position 3).
    swapped = [
        {
            **entry,
            "changes": [{"field": c["field"], "from": c["to"], "to": c["from"]} for c in entry["changes"]],
        }
        for entry in forward["changed"]
    ]
    assert backward["changed"] == swapped[::-1]
    assert [entry["name"] for entry in backward["changed"]] == ["moved", "changed"]


async def test_a_reversed_rename_names_the_rule_as_the_to_version_has_it(stack):
    queue = await create_queue(stack.http)
    first = await put_routing(stack.http, [rule("old name", queue["id"], TELEGRAM)])
    await put_routing(stack.http, [keep(first["routes"][0], name="new name")])
    assert [entry["name"] for entry in (await diff(stack.http, 1, 2))["changed"]] == ["new name"]
    assert [entry["name"] for entry in (await diff(stack.http, 2, 1))["changed"]] == ["old name"]


# --- who and when -----------------------------------------------------------------------------


async def test_each_side_names_its_author_and_time(stack):
    queue = await create_queue(stack.http)
    await put_routing(stack.http, [rule("by the bootstrap supervisor", queue["id"], TELEGRAM)])
    response = await stack.http.post(
        "/ccaas/1/agents",
        json={"displayName": "Sue Pervisor", "email": f"{unique('sue')}@example.com", "role": "SUPERVISOR"},
    )
    assert response.status_code == 201, response.text
    sue = response.json()
    async with httpx.AsyncClient(
        transport=stack.http._transport,
        base_url=stack.http.base_url,
        headers={"Authorization": f"App {sue['apiKey']}"},
    ) as as_sue:
        second = await put_routing(as_sue, [rule("by Sue", queue["id"], SMS)])
    assert second["version"] == 2
    one = await get_json(stack.http, f"{VERSIONS}/1")
    two = await get_json(stack.http, f"{VERSIONS}/2")

    body = await diff(stack.http, 1, 2)
    assert body["from"] == {"number": 1, "author": one["author"], "createdAt": one["createdAt"], "routesCount": 1}
    assert body["to"] == {"number": 2, "author": two["author"], "createdAt": two["createdAt"], "routesCount": 1}
    assert body["to"]["author"] == {"type": "SUPERVISOR", "id": sue["id"], "name": "Sue Pervisor"}
    assert body["from"]["author"]["type"] == "SUPERVISOR"
    assert body["from"]["author"]["name"] == "bootstrap supervisor"
    assert body["from"]["author"]["id"] not in (None, sue["id"])
    assert TIME.match(body["from"]["createdAt"]) and TIME.match(body["to"]["createdAt"]), body
    assert body["from"]["createdAt"] <= body["to"]["createdAt"]


async def test_every_role_may_read_a_diff(stack):
    queue = await create_queue(stack.http)
    await put_routing(stack.http, [rule("r", queue["id"], TELEGRAM)])
    bot = (await stack.http.post("/ccaas/1/bots", json={"displayName": unique("bot")})).json()
    agent = (
        await stack.http.post("/ccaas/1/agents", json={"displayName": "Ann", "email": f"{unique('a')}@example.com"})
    ).json()
    expected = await diff(stack.http, 0, 1)
    for key in (bot["apiKey"], agent["apiKey"]):
        async with httpx.AsyncClient(
            transport=stack.http._transport, base_url=stack.http.base_url, headers={"Authorization": f"App {key}"}
        ) as client:
            assert await get_json(client, diff_url(0, 1)) == expected


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "text"),
    [
        pytest.param(3, 1, "Routing version 3 not found", id="a unknown"),
        pytest.param(1, 3, "Routing version 3 not found", id="b unknown"),
        pytest.param(3, 3, "Routing version 3 not found", id="both, the same"),
        pytest.param(4, 3, "Routing versions 4 and 3 not found", id="both"),
        pytest.param(0, 2**31 - 1, "Routing version 2147483647 not found", id="largest number"),
    ],
)
async def test_an_unknown_version_is_404(stack, a, b, text):
    queue = await create_queue(stack.http)
    await put_routing(stack.http, [rule("r", queue["id"], TELEGRAM)])
    await put_routing(stack.http, [rule("s", queue["id"], TELEGRAM)])
    exception = assert_error(await stack.http.get(diff_url(a, b)), 404, "NOT_FOUND")
    assert exception["text"] == text


@pytest.mark.parametrize(
    ("a", "b", "field"),
    [
        pytest.param("-1", "1", "a", id="a negative"),
        pytest.param("x", "1", "a", id="a not a number"),
        pytest.param("1.5", "1", "a", id="a not an integer"),
        pytest.param(str(2**31), "1", "a", id="a beyond the range"),
        pytest.param("1", "-1", "b", id="b negative"),
        pytest.param("1", "x", "b", id="b not a number"),
        pytest.param("1", str(2**63), "b", id="b beyond the range"),
    ],
)
@pytest.mark.sqlite_only
async def test_a_version_that_is_not_a_version_number_is_400_at_its_parameter(stack, a, b, field):
    queue = await create_queue(stack.http)
    await put_routing(stack.http, [rule("r", queue["id"], TELEGRAM)])
    exception = assert_error(await stack.http.get(diff_url(a, b)), 400, "BAD_REQUEST", field)
    assert set(exception["validationErrors"]) == {field}


async def test_both_bad_parameters_are_reported_at_once(stack):
    exception = assert_error(await stack.http.get(diff_url("-1", "x")), 400, "BAD_REQUEST")
    assert set(exception["validationErrors"]) == {"a", "b"}
