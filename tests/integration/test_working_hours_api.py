"""/ccaas/1/working-hours against the real API and database (SQLite and PostgreSQL): the
round trip, PATCH, holidays, one default at a time, deletion while queues use them, the
status at fixed instants (a weekday, a weekend night, a holiday, the Mondays after the
daylight-saving changes, a split shift's break), refusals at the field, and who may change."""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import Session

from domain.working_hours import Weekday
from store.db import session_scope
from store.tables import QueueRow
from store.working_hours import hours_of_queue
from switchboard.composition import api_app
from tests.conftest import Stack
from tests.helpers import assert_error, create_queue, unique

WH = "/ccaas/1/working-hours"
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ZAGREB = ZoneInfo("Europe/Zagreb")
FIELDS = {"id", "name", "timezone", "message", "workWeek", "enabled", "isDefault", "closeConversations",
          "sendAwayMessageEveryOOWHPeriod", "holidays", "createdAt", "updatedAt"}
NINE_TO_FIVE = {"startTime": 9 * 60, "endTime": 17 * 60, "enabled": True}
CLOSED = {"startTime": 0, "endTime": 0, "enabled": False}
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")


def week(**days: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Weekdays nine to five, the weekend closed, unless `days` says otherwise."""
    return {**{day: NINE_TO_FIVE for day in WEEKDAYS}, "SATURDAY": CLOSED, "SUNDAY": CLOSED, **days}


def hours_body(**fields: Any) -> dict[str, Any]:
    return {"name": unique("Office hours"), "timezone": "Europe/Zagreb", "message": "We are closed; back at 9.",
            "workWeek": week(), **fields}


async def create_hours(http: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await http.post(WH, json=hours_body(**fields))
    assert response.status_code == 201, response.text
    return response.json()


async def fetch(http: httpx.AsyncClient, hours_id: str) -> dict[str, Any]:
    response = await http.get(f"{WH}/{hours_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def total(http: httpx.AsyncClient) -> int:
    response = await http.get(WH, params={"limit": 1})
    assert response.status_code == 200, response.text
    return response.json()["pagination"]["totalItems"]


def in_day(answer: dict[str, Any]) -> dict[str, Any]:
    """A day as answered, without our `intervals` (null for a day of one interval)."""
    return {key: value for key, value in answer.items() if key != "intervals"}


@asynccontextmanager
async def client(stack: Stack, key: str | None = None,
                 clock: Callable[[], datetime] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same API with another key, or of an app whose "now" is `clock`."""
    if clock is None:
        transport = stack.http._transport
    else:
        transport = httpx.ASGITransport(app=api_app(stack.settings, stack.engine, stack.temporal, clock=clock))
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test",
                                 headers={"Authorization": f"App {key or stack.supervisor_key}"}) as http:
        yield http


