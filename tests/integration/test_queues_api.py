"""Queues over HTTP: /ccaas/1/queues against the real API, worker and database."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import assert_error, create_conversation, create_queue, put_routing, rule, unique

QUEUES = "/ccaas/1/queues"
SETTINGS = "/ccaas/1/routing/settings"
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
QUEUE_FIELDS = {
    "id", "name", "externalId", "isAutoAssignmentEnabled", "autoAssignmentAlgorithm",
    "workingHoursId", "stickyAgentTimeoutDays", "isStickyAutoAssignmentEnabled", "createdAt",
    "updatedAt", "deletedAt", "enabledAgentsCount", "enabledRoutesCount", "botId",
    "botTimeoutSeconds",
}
ANY_CHANNEL = {"$exists": {"message.channel": True}}


def parse_time(value: str) -> datetime:
    assert TIME.match(value), value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


async def get_queue(http, queue_id: str) -> dict[str, Any]:
    response = await http.get(f"{QUEUES}/{queue_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def live_queues(http, **params: Any) -> dict[str, Any]:
    response = await http.get(QUEUES, params={"limit": 999, **params})
    assert response.status_code == 200, response.text
    return response.json()


async def live_names(http) -> list[str]:
    return sorted(queue["name"] for queue in (await live_queues(http))["queues"])


async def default_queue_id(http) -> str:
    response = await http.get(SETTINGS)
    assert response.status_code == 200, response.text
    return response.json()["defaultQueueId"]


# --- create, read, list ---------------------------------------------------------------------


async def test_create_returns_every_field_in_camel_case_with_defaults(stack):
    name = unique("Front desk")
    before = datetime.now(UTC)
    response = await stack.http.post(QUEUES, json={"name": name})
    assert response.status_code == 201, response.text
    queue = response.json()

    assert set(queue) >= QUEUE_FIELDS, set(queue) ^ QUEUE_FIELDS
    assert not [key for key in queue if "_" in key], queue
    assert queue["name"] == name
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", queue["id"])
    assert queue["botTimeoutSeconds"] == 600
    assert queue["botId"] is None
    assert queue["enabledRoutesCount"] == 0
    assert queue["enabledAgentsCount"] == 0
    assert queue["deletedAt"] is None
    assert queue["externalId"] is None
    assert queue["isAutoAssignmentEnabled"] is False
    assert queue["isStickyAutoAssignmentEnabled"] is False
    assert queue["autoAssignmentAlgorithm"] is None
    assert queue["workingHoursId"] is None
    assert queue["stickyAgentTimeoutDays"] is None
    assert (queue["serviceLevelTargetSeconds"], queue["serviceLevelTargetPercent"]) == (60, 80)
    created = parse_time(queue["createdAt"])
    # UTC, not the server's local time: within a minute of our own UTC clock.
    assert before - timedelta(minutes=1) <= created <= datetime.now(UTC) + timedelta(minutes=1)
    assert queue["updatedAt"] == queue["createdAt"]

    assert await get_queue(stack.http, queue["id"]) == queue


async def test_create_keeps_every_optional_field(stack):
    fields = {
        "name": unique("full"),
        "externalId": unique("ext"),
        "isAutoAssignmentEnabled": True,
        "autoAssignmentAlgorithm": "ROUND_ROBIN",
        "workingHoursId": unique("wh"),
        "stickyAgentTimeoutDays": 7,
        "isStickyAutoAssignmentEnabled": True,
        "botTimeoutSeconds": 45,
        "serviceLevelTargetSeconds": 20,
        "serviceLevelTargetPercent": 100,
    }
    queue = await create_queue(stack.http, **fields)
    assert {key: queue[key] for key in fields} == fields
    assert await get_queue(stack.http, queue["id"]) == queue


async def test_get_unknown_queue_is_404(stack):
    response = await stack.http.get(f"{QUEUES}/00000000-0000-0000-0000-000000000000")
    assert_error(response, 404, "NOT_FOUND")


async def test_fresh_install_lists_the_default_queue(stack):
    body = await live_queues(stack.http)
    assert [queue["name"] for queue in body["queues"]] == ["Default"]
    assert body["queues"][0]["id"] == await default_queue_id(stack.http)
    assert body["pagination"] == {"totalItems": 1, "page": 0, "limit": 999, "orderBy": "createdAt:asc"}


async def test_list_pages_with_defaults_and_explicit_parameters(stack):
    prefix = unique("page")
    created = [await create_queue(stack.http, f"{prefix}-{letter}") for letter in "abcde"]

    response = await stack.http.get(QUEUES)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pagination"] == {"totalItems": 6, "page": 0, "limit": 10, "orderBy": "createdAt:asc"}
    assert [queue["name"] for queue in body["queues"]] == ["Default"] + [q["name"] for q in created]
    assert body["queues"][1] == created[0]

    response = await stack.http.get(
        QUEUES, params={"name": prefix, "page": 1, "limit": 2, "orderBy": "name:asc"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [queue["name"] for queue in body["queues"]] == [f"{prefix}-c", f"{prefix}-d"]
    assert body["pagination"] == {"totalItems": 5, "page": 1, "limit": 2, "orderBy": "name:asc"}

    response = await stack.http.get(QUEUES, params={"name": prefix, "page": 3, "limit": 2})
    assert response.json()["queues"] == []
    assert response.json()["pagination"]["totalItems"] == 5


async def test_list_orders_by_name_descending(stack):
    prefix = unique("order")
    for suffix in ["m", "z", "a"]:
        await create_queue(stack.http, f"{prefix}-{suffix}")
    body = await live_queues(stack.http, name=prefix, orderBy="name:desc")
    assert [queue["name"] for queue in body["queues"]] == [f"{prefix}-z", f"{prefix}-m", f"{prefix}-a"]
    assert body["pagination"]["orderBy"] == "name:desc"


async def test_name_filter_is_a_case_insensitive_substring(stack):
    tag = unique("Sales").upper()
    wanted = [
        await create_queue(stack.http, f"EU {tag} desk"),
        await create_queue(stack.http, f"{tag.lower()}"),
    ]
    await create_queue(stack.http, unique("other"))
    needle = "".join(c.lower() if i % 2 else c.upper() for i, c in enumerate(tag[3:].lower()))
    assert needle not in (tag[3:], tag[3:].lower())  # mixed case on purpose
    body = await live_queues(stack.http, name=needle)
    assert sorted(q["id"] for q in body["queues"]) == sorted(q["id"] for q in wanted)
    assert body["pagination"]["totalItems"] == 2


async def test_name_filter_treats_like_wildcards_literally(stack):
    prefix = unique("wild")
    literal = await create_queue(stack.http, f"{prefix} 100%_off")
    await create_queue(stack.http, f"{prefix} 100 xoff")
    for needle in ["100%_", "%", "_off"]:
        body = await live_queues(stack.http, name=needle)
        assert [q["id"] for q in body["queues"]] == [literal["id"]], needle


# --- put --------------------------------------------------------------------------------------


async def test_put_changes_only_the_fields_given(stack):
    queue = await create_queue(
        stack.http,
        externalId="ext-1",
        botTimeoutSeconds=900,
        isAutoAssignmentEnabled=True,
        autoAssignmentAlgorithm="LOAD_BALANCING",
    )
    new_name = unique("renamed")
    response = await stack.http.put(f"{QUEUES}/{queue['id']}", json={"name": new_name})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["id"] == queue["id"]
    assert updated["name"] == new_name
    # As Infobip's UpdateQueueApiRequest: what the body leaves out keeps its value.
    assert updated["externalId"] == "ext-1"
    assert updated["botTimeoutSeconds"] == 900
    assert updated["isAutoAssignmentEnabled"] is True
    assert updated["autoAssignmentAlgorithm"] == "LOAD_BALANCING"
    assert updated["createdAt"] == queue["createdAt"]
    assert parse_time(updated["updatedAt"]) >= parse_time(queue["updatedAt"])
    assert await get_queue(stack.http, queue["id"]) == updated


async def test_put_keeps_its_own_name(stack):
    queue = await create_queue(stack.http)
    response = await stack.http.put(
        f"{QUEUES}/{queue['id']}", json={"name": queue["name"], "botTimeoutSeconds": 30}
    )
    assert response.status_code == 200, response.text
    assert response.json()["botTimeoutSeconds"] == 30


async def test_put_unknown_queue_is_404(stack):
    response = await stack.http.put(f"{QUEUES}/{unique('nope')}", json={"name": unique("q")})
    assert_error(response, 404, "NOT_FOUND")
    assert await live_names(stack.http) == ["Default"]


# --- validation -------------------------------------------------------------------------------

MISSING = object()  # an override that removes the field from the body

# A PUT may leave name out (Infobip's UpdateQueueApiRequest has no required field).
INVALID_ON_CREATE = [pytest.param({"name": MISSING}, "name", id="missing name")]

INVALID = [
    pytest.param({"name": ""}, "name", id="empty name"),
    pytest.param({"name": "   "}, "name", id="blank name"),
    pytest.param({"name": "x" * 256}, "name", id="name of 256"),
    pytest.param({"name": None}, "name", id="null name"),
    pytest.param({"queueID": "abc"}, "queueID", id="unknown field"),
    pytest.param({"name": 5}, "name", id="name not a string"),
    pytest.param({"botTimeoutSeconds": "x"}, "botTimeoutSeconds", id="timeout not a number"),
    pytest.param({"botTimeoutSeconds": 0}, "botTimeoutSeconds", id="timeout 0"),
    pytest.param({"botTimeoutSeconds": -5}, "botTimeoutSeconds", id="negative timeout"),
    pytest.param({"botTimeoutSeconds": 1.5}, "botTimeoutSeconds", id="fractional timeout"),
    pytest.param({"autoAssignmentAlgorithm": "RANDOM"}, "autoAssignmentAlgorithm", id="algorithm"),
    pytest.param({"botId": "00000000-0000-0000-0000-000000000001"}, "botId", id="bot id"),
    pytest.param({"stickyAgentTimeoutDays": 0}, "stickyAgentTimeoutDays", id="sticky days 0"),
    pytest.param({"isAutoAssignmentEnabled": [True]}, "isAutoAssignmentEnabled", id="bool list"),
    pytest.param({"isAutoAssignmentEnabled": "yes"}, "isAutoAssignmentEnabled", id="bool as text"),
    pytest.param({"botTimeoutSeconds": "5"}, "botTimeoutSeconds", id="number as text"),
    pytest.param({"serviceLevelTargetSeconds": 0}, "serviceLevelTargetSeconds", id="target seconds 0"),
    pytest.param({"serviceLevelTargetPercent": 101}, "serviceLevelTargetPercent", id="target percent 101"),
    pytest.param({"serviceLevelTargetPercent": None}, "serviceLevelTargetPercent", id="null target percent"),
]


def _body(overrides: dict[str, Any]) -> dict[str, Any]:
    body = {"name": unique("valid"), **overrides}
    return {key: value for key, value in body.items() if value is not MISSING}


@pytest.mark.parametrize(("overrides", "field"), INVALID_ON_CREATE + INVALID)
@pytest.mark.sqlite_only
async def test_create_refuses_invalid_bodies(stack, overrides, field):
    body = _body(overrides)
    response = await stack.http.post(QUEUES, json=body)
    assert_error(response, 400, "BAD_REQUEST", field)
    assert await live_names(stack.http) == ["Default"]


@pytest.mark.parametrize(("overrides", "field"), INVALID)
@pytest.mark.sqlite_only
async def test_put_refuses_invalid_bodies(stack, overrides, field):
    queue = await create_queue(stack.http, botTimeoutSeconds=120)
    response = await stack.http.put(f"{QUEUES}/{queue['id']}", json=_body(overrides))
    assert_error(response, 400, "BAD_REQUEST", field)
    assert await get_queue(stack.http, queue["id"]) == queue


async def test_validation_reports_every_bad_field_at_once(stack):
    response = await stack.http.post(
        QUEUES, json={"name": "", "botTimeoutSeconds": 0, "autoAssignmentAlgorithm": "X", "queueID": 1}
    )
    exception = assert_error(response, 400, "BAD_REQUEST")
    assert {"name", "botTimeoutSeconds", "autoAssignmentAlgorithm", "queueID"} <= set(
        exception["validationErrors"]
    )
    assert await live_names(stack.http) == ["Default"]


async def test_name_of_255_characters_is_accepted(stack):
    name = unique("n") + "x" * (255 - len(unique("n")))
    assert len(name) == 255
    queue = await create_queue(stack.http, name)
    assert (await get_queue(stack.http, queue["id"]))["name"] == name


async def test_a_name_is_trimmed_after_its_length_is_checked_as_sent(stack):
    """The document's maxLength is what the server enforces: padding never slips a long name by."""
    name = unique("n")
    queue = await create_queue(stack.http, f"  {name}  ")
    assert queue["name"] == name
    before = await live_names(stack.http)
    padded = " " + "x" * 255
    assert_error(await stack.http.post(QUEUES, json={"name": padded}), 400, "BAD_REQUEST", "name")
    assert_error(await stack.http.post(QUEUES, json={"name": "   "}), 400, "BAD_REQUEST", "name")
    assert await live_names(stack.http) == before


