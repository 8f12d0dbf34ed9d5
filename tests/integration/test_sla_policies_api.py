"""/ccaas/1/sla-policies against the real API (SQLite: the checks are the API's, the same on
every store; tests/store/test_sla_policies_store.py is the PostgreSQL round trip): create, list,
get, replace, delete, reorder by `order`, each bad field a 400 at its field with nothing saved,
and the working hours and queues a policy names kept from deletion. Who may do what is a row of
tests/integration/test_permissions.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.databases import copy_sqlite_file
from tests.helpers import assert_error, create_queue, unique

SLA = "/ccaas/1/sla-policies"
WH = "/ccaas/1/working-hours"
TELEGRAM = {"$eq": {"message.channel": "TELEGRAM"}}
FIELDS = {"id", "order", "name", "expression", "firstResponseSeconds", "resolutionSeconds", "workingHoursId",
          "warnBeforeSeconds", "onBreach", "enabled", "createdAt", "updatedAt"}
DAY = {"startTime": 540, "endTime": 1020, "enabled": True}


@pytest.fixture
def database_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    return copy_sqlite_file(migrated_sqlite, tmp_path / "switchboard.db")


def body(**fields: Any) -> dict[str, Any]:
    return {"name": unique("policy"), "expression": TELEGRAM, "firstResponseSeconds": 3600, **fields}


async def create(http: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await http.post(SLA, json=body(**fields))
    assert response.status_code == 201, response.text
    return response.json()


async def names_in_order(http: httpx.AsyncClient) -> list[str]:
    listed = (await http.get(SLA)).json()
    assert [policy["order"] for policy in listed["slaPolicies"]] == list(range(1, len(listed["slaPolicies"]) + 1))
    return [policy["name"] for policy in listed["slaPolicies"]]


async def working_hours(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.post(WH, json={"name": unique("hours"), "timezone": "Europe/Berlin", "message": "Closed",
                                         "workWeek": dict.fromkeys(("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY",
                                                                    "FRIDAY", "SATURDAY", "SUNDAY"), DAY)})
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_policy_round_trip(stack: Stack):
    http = stack.http
    hours = await working_hours(http)
    queue = await create_queue(http)
    made = await create(http, name="Telegram VIP", resolutionSeconds=86400, workingHoursId=hours["id"],
                        warnBeforeSeconds=600, onBreach={"priority": "URGENT", "queueId": queue["id"]})
    assert set(made) == FIELDS
    assert made["order"] == 1 and made["enabled"] is True
    assert (made["firstResponseSeconds"], made["resolutionSeconds"], made["warnBeforeSeconds"]) == (3600, 86400, 600)
    assert made["onBreach"] == {"priority": "URGENT", "queueId": queue["id"]}
    assert made["workingHoursId"] == hours["id"] and made["expression"] == TELEGRAM
    assert (await http.get(f"{SLA}/{made['id']}")).json() == made

    # PUT replaces every field: those left out take their defaults (calendar time, no warning).
    replaced = await http.put(f"{SLA}/{made['id']}", json={"name": "Any", "expression": TELEGRAM,
                                                            "resolutionSeconds": 7200, "enabled": False})
    assert replaced.status_code == 200, replaced.text
    after = replaced.json()
    assert (after["firstResponseSeconds"], after["resolutionSeconds"], after["workingHoursId"]) == (None, 7200, None)
    assert (after["onBreach"], after["warnBeforeSeconds"], after["enabled"]) == (None, None, False)
    assert after["createdAt"] == made["createdAt"] and after["order"] == 1
    assert (await http.get(f"{SLA}/{made['id']}")).json() == after

    deleted = await http.delete(f"{SLA}/{made['id']}")
    assert deleted.status_code == 200 and deleted.json()["statusCode"] == "SUCCESS", deleted.text
    assert_error(await http.get(f"{SLA}/{made['id']}"), 404, "NOT_FOUND")
    assert_error(await http.put(f"{SLA}/{made['id']}", json=body()), 404, "NOT_FOUND")
    assert_error(await http.delete(f"{SLA}/{made['id']}"), 404, "NOT_FOUND")
    assert (await http.get(SLA)).json()["slaPolicies"] == []


async def test_order_inserts_moves_and_closes_up(stack: Stack):
    http = stack.http
    a, b = await create(http, name="a"), await create(http, name="b")
    await create(http, name="c", order=1)  # inserted first
    assert await names_in_order(http) == ["c", "a", "b"]
    moved = await http.put(f"{SLA}/{a['id']}", json=body(name="a", order=3))
    assert moved.status_code == 200 and moved.json()["order"] == 3, moved.text
    assert await names_in_order(http) == ["c", "b", "a"]
    # Left out, the place is kept; a fetched policy sent back changes nothing.
    fetched = (await http.get(f"{SLA}/{b['id']}")).json()
    assert (await http.put(f"{SLA}/{b['id']}", json={**fetched, "order": None})).json()["order"] == 2
    again = await http.put(f"{SLA}/{b['id']}", json=fetched)
    assert again.status_code == 200, again.text
    assert {k: v for k, v in again.json().items() if k != "updatedAt"} == {
        k: v for k, v in fetched.items() if k != "updatedAt"}
    assert (await http.delete(f"{SLA}/{b['id']}")).status_code == 200
    assert await names_in_order(http) == ["c", "a"]
    # Paged: `order` is the place in the whole list.
    page = (await http.get(SLA, params={"page": 1, "limit": 1})).json()
    assert [p["name"] for p in page["slaPolicies"]] == ["a"] and page["slaPolicies"][0]["order"] == 2
    assert page["pagination"]["totalItems"] == 2
    assert_error(await http.post(SLA, json=body(order=4)), 400, "BAD_REQUEST", "order")
    assert_error(await http.put(f"{SLA}/{a['id']}", json=body(order=3)), 400, "BAD_REQUEST", "order")


@pytest.mark.parametrize(("fields", "field"), [
    ({"expression": {"$eq": {"nope": 1}}}, "expression.$eq"),
    ({"expression": None}, "expression"),
    ({"expression": {"$and": [TELEGRAM, {"$in": {"message.channel": "x"}}]}}, "expression.$and[1].$in"),
    ({"firstResponseSeconds": None}, "firstResponseSeconds"),
    ({"firstResponseSeconds": 0}, "firstResponseSeconds"),
    ({"resolutionSeconds": 365 * 86400 + 1}, "resolutionSeconds"),
    ({"firstResponseSeconds": "60"}, "firstResponseSeconds"),
    ({"warnBeforeSeconds": 3600}, "warnBeforeSeconds"),
    ({"resolutionSeconds": 600, "warnBeforeSeconds": 600}, "warnBeforeSeconds"),
    ({"workingHoursId": "no-such-hours"}, "workingHoursId"),
    ({"onBreach": {"queueId": "no-such-queue"}}, "onBreach.queueId"),
    ({"onBreach": {"priority": "SOON"}}, "onBreach.priority"),
    ({"onBreach": {}}, "onBreach"),
    ({"name": "  "}, "name"),
    ({"enabled": "yes"}, "enabled"),
    ({"order": 0}, "order"),
    ({"colour": "red"}, "colour"),
])
async def test_each_bad_field_is_a_400_at_the_field(stack: Stack, fields: dict[str, Any], field: str):
    http = stack.http
    kept = await create(http, name="kept")
    assert_error(await http.post(SLA, json=body(**fields)), 400, "BAD_REQUEST", field)
    assert_error(await http.put(f"{SLA}/{kept['id']}", json=body(**fields)), 400, "BAD_REQUEST", field)
    assert (await http.get(SLA)).json()["slaPolicies"] == [kept]


async def test_every_problem_is_reported_at_once(stack: Stack):
    response = await stack.http.post(SLA, json=body(
        expression={"$eq": {"nope": 1}}, workingHoursId="gone", onBreach={"queueId": "gone"}, warnBeforeSeconds=3600))
    errors = assert_error(response, 400, "BAD_REQUEST")["validationErrors"]
    assert set(errors) == {"expression.$eq", "workingHoursId", "onBreach.queueId", "warnBeforeSeconds"}


async def test_what_a_policy_names_cannot_be_deleted_under_it(stack: Stack):
    http = stack.http
    hours = await working_hours(http)
    queue = await create_queue(http)
    policy = await create(http, name="Named", workingHoursId=hours["id"], onBreach={"queueId": queue["id"]})
    assert_error(await http.delete(f"{WH}/{hours['id']}"), 409, "CONFLICT")
    assert_error(await http.delete(f"/ccaas/1/queues/{queue['id']}"), 409, "CONFLICT")
    assert (await http.delete(f"{SLA}/{policy['id']}")).status_code == 200
    assert (await http.delete(f"{WH}/{hours['id']}")).status_code == 200
    assert (await http.delete(f"/ccaas/1/queues/{queue['id']}")).status_code == 200
    # A deleted queue is no target for a new policy either.
    assert_error(await http.post(SLA, json=body(onBreach={"queueId": queue["id"]})), 400, "BAD_REQUEST",
                 "onBreach.queueId")