async def test_a_round_trip_create_read_list_replace_delete(stack: Stack):
    split = {"enabled": True, "intervals": [{"startTime": 13 * 60, "endTime": 17 * 60},
                                            {"startTime": 8 * 60, "endTime": 12 * 60}]}
    created = await create_hours(
        stack.http, workWeek=week(WEDNESDAY=split), closeConversations=True, sendAwayMessageEveryOOWHPeriod=True,
        holidays=[{"name": "Christmas", "startDate": "2026-12-25", "endDate": "2026-12-26", "enabled": True}],
    )
    assert set(created) == FIELDS
    assert UUID.match(created["id"]) and TIME.match(created["createdAt"]) and TIME.match(created["updatedAt"])
    assert (created["timezone"], created["enabled"], created["isDefault"], created["closeConversations"],
            created["sendAwayMessageEveryOOWHPeriod"]) == ("Europe/Zagreb", True, False, True, True)
    assert in_day(created["workWeek"]["MONDAY"]) == NINE_TO_FIVE and created["workWeek"]["MONDAY"]["intervals"] is None
    assert created["workWeek"]["SUNDAY"] == {**CLOSED, "intervals": None}
    # A split shift: its intervals in order, and Infobip's startTime/endTime their span.
    assert created["workWeek"]["WEDNESDAY"] == {
        "enabled": True, "startTime": 480, "endTime": 1020,
        "intervals": [{"startTime": 480, "endTime": 720}, {"startTime": 780, "endTime": 1020}]}
    [holiday] = created["holidays"]
    assert UUID.match(holiday["id"])
    assert holiday == {"id": holiday["id"], "name": "Christmas", "startDate": "2026-12-25",
                       "endDate": "2026-12-26", "enabled": True}
    assert await fetch(stack.http, created["id"]) == created

    # The list and Infobip's filters.
    other = await create_hours(stack.http, enabled=False)
    listed = await stack.http.get(WH, params={"name": created["name"][5:].upper(), "enabled": True,
                                              "isDefault": False, "createdAfter": "2020-01-01T00:00:00.000+0000",
                                              "createdBefore": "2100-01-01T00:00:00Z", "orderBy": "name:desc"})
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"workingHours": [created], "pagination": {
        "totalItems": 1, "page": 0, "limit": 10, "orderBy": "name:desc"}}
    disabled = (await stack.http.get(WH, params={"enabled": False})).json()["workingHours"]
    assert [item["id"] for item in disabled] == [other["id"]]
    later = (await stack.http.get(WH, params={"updatedAfter": "2100-01-01T00:00:00Z"})).json()
    assert later["workingHours"] == [] and later["pagination"]["totalItems"] == 0
    everything = (await stack.http.get(WH, params={"orderBy": "createdAt:asc"})).json()["workingHours"]
    assert [item["id"] for item in everything] == [created["id"], other["id"]]
    assert_error(await stack.http.get(WH, params={"colour": "red"}), 400, "BAD_REQUEST", "colour")
    assert_error(await stack.http.get(WH, params={"orderBy": "message"}), 400, "BAD_REQUEST", "orderBy")

    # PUT of the fetched object sent back: the answer-only fields are ignored.
    sent = {**copy.deepcopy(created), "name": "Renamed", "createdAt": "2020-01-01T00:00:00.000+0000",
            "id": "ignored", "updatedAt": "2020-01-01T00:00:00Z"}
    sent["workWeek"]["SATURDAY"] = {"startTime": 600, "endTime": 840, "enabled": True, "intervals": None}
    replaced = await stack.http.put(f"{WH}/{created['id']}", json=sent)
    assert replaced.status_code == 200, replaced.text
    after = replaced.json()
    assert (after["id"], after["name"], after["createdAt"]) == (created["id"], "Renamed", created["createdAt"])
    assert after["updatedAt"] > created["updatedAt"]
    assert after["workWeek"]["SATURDAY"] == {"startTime": 600, "endTime": 840, "enabled": True, "intervals": None}
    assert after["holidays"] == created["holidays"]  # the same ids, sent back
    # PUT replaces: the fields left out are back at their defaults.
    bare = await stack.http.put(f"{WH}/{created['id']}", json=hours_body(name="Bare"))
    assert bare.status_code == 200, bare.text
    assert (bare.json()["holidays"], bare.json()["closeConversations"], bare.json()["enabled"]) == ([], False, True)
    assert await fetch(stack.http, created["id"]) == bare.json()

    deleted = await stack.http.delete(f"{WH}/{created['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"statusCode": "SUCCESS", "message": "Working hours deleted"}
    assert_error(await stack.http.get(f"{WH}/{created['id']}"), 404, "NOT_FOUND")
    assert_error(await stack.http.delete(f"{WH}/{created['id']}"), 404, "NOT_FOUND")
    assert_error(await stack.http.put(f"{WH}/{created['id']}", json=hours_body()), 404, "NOT_FOUND")
    assert_error(await stack.http.patch(f"{WH}/{created['id']}", json={}), 404, "NOT_FOUND")
    assert_error(await stack.http.get(f"{WH}/{created['id']}/status"), 404, "NOT_FOUND")
    assert await total(stack.http) == 1


async def test_patch_changes_only_the_fields_given(stack: Stack):
    created = await create_hours(stack.http, closeConversations=True,
                                 holidays=[{"name": "New year", "startDate": "2027-01-01"}])
    patched = await stack.http.patch(f"{WH}/{created['id']}", json={"message": "Gone fishing"})
    assert patched.status_code == 200, patched.text
    unchanged = {key: value for key, value in created.items() if key not in ("message", "updatedAt")}
    assert {key: value for key, value in patched.json().items() if key not in ("message", "updatedAt")} == unchanged
    assert patched.json()["message"] == "Gone fishing"

    # The days of workWeek given replace theirs; the others keep their hours.
    saturday = {"startTime": 600, "endTime": 720, "enabled": True}
    patched = await stack.http.patch(f"{WH}/{created['id']}", json={
        "workWeek": {"SATURDAY": saturday}, "enabled": False, "sendAwayMessageEveryOOWHPeriod": True})
    assert patched.status_code == 200, patched.text
    answer = patched.json()
    assert in_day(answer["workWeek"]["SATURDAY"]) == saturday
    assert {day: answer["workWeek"][day] for day in WEEKDAYS} == {day: created["workWeek"][day] for day in WEEKDAYS}
    assert (answer["enabled"], answer["sendAwayMessageEveryOOWHPeriod"], answer["closeConversations"],
            answer["message"], answer["holidays"]) == (False, True, True, "Gone fishing", created["holidays"])

    # holidays replace the list; an empty PATCH changes nothing but updatedAt.
    patched = await stack.http.patch(f"{WH}/{created['id']}", json={"holidays": []})
    assert patched.status_code == 200 and patched.json()["holidays"] == []
    before = await fetch(stack.http, created["id"])
    empty = await stack.http.patch(f"{WH}/{created['id']}", json={})
    assert empty.status_code == 200, empty.text
    assert {**empty.json(), "updatedAt": None} == {**before, "updatedAt": None}

    # null is no value of these fields: refused at the field, nothing saved.
    for field in ("name", "timezone", "message", "workWeek", "enabled", "isDefault", "holidays",
                  "sendAwayMessageEveryOOWHPeriod"):
        assert_error(await stack.http.patch(f"{WH}/{created['id']}", json={"name": "x", field: None}),
                     400, "BAD_REQUEST", field)
    assert_error(await stack.http.patch(f"{WH}/{created['id']}", json={"workWeek": {"MONDAY": None}}),
                 400, "BAD_REQUEST", "workWeek.MONDAY")
    assert await fetch(stack.http, created["id"]) == empty.json()


async def test_holidays_are_added_and_removed(stack: Stack):
    created = await create_hours(stack.http)
    url = f"{WH}/{created['id']}/holiday"
    # Infobip's HolidaysApiModel; without id one is made, without endDate it is one day.
    added = await stack.http.post(url, json={"name": "Statehood Day", "startDate": "2026-05-30"})
    assert added.status_code == 200, added.text
    assert set(added.json()) == FIELDS and added.json()["id"] == created["id"]
    [first] = added.json()["holidays"]
    assert UUID.match(first["id"])
    assert first == {"id": first["id"], "name": "Statehood Day", "startDate": "2026-05-30",
                     "endDate": "2026-05-30", "enabled": True}
    second = {"id": "xmas-2026", "name": "Christmas", "startDate": "2026-12-24", "endDate": "2026-12-26",
              "enabled": False}
    added = await stack.http.post(url, json=second)
    assert added.status_code == 200, added.text
    assert added.json()["holidays"] == [first, second]
    assert (await fetch(stack.http, created["id"]))["holidays"] == [first, second]

    # Refusals change nothing: an id taken, an end before the start, a date not yyyy-MM-dd.
    assert_error(await stack.http.post(url, json={**second, "name": "Again"}), 409, "CONFLICT", "id")
    assert_error(await stack.http.post(url, json={"name": "x", "startDate": "2026-05-02", "endDate": "2026-05-01"}),
                 400, "BAD_REQUEST", "endDate")
    for bad in ("30.05.2026", "2026-5-30", "2026-02-30", "2026-05-30T00:00:00", 20260530):
        assert_error(await stack.http.post(url, json={"name": "x", "startDate": bad}), 400, "BAD_REQUEST", "startDate")
    assert_error(await stack.http.post(url, json={"startDate": "2026-05-30"}), 400, "BAD_REQUEST", "name")
    # An id is a path segment of the holiday's DELETE: no slash.
    assert_error(await stack.http.post(url, json={**second, "id": "2026/xmas"}), 400, "BAD_REQUEST", "id")
    assert_error(await stack.http.post(f"{WH}/nope/holiday", json=second), 404, "NOT_FOUND")
    assert (await fetch(stack.http, created["id"]))["holidays"] == [first, second]

    removed = await stack.http.delete(f"{url}/xmas-2026")
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"statusCode": "SUCCESS", "message": "Holiday removed"}
    assert (await fetch(stack.http, created["id"]))["holidays"] == [first]
    assert_error(await stack.http.delete(f"{url}/xmas-2026"), 404, "NOT_FOUND")
    assert_error(await stack.http.delete(f"{WH}/nope/holiday/{first['id']}"), 404, "NOT_FOUND")
    assert (await stack.http.delete(f"{url}/{first['id']}")).status_code == 200
    assert (await fetch(stack.http, created["id"]))["holidays"] == []


