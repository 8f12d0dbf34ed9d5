"""Routing honours working hours: a rule with routeOnlyDuringWorkingHours is passed over while
its queue is closed (the trace says why), live and in the dry runs, which take an `at` time
("where would this go on Sunday at 03:00?")."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Stack
from tests.helpers import create_queue, put_routing, rule, unique

WH = "/ccaas/1/working-hours"
NINE_TO_FIVE = {"startTime": 9 * 60, "endTime": 17 * 60, "enabled": True}
ALL_DAY = {"startTime": 0, "endTime": 1440, "enabled": True}
CLOSED = {"startTime": 0, "endTime": 0, "enabled": False}
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
SUNDAY_3AM = "2026-11-29T03:00:00+01:00"
MONDAY_10AM = "2026-11-30T10:00:00+01:00"
SKIPPED_WHY = "queue closed: outside its working hours (Europe/Zagreb)"


async def hours(http: httpx.AsyncClient, week: dict[str, dict[str, Any]]) -> str:
    response = await http.post(WH, json={"name": unique("hours"), "timezone": "Europe/Zagreb",
                                         "message": "We are closed.", "workWeek": week})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def office_routing(stack: Stack, week: dict[str, dict[str, Any]]) -> tuple[str, str]:
    """SMS goes to `day` (working hours only, `week`), else to `any`."""
    day = await create_queue(stack.http, workingHoursId=await hours(stack.http, week))
    anytime = await create_queue(stack.http)
    sms = {"$eq": {"message.channel": "SMS"}}
    await put_routing(stack.http, [rule("day", day["id"], sms, routeOnlyDuringWorkingHours=True),
                                   rule("any", anytime["id"], sms)])
    return day["id"], anytime["id"]


async def test_a_conversation_skips_a_closed_queue_and_the_trace_says_why(stack: Stack) -> None:
    _, anytime = await office_routing(stack, {day: CLOSED for day in (*WEEKDAYS, "SATURDAY", "SUNDAY")})
    created = await stack.http.post("/ccaas/1/conversations", json={"channel": "SMS"})
    assert created.status_code == 201, created.text
    assert created.json()["queueId"] == anytime
    events = (await stack.http.get(f"/ccaas/1/conversations/{created.json()['id']}/events")).json()["events"]
    trace = events[1]["trace"]
    assert [(entry["name"], entry["outcome"], entry["reason"]) for entry in trace][0] == (
        "day", "SKIPPED", SKIPPED_WHY)
    assert trace[1]["outcome"] == "MATCHED"


async def test_an_open_queue_gets_its_conversations(stack: Stack) -> None:
    day, _ = await office_routing(stack, {day: ALL_DAY for day in (*WEEKDAYS, "SATURDAY", "SUNDAY")})
    created = await stack.http.post("/ccaas/1/conversations", json={"channel": "SMS"})
    assert created.json()["queueId"] == day


async def test_dry_runs_route_as_they_would_at_a_given_time(stack: Stack) -> None:
    week = {**{day: NINE_TO_FIVE for day in WEEKDAYS}, "SATURDAY": CLOSED, "SUNDAY": CLOSED}
    day, anytime = await office_routing(stack, week)
    conversation = (await stack.http.post("/ccaas/1/conversations", json={"channel": "SMS"})).json()
    url = f"/ccaas/1/conversations/{conversation['id']}/simulate-routing"

    sunday = await stack.http.get(url, params={"at": SUNDAY_3AM})
    assert sunday.status_code == 200, sunday.text
    assert sunday.json()["queueId"] == anytime
    assert sunday.json()["trace"][0]["reason"] == SKIPPED_WHY
    assert (await stack.http.get(url, params={"at": MONDAY_10AM})).json()["queueId"] == day

    for at, expected in ((SUNDAY_3AM, anytime), (MONDAY_10AM, day)):
        simulated = await stack.http.post("/ccaas/1/routing/simulate",
                                          json={"version": 1, "facts": [{"message.channel": "SMS"}], "at": at})
        assert simulated.status_code == 200, simulated.text
        [outcome] = simulated.json()["results"]
        assert outcome["now"]["queueId"] == outcome["draft"]["queueId"] == expected, outcome

    bad = await stack.http.get(url, params={"at": "Sunday"})
    assert bad.status_code == 400 and "at" in bad.json()["requestError"]["serviceException"]["validationErrors"]