async def test_an_integer_is_a_json_number_whole_or_integral(stack):
    queue = await create_queue(stack.http, botTimeoutSeconds=609.0, stickyAgentTimeoutDays=3.0)
    assert (queue["botTimeoutSeconds"], queue["stickyAgentTimeoutDays"]) == (609, 3)
    for value in ("609", True, 609.5):
        response = await stack.http.post(QUEUES, json={"name": unique("n"), "botTimeoutSeconds": value})
        assert_error(response, 400, "BAD_REQUEST", "botTimeoutSeconds")


# --- duplicate names --------------------------------------------------------------------------


async def test_create_with_a_live_name_is_409(stack):
    queue = await create_queue(stack.http)
    for name in [queue["name"], f"  {queue['name']} "]:
        response = await stack.http.post(QUEUES, json={"name": name})
        assert_error(response, 409, "CONFLICT")
    assert await live_names(stack.http) == sorted(["Default", queue["name"]])


async def test_create_named_like_the_bootstrap_default_is_409(stack):
    response = await stack.http.post(QUEUES, json={"name": "Default"})
    assert_error(response, 409, "CONFLICT")
    assert await live_names(stack.http) == ["Default"]


async def test_rename_to_a_live_name_is_409(stack):
    first = await create_queue(stack.http)
    second = await create_queue(stack.http)
    response = await stack.http.put(f"{QUEUES}/{second['id']}", json={"name": first["name"]})
    assert_error(response, 409, "CONFLICT")
    assert await get_queue(stack.http, second["id"]) == second