async def defaults(http: httpx.AsyncClient) -> list[str]:
    response = await http.get(WH, params={"isDefault": True, "limit": 999})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["workingHours"]]


async def test_one_default_at_a_time(stack: Stack):
    first = await create_hours(stack.http, isDefault=True)
    assert await defaults(stack.http) == [first["id"]]
    second = await create_hours(stack.http, isDefault=True)
    assert second["isDefault"] is True
    assert await defaults(stack.http) == [second["id"]]
    assert (await fetch(stack.http, first["id"]))["isDefault"] is False

    patched = await stack.http.patch(f"{WH}/{first['id']}", json={"isDefault": True})
    assert patched.status_code == 200 and patched.json()["isDefault"] is True
    assert await defaults(stack.http) == [first["id"]]
    put = await stack.http.put(f"{WH}/{second['id']}", json=hours_body(isDefault=True))
    assert put.status_code == 200 and put.json()["isDefault"] is True
    assert await defaults(stack.http) == [second["id"]]
    # The default made the default again stays the default; one made not the default leaves none.
    assert (await stack.http.patch(f"{WH}/{second['id']}", json={"isDefault": True})).status_code == 200
    assert await defaults(stack.http) == [second["id"]]
    assert (await stack.http.patch(f"{WH}/{second['id']}", json={"isDefault": False})).status_code == 200
    assert await defaults(stack.http) == []

    # Made the default at once: each change takes its turn, the last one is the default.
    many = [await create_hours(stack.http) for _ in range(5)]
    answers = await asyncio.gather(*(stack.http.patch(f"{WH}/{hours['id']}", json={"isDefault": True})
                                     for hours in many))
    assert [answer.status_code for answer in answers] == [200] * 5, [answer.text for answer in answers]
    assert len(await defaults(stack.http)) == 1


