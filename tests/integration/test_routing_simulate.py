"""POST /ccaas/1/routing/simulate: a draft routing tried on real traffic, changing nothing."""

from __future__ import annotations

from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue, put_routing, rule

SMS = {"$eq": {"message.channel": "SMS"}}
EMAIL = {"$eq": {"message.channel": "EMAIL"}}
SIMULATE = "/ccaas/1/routing/simulate"


async def traffic(stack: Stack):
    a, b = await create_queue(stack.http), await create_queue(stack.http)
    await put_routing(stack.http, [rule("sms", a["id"], SMS)])
    sms = [await create_conversation(stack.http, channel="SMS") for _ in range(5)]
    email = [await create_conversation(stack.http, channel="EMAIL") for _ in range(3)]
    default = (await stack.http.get("/ccaas/1/routing/settings")).json()["defaultQueueId"]
    return a, b, sms, email, default


async def test_a_draft_on_recent_traffic_counts_the_moves_and_changes_nothing(stack: Stack):
    a, b, sms, email, default = await traffic(stack)
    before_routing = (await stack.http.get("/ccaas/1/routing")).json()
    before = (await stack.http.get("/ccaas/1/conversations", params={"limit": 999})).json()

    draft = [rule("sms to b", b["id"], SMS, priority="HIGH"), rule("email to a", a["id"], EMAIL)]
    response = await stack.http.post(SIMULATE, json={"rules": draft, "recent": 100})
    assert response.status_code == 200, response.text
    result = response.json()

    assert result["summary"]["total"] == 8 and result["summary"]["moved"] == 8
    moves = {(m["fromQueueId"], m["toQueueId"]): m["count"] for m in result["summary"]["moves"]}
    assert moves == {(a["id"], b["id"]): 5, (default, a["id"]): 3}
    by_subject = {r["subject"]: r for r in result["results"]}
    one = by_subject[sms[0]["id"]]
    assert (one["now"]["queueId"], one["now"]["routeName"]) == (a["id"], "sms")
    draft = one["draft"]
    assert (draft["queueId"], draft["priority"], draft["routeName"]) == (b["id"], "HIGH", "sms to b")
    assert by_subject[email[0]["id"]]["now"]["routeId"] is None
    assert result["currentVersion"] == before_routing["version"]

    assert (await stack.http.get("/ccaas/1/routing")).json() == before_routing
    assert (await stack.http.get("/ccaas/1/conversations", params={"limit": 999})).json() == before


async def test_a_saved_version_given_conversations_and_explicit_facts(stack: Stack):
    a, b, sms, email, default = await traffic(stack)
    first = (await stack.http.get("/ccaas/1/routing")).json()["version"]
    await put_routing(stack.http, [rule("everything to b", b["id"], {"$exists": {"message.channel": True}})])

    # The version in force now (b for all) against the earlier one (sms to a).
    response = await stack.http.post(SIMULATE, json={
        "version": first, "conversationIds": [sms[0]["id"], email[0]["id"]]})
    result = response.json()
    assert response.status_code == 200, response.text
    assert [(r["now"]["queueId"], r["draft"]["queueId"]) for r in result["results"]] == [
        (b["id"], a["id"]), (b["id"], default)]

    response = await stack.http.post(SIMULATE, json={
        "rules": [rule("sms", a["id"], SMS)], "facts": [{"message.channel": "SMS"}, {}]})
    result = response.json()
    assert [r["subject"] for r in result["results"]] == ["facts[0]", "facts[1]"]
    assert [r["draft"]["queueId"] for r in result["results"]] == [a["id"], default]
    # In force, the first goes to b; with no channel at all both routings send it to default.
    assert [r["moves"] for r in result["results"]] == [True, False]


async def test_conversations_never_routed_are_listed_apart(stack: Stack):
    queue = await create_queue(stack.http)
    placed = await create_conversation(stack.http, queueId=queue["id"])
    response = await stack.http.post(SIMULATE, json={"rules": [], "conversationIds": [placed["id"], "unknown"]})
    assert response.status_code == 200, response.text
    assert response.json()["notRouted"] == [placed["id"], "unknown"]
    assert response.json()["summary"]["total"] == 0


async def test_a_bad_draft_is_refused_with_the_paths_of_its_errors(stack: Stack):
    queue = await create_queue(stack.http)
    draft = [
        rule("bad operator", queue["id"], {"$and": [SMS, {"$like": {"message.channel": "S"}}]}),
        rule("no queue", "nope", SMS),
        {"name": "no expression", "queueId": queue["id"]},
    ]
    error = assert_error(await stack.http.post(SIMULATE, json={"rules": draft, "recent": 5}), 400, "BAD_REQUEST")
    assert {"rules[0].expression.$and[1]", "rules[1].queueId", "rules[2].expression"} <= set(error["validationErrors"])
    assert (await stack.http.get("/ccaas/1/routing")).json()["version"] == 0


async def test_what_to_simulate_must_be_said_once(stack: Stack):
    # Every refusal is a 400, and names the field to fix where there is one: a version is a
    # field of the body, not a resource of the path, so one that does not exist is a 400 too.
    for body, field in [
        ({"rules": [], "version": 0, "recent": 5}, None),
        ({"rules": []}, None),
        ({"rules": [], "recent": 5, "facts": [{}]}, None),
        ({"rules": [], "recent": 0}, "recent"),
        ({"recent": 5}, "rules"),
        ({"version": 99, "recent": 5}, "version"),
        ({"version": 2**31, "recent": 5}, "version"),
    ]:
        response = await stack.http.post(SIMULATE, json=body)
        assert response.status_code == 400, (body, response.text)
        assert_error(response, 400, "BAD_REQUEST", field)