async def test_concurrent_creates_of_one_name_make_one_queue(stack):
    name = unique("race")
    responses = await asyncio.gather(*[stack.http.post(QUEUES, json={"name": name}) for _ in range(6)])
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 5, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "CONFLICT")
    assert (await live_queues(stack.http, name=name))["pagination"]["totalItems"] == 1


# --- delete -----------------------------------------------------------------------------------


async def test_delete_soft_deletes(stack):
    queue = await create_queue(stack.http)
    response = await stack.http.delete(f"{QUEUES}/{queue['id']}")
    assert response.status_code == 200, response.text
    deleted = response.json()
    # With Infobip's StatusCodeResponse fields, which a read does not carry.
    assert (deleted.pop("statusCode"), deleted.pop("message")) == ("SUCCESS", "Queue deleted")
    assert deleted["id"] == queue["id"]
    assert deleted["deletedAt"] is not None
    assert parse_time(deleted["deletedAt"]) >= parse_time(queue["createdAt"])

    assert queue["name"] not in await live_names(stack.http)
    assert (await live_queues(stack.http, name=queue["name"]))["pagination"]["totalItems"] == 0
    # Still readable by id, so history that names it stays explicable.
    assert await get_queue(stack.http, queue["id"]) == deleted

    response = await stack.http.put(f"{QUEUES}/{queue['id']}", json={"name": unique("again")})
    assert_error(response, 404, "NOT_FOUND")
    response = await stack.http.delete(f"{QUEUES}/{queue['id']}")
    assert_error(response, 404, "NOT_FOUND")
    assert await get_queue(stack.http, queue["id"]) == deleted