async def test_a_queue_keeps_its_own_hours_else_the_default_else_none(stack: Stack):
    own = await create_hours(stack.http, workWeek=week(SATURDAY=NINE_TO_FIVE))
    queue = await create_queue(stack.http, workingHoursId=own["id"])
    unknown = await create_queue(stack.http, workingHoursId="no-such-hours")
    plain = await create_queue(stack.http)

    def hours(queue_id: str) -> tuple[str, bool] | None:
        """The zone of the queue's hours and whether they open on a Saturday, or None."""
        session: Session
        with session_scope(stack.engine) as session:
            row = session.get(QueueRow, queue_id)
            assert row is not None
            found = hours_of_queue(session, row)
        if found is None:
            return None
        return found.timezone, found.work_week[Weekday.SATURDAY].enabled

    assert hours(queue["id"]) == ("Europe/Zagreb", True)
    assert hours(unknown["id"]) is None and hours(plain["id"]) is None
    default = await create_hours(stack.http, timezone="America/New_York", isDefault=True)
    assert hours(queue["id"]) == ("Europe/Zagreb", True)
    assert hours(unknown["id"]) == hours(plain["id"]) == ("America/New_York", False)
    # Disabled hours are not in force: the queue falls back to the default, then to none.
    assert (await stack.http.patch(f"{WH}/{own['id']}", json={"enabled": False})).status_code == 200
    assert hours(queue["id"]) == ("America/New_York", False)
    assert (await stack.http.patch(f"{WH}/{default['id']}", json={"enabled": False})).status_code == 200
    assert hours(queue["id"]) is None and hours(plain["id"]) is None


