"""Bad input of issue 20: booleans are true or false only (`isPrivate: 0` passed), and a
person's tags are deduplicated once trimmed (" vip" and "vip" were both kept)."""

from __future__ import annotations

import pytest

from tests.conftest import Stack
from tests.helpers import assert_error, create_queue, unique

Q, PERSONS = "/ccaas/1/queues", "/people/2/persons"
NOT_BOOLEANS = [0, 1, "true", "false", 0.0]


async def test_a_queue_takes_booleans_as_true_or_false_only(stack: Stack):
    queue = await create_queue(stack.http)
    for value in NOT_BOOLEANS:
        for field in ("isPrivate", "isAutoAssignmentEnabled", "isRestricted"):
            assert_error(await stack.http.post(Q, json={"name": unique("q"), field: value}), 400, "BAD_REQUEST", field)
            assert_error(await stack.http.put(f"{Q}/{queue['id']}", json={field: value}), 400, "BAD_REQUEST", field)
    # Nothing was created or changed by the refusals.
    listed = (await stack.http.get(Q, params={"limit": 100})).json()
    assert [q["id"] for q in listed["queues"] if q["name"] != "Default"] == [queue["id"]]
    assert (await stack.http.get(f"{Q}/{queue['id']}")).json() == queue
    # isPrivate false (as every answer says it) and left out are fine.
    assert (await stack.http.put(f"{Q}/{queue['id']}", json={"isPrivate": False})).status_code == 200
    assert_error(await stack.http.put(f"{Q}/{queue['id']}", json={"isPrivate": True}), 400, "BAD_REQUEST", "isPrivate")


@pytest.mark.parametrize(("path", "name"), [
    ("/ccaas/1/agents", "enabled"), ("/ccaas/1/routing", "enabled"),
    ("/ccaas/1/working-hours", "enabled"), ("/ccaas/1/working-hours", "isDefault"),
])
async def test_a_boolean_filter_is_true_or_false_only(stack: Stack, path: str, name: str):
    for value in ("1", "0", "yes", "on", "t", ""):
        assert_error(await stack.http.get(path, params={name: value}), 400, "BAD_REQUEST", name)
    for value in ("true", "false", "True", "FALSE"):
        response = await stack.http.get(path, params={name: value})
        assert response.status_code == 200, (value, response.text)


async def test_a_persons_tags_are_deduplicated_once_trimmed(stack: Stack):
    created = await stack.http.post(PERSONS, json={"tags": [" vip", "vip", "gold ", " gold", "vip  "]})
    assert created.status_code == 201, created.text
    person = created.json()
    assert person["tags"] == ["vip", "gold"]
    assert (await stack.http.get(f"{PERSONS}/{person['id']}")).json()["tags"] == ["vip", "gold"]
    for method in ("PUT", "PATCH"):
        response = await stack.http.request(method, f"{PERSONS}/{person['id']}", json={"tags": ["new", " new "]})
        assert response.status_code == 200, response.text
        assert response.json()["tags"] == ["new"]
    # Blank is still refused, at its place.
    assert_error(await stack.http.post(PERSONS, json={"tags": ["ok", "   "]}), 400, "BAD_REQUEST", "tags")