async def test_a_deleted_queue_name_can_be_reused(stack):
    queue = await create_queue(stack.http)
    assert (await stack.http.delete(f"{QUEUES}/{queue['id']}")).status_code == 200
    reborn = await create_queue(stack.http, queue["name"])
    assert reborn["id"] != queue["id"]
    other = await create_queue(stack.http)
    response = await stack.http.put(f"{QUEUES}/{other['id']}", json={"name": queue["name"]})
    assert_error(response, 409, "CONFLICT")  # taken again, by the live one
    assert (await get_queue(stack.http, queue["id"]))["deletedAt"] is not None


async def test_rename_to_a_deleted_queue_name_is_allowed(stack):
    gone = await create_queue(stack.http)
    assert (await stack.http.delete(f"{QUEUES}/{gone['id']}")).status_code == 200
    queue = await create_queue(stack.http)
    response = await stack.http.put(f"{QUEUES}/{queue['id']}", json={"name": gone["name"]})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == gone["name"]


async def test_delete_unknown_queue_is_404(stack):
    response = await stack.http.delete(f"{QUEUES}/00000000-0000-0000-0000-000000000000")
    assert_error(response, 404, "NOT_FOUND")


async def assert_not_deleted(http, queue: dict[str, Any]) -> None:
    assert (await get_queue(http, queue["id"]))["deletedAt"] is None
    assert queue["name"] in await live_names(http)