async def test_hours_a_queue_uses_cannot_be_deleted(stack: Stack):
    created = await create_hours(stack.http)
    first = await create_queue(stack.http, workingHoursId=created["id"])
    second = await create_queue(stack.http, workingHoursId=created["id"])
    refused = assert_error(await stack.http.delete(f"{WH}/{created['id']}"), 409, "CONFLICT")
    assert "2 queue(s)" in refused["text"]
    assert (await stack.http.put(f"/ccaas/1/queues/{first['id']}", json={"workingHoursId": None})).status_code == 200
    refused = assert_error(await stack.http.delete(f"{WH}/{created['id']}"), 409, "CONFLICT")
    assert "1 queue(s)" in refused["text"]
    assert await fetch(stack.http, created["id"]) == created
    # A deleted queue uses nothing.
    assert (await stack.http.delete(f"/ccaas/1/queues/{second['id']}")).status_code == 200
    assert (await stack.http.delete(f"{WH}/{created['id']}")).status_code == 200


def zagreb(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZAGREB)


async def test_status_at_fixed_instants(stack: Stack):
    now = [zagreb(2026, 11, 30, 10, 0)]
    split = {"enabled": True, "intervals": [{"startTime": 8 * 60, "endTime": 12 * 60},
                                            {"startTime": 13 * 60, "endTime": 17 * 60}]}
    async with client(stack, clock=lambda: now[0]) as http:
        created = await create_hours(http, workWeek=week(TUESDAY=split), holidays=[
            {"name": "Christmas", "startDate": "2026-12-25", "endDate": "2026-12-26"}])
        status_url = f"{WH}/{created['id']}/status"

        async def status_at(*parts: int) -> dict[str, Any]:
            now[0] = zagreb(*parts)
            response = await http.get(status_url)
            assert response.status_code == 200, response.text
            return response.json()

        def utc(*parts: int) -> str:
            return zagreb(*parts).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

        # Monday 10:00 in Zagreb (09:00 UTC): inside until 17:00 there.
        assert await status_at(2026, 11, 30, 10, 0) == {
            "status": "INSIDE_OF_WORKING_HOURS", "nextChangeAt": utc(2026, 11, 30, 17, 0)}
        assert (await status_at(2026, 11, 30, 17, 0))["status"] == "OUTSIDE_OF_WORKING_HOURS"
        # Sunday 03:00: outside until Monday 09:00.
        assert await status_at(2026, 11, 29, 3, 0) == {
            "status": "OUTSIDE_OF_WORKING_HOURS", "nextChangeAt": utc(2026, 11, 30, 9, 0)}
        # Christmas Friday 10:00: a holiday, closed through Saturday, open again on Monday.
        assert await status_at(2026, 12, 25, 10, 0) == {
            "status": "OUTSIDE_OF_WORKING_HOURS", "nextChangeAt": utc(2026, 12, 28, 9, 0)}
        # A split shift's lunch break.
        assert (await status_at(2026, 12, 1, 12, 30)) == {
            "status": "OUTSIDE_OF_WORKING_HOURS", "nextChangeAt": utc(2026, 12, 1, 13, 0)}
        assert (await status_at(2026, 12, 1, 8, 0))["status"] == "INSIDE_OF_WORKING_HOURS"
        # The Mondays after the clocks change (29 March: UTC+2 from then; 25 October: back to
        # UTC+1): nine to five in Zagreb, whatever that is in UTC.
        for day in ((2026, 3, 30), (2026, 10, 26)):
            assert (await status_at(*day, 8, 59))["status"] == "OUTSIDE_OF_WORKING_HOURS"
            assert await status_at(*day, 9, 0) == {
                "status": "INSIDE_OF_WORKING_HOURS", "nextChangeAt": utc(*day, 17, 0)}
            assert (await status_at(*day, 16, 59))["status"] == "INSIDE_OF_WORKING_HOURS"
        assert utc(2026, 3, 30, 9, 0) == "2026-03-30T07:00:00.000Z"
        assert utc(2026, 10, 26, 9, 0) == "2026-10-26T08:00:00.000Z"

        # Disabled hours govern no queue but still say what they would.
        assert (await http.patch(f"{WH}/{created['id']}", json={"enabled": False})).status_code == 200
        assert (await status_at(2026, 11, 30, 10, 0))["status"] == "INSIDE_OF_WORKING_HOURS"
        # A week with no open day never changes.
        closed = {day: CLOSED for day in week()}
        assert (await http.patch(f"{WH}/{created['id']}", json={"workWeek": closed})).status_code == 200
        assert await status_at(2026, 11, 30, 10, 0) == {"status": "OUTSIDE_OF_WORKING_HOURS", "nextChangeAt": None}

    # The real clock by default.
    live = await stack.http.get(f"{WH}/{(await create_hours(stack.http))['id']}/status")
    assert live.status_code == 200, live.text
    assert live.json()["status"] in ("INSIDE_OF_WORKING_HOURS", "OUTSIDE_OF_WORKING_HOURS")