async def test_delete_is_refused_while_an_enabled_route_targets_it(stack):
    queue = await create_queue(stack.http)
    routing = await put_routing(stack.http, [rule("to it", queue["id"], ANY_CHANNEL)])
    response = await stack.http.delete(f"{QUEUES}/{queue['id']}")
    assert_error(response, 409, "CONFLICT")
    await assert_not_deleted(stack.http, queue)

    # Disabled, the rule no longer holds the queue.
    disabled = {**rule("to it", queue["id"], ANY_CHANNEL), "id": routing["routes"][0]["id"], "enabled": False}
    await put_routing(stack.http, [disabled])
    response = await stack.http.delete(f"{QUEUES}/{queue['id']}")
    assert response.status_code == 200, response.text
    assert (await get_queue(stack.http, queue["id"]))["deletedAt"] is not None


async def test_delete_is_refused_for_the_default_queue(stack):
    default_id = await default_queue_id(stack.http)
    default = await get_queue(stack.http, default_id)
    assert default["name"] == "Default"
    response = await stack.http.delete(f"{QUEUES}/{default_id}")
    assert_error(response, 409, "CONFLICT")
    await assert_not_deleted(stack.http, default)

    # Once another queue is the default, the old one may go, and the new one may not.
    other = await create_queue(stack.http)
    response = await stack.http.put(SETTINGS, json={"defaultQueueId": other["id"]})
    assert response.status_code == 200, response.text
    response = await stack.http.delete(f"{QUEUES}/{other['id']}")
    assert_error(response, 409, "CONFLICT")
    await assert_not_deleted(stack.http, other)
    assert (await stack.http.delete(f"{QUEUES}/{default_id}")).status_code == 200


async def test_delete_is_refused_while_an_open_conversation_sits_in_it(stack):
    queue = await create_queue(stack.http)
    conversation = await create_conversation(stack.http, queueId=queue["id"])
    assert conversation["queueId"] == queue["id"]
    assert conversation["status"] != "CLOSED"
    response = await stack.http.delete(f"{QUEUES}/{queue['id']}")
    assert_error(response, 409, "CONFLICT")
    await assert_not_deleted(stack.http, queue)


# --- enabledRoutesCount -----------------------------------------------------------------------


async def test_enabled_routes_count_counts_enabled_rules_only(stack):
    counted = await create_queue(stack.http)
    disabled_only = await create_queue(stack.http)
    untouched = await create_queue(stack.http)
    await put_routing(
        stack.http,
        [
            rule("a", counted["id"], ANY_CHANNEL),
            rule("b", counted["id"], {"$eq": {"message.channel": "SMS"}}),
            rule("c", counted["id"], ANY_CHANNEL, enabled=False),
            rule("d", disabled_only["id"], ANY_CHANNEL, enabled=False),
        ],
    )
    expected = {counted["id"]: 2, disabled_only["id"]: 0, untouched["id"]: 0}
    for queue_id, count in expected.items():
        assert (await get_queue(stack.http, queue_id))["enabledRoutesCount"] == count
    listed = {q["id"]: q["enabledRoutesCount"] for q in (await live_queues(stack.http))["queues"]}
    assert {queue_id: listed[queue_id] for queue_id in expected} == expected

    # A new routing version recounts.
    await put_routing(stack.http, [rule("only", untouched["id"], ANY_CHANNEL)])
    assert (await get_queue(stack.http, counted["id"]))["enabledRoutesCount"] == 0
    assert (await get_queue(stack.http, untouched["id"]))["enabledRoutesCount"] == 1


# --- paging errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"limit": 0}, "limit", id="limit 0"),
        pytest.param({"limit": 1000}, "limit", id="limit 1000"),
        pytest.param({"limit": "ten"}, "limit", id="limit not a number"),
        pytest.param({"page": -1}, "page", id="page -1"),
        pytest.param({"page": "first"}, "page", id="page not a number"),
        pytest.param({"orderBy": "nope:asc"}, "orderBy", id="unknown order field"),
        pytest.param({"orderBy": "name:sideways"}, "orderBy", id="unknown direction"),
        pytest.param({"name": "x" * 256}, "name", id="name filter too long"),
    ],
)
async def test_list_refuses_bad_paging(stack, params, field):
    response = await stack.http.get(QUEUES, params=params)
    assert_error(response, 400, "BAD_REQUEST", field)


async def test_paging_limits_are_inclusive(stack):
    for params in [{"limit": 1}, {"limit": 999}, {"page": 0, "orderBy": "updatedAt:desc"}]:
        response = await stack.http.get(QUEUES, params=params)
        assert response.status_code == 200, (params, response.text)