def without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


def changed(body: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    body = copy.deepcopy(body)
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


HOLIDAY = {"name": "Christmas", "startDate": "2026-12-25", "endDate": "2026-12-26"}
GOOD = hours_body(holidays=[HOLIDAY])
# Each body and the field its 400 names.
BAD: list[tuple[dict[str, Any], str]] = [
    (changed(GOOD, "Mars/Olympus_Mons", "timezone"), "timezone"),
    (changed(GOOD, "../../etc/passwd", "timezone"), "timezone"),
    (changed(GOOD, "", "timezone"), "timezone"),
    (without(GOOD, "timezone"), "timezone"),
    (without(GOOD, "workWeek", "SUNDAY"), "workWeek.SUNDAY"),
    (without(GOOD, "workWeek"), "workWeek"),
    (changed(GOOD, {"enabled": True}, "workWeek", "FUNDAY"), "workWeek.FUNDAY"),
    (changed(GOOD, {"startTime": 17 * 60, "endTime": 9 * 60, "enabled": True}, "workWeek", "MONDAY"),
     "workWeek.MONDAY.startTime"),
    (changed(GOOD, {"startTime": 600, "endTime": 600}, "workWeek", "MONDAY"), "workWeek.MONDAY.startTime"),
    (changed(GOOD, {"intervals": [{"startTime": 480, "endTime": 720}, {"startTime": 700, "endTime": 1020}]},
             "workWeek", "TUESDAY"), "workWeek.TUESDAY.intervals"),
    (changed(GOOD, {"intervals": [{"startTime": 720, "endTime": 480}]}, "workWeek", "TUESDAY"),
     "workWeek.TUESDAY.intervals"),
    (changed(GOOD, -1, "workWeek", "MONDAY", "startTime"), "workWeek.MONDAY.startTime"),
    (changed(GOOD, 1441, "workWeek", "MONDAY", "endTime"), "workWeek.MONDAY.endTime"),
    (changed(GOOD, 540.5, "workWeek", "MONDAY", "startTime"), "workWeek.MONDAY.startTime"),
    (changed(GOOD, "540", "workWeek", "MONDAY", "startTime"), "workWeek.MONDAY.startTime"),
    (changed(GOOD, True, "workWeek", "MONDAY", "startTime"), "workWeek.MONDAY.startTime"),
    (changed(GOOD, [{"startTime": 0, "endTime": 1441}], "workWeek", "WEDNESDAY", "intervals"),
     "workWeek.WEDNESDAY.intervals[0].endTime"),
    (changed(GOOD, "yes", "workWeek", "MONDAY", "enabled"), "workWeek.MONDAY.enabled"),
    (changed(GOOD, "2026-12-24", "holidays", 0, "endDate"), "holidays[0].endDate"),
    (changed(GOOD, "25.12.2026", "holidays", 0, "startDate"), "holidays[0].startDate"),
    (changed(GOOD, "2026-02-30", "holidays", 0, "startDate"), "holidays[0].startDate"),
    (changed(GOOD, [{**HOLIDAY, "id": "h"}, {**HOLIDAY, "id": "h"}], "holidays"), "holidays[1].id"),
    (changed(GOOD, "a/b", "holidays", 0, "id"), "holidays[0].id"),
    (changed(GOOD, "", "name"), "name"),
    (changed(GOOD, "   ", "name"), "name"),
    (changed(GOOD, "n" * 256, "name"), "name"),
    (changed(GOOD, " " + "n" * 255, "name"), "name"),  # its length as sent: padding counts
    (changed(GOOD, " " * 60 + "Europe/Zagreb", "timezone"), "timezone"),
    (without(GOOD, "name"), "name"),
    (without(GOOD, "message"), "message"),
    (changed(GOOD, "", "message"), "message"),
    (changed(GOOD, "m" * 4097, "message"), "message"),
    (changed(GOOD, "yes", "isDefault"), "isDefault"),
    (changed(GOOD, "red", "colour"), "colour"),
]


async def test_bad_input_is_refused_at_the_field_and_nothing_is_saved(stack: Stack):
    existing = await create_hours(stack.http, holidays=[HOLIDAY])
    count = await total(stack.http)
    for body, field in BAD:
        assert_error(await stack.http.post(WH, json=body), 400, "BAD_REQUEST", field)
        assert_error(await stack.http.put(f"{WH}/{existing['id']}", json=body), 400, "BAD_REQUEST", field)
        # A PATCH needs no field (nor every day of the week), but one it is given must be right.
        top = re.split(r"[.\[]", field)[0]
        if top in body and field != "workWeek.SUNDAY":
            assert_error(await stack.http.patch(f"{WH}/{existing['id']}", json={top: body[top]}),
                         400, "BAD_REQUEST", field)
    assert await total(stack.http) == count
    assert await fetch(stack.http, existing["id"]) == existing
    # The good body is good (so each refusal above was its one change's).
    assert (await stack.http.post(WH, json=GOOD)).status_code == 201


async def test_agents_read_but_do_not_change(stack: Stack):
    created = await create_hours(stack.http, holidays=[{"id": "h1", **HOLIDAY}])
    agent = await stack.http.post("/ccaas/1/agents", json={"displayName": unique("agent")})
    assert agent.status_code == 201, agent.text
    async with client(stack, agent.json()["apiKey"]) as http:
        for url in (WH, f"{WH}/{created['id']}", f"{WH}/{created['id']}/status"):
            response = await http.get(url)
            assert response.status_code == 200, (url, response.text)
        for method, url, body in [
            ("POST", WH, hours_body()), ("PUT", f"{WH}/{created['id']}", hours_body()),
            ("PATCH", f"{WH}/{created['id']}", {"name": "Mine"}), ("DELETE", f"{WH}/{created['id']}", None),
            ("POST", f"{WH}/{created['id']}/holiday", HOLIDAY), ("DELETE", f"{WH}/{created['id']}/holiday/h1", None),
        ]:
            assert_error(await http.request(method, url, json=body), 403, "FORBIDDEN")
    assert await fetch(stack.http, created["id"]) == created
    assert await total(stack.http) == 1

