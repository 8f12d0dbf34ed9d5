"""Auto-assignment outside working hours, with the real worker, its dispatcher and its
working-hours clock (SQLite and PostgreSQL): the dispatcher reads the hours' stored status,
so a queue stored closed assigns nothing while another queue of the same agent does; the
clock's activity turning it open resumes assignment with no one acting on the queue; and
every save stores the status at the API's clock, even with no clock workflow to tell."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowExecutionStatus

from domain.models import as_utc
from store.bootstrap import bootstrap
from store.db import session_scope
from store.tables import WorkingHoursRow
from switchboard.composition import api_app
from tests.conftest import Stack
from tests.helpers import create_conversation, create_queue, wait_for
from tests.integration.test_assignment_api import assigned_to, new_agent, not_assigned_after_a_pass
from tests.integration.test_working_hours_api import WH, create_hours, week
from tests.settings import stack_settings
from workflows.working_hours_clock import WorkingHoursClock, clock_workflow_id

ZAGREB = ZoneInfo("Europe/Zagreb")
ALL_DAY = {"startTime": 0, "endTime": 1440, "enabled": True}
EVERY_DAY = week(**{day: ALL_DAY for day in week()})


def around_today() -> dict[str, str]:
    """A holiday over yesterday, today and tomorrow in Zagreb: closed now, whatever the hour,
    with no change due while the test runs."""
    today = datetime.now(ZAGREB).date()
    return {"name": "Closed for the test", "startDate": (today - timedelta(days=1)).isoformat(),
            "endDate": (today + timedelta(days=1)).isoformat()}


def stored(engine: Engine, hours_id: str) -> WorkingHoursRow:
    with session_scope(engine) as session:
        row = session.get(WorkingHoursRow, hours_id)
        assert row is not None
        return row


async def test_a_queue_stored_closed_waits_and_the_clock_opening_it_resumes_assignment(stack: Stack):
    hours = await create_hours(stack.http, workWeek=EVERY_DAY, holidays=[around_today()])
    assert not stored(stack.engine, hours["id"]).is_open  # stored at the save
    closed = await create_queue(stack.http, isAutoAssignmentEnabled=True, workingHoursId=hours["id"])
    always = await create_queue(stack.http, isAutoAssignmentEnabled=True)
    await new_agent(stack, [closed["id"], always["id"]], capacity=5)

    waiting = await create_conversation(stack.http, queueId=closed["id"])
    control = await create_conversation(stack.http, queueId=always["id"])

    async def control_assigned() -> str | None:
        return await assigned_to(stack, control["id"])

    # The control is assigned, so the agent may take work; a pass after both were placed
    # leaves the other: its hours are stored closed.
    await wait_for(control_assigned)
    await not_assigned_after_a_pass(stack, waiting)

    # The hours change behind the API's back (no status stored), and the clock the worker
    # started is told: its activity decides them open and wakes the dispatcher.
    clock = stack.temporal.get_workflow_handle(clock_workflow_id(stack.task_queue))
    assert (await clock.describe()).status == WorkflowExecutionStatus.RUNNING
    with session_scope(stack.engine) as session:
        row = session.get(WorkingHoursRow, hours["id"])
        assert row is not None
        row.holidays = []
        session.add(row)
    opened_after = datetime.now(UTC)
    await clock.signal(WorkingHoursClock.hours_edited)

    async def waiting_assigned() -> str | None:
        return await assigned_to(stack, waiting["id"])

    await wait_for(waiting_assigned)
    row = stored(stack.engine, hours["id"])
    assert row.is_open and row.status_changed_at is not None
    assert as_utc(row.status_changed_at) >= opened_after - timedelta(seconds=1)


async def test_an_edit_through_the_api_resumes_assignment_at_once(stack: Stack):
    hours = await create_hours(stack.http, workWeek=EVERY_DAY, holidays=[around_today()])
    queue = await create_queue(stack.http, isAutoAssignmentEnabled=True, workingHoursId=hours["id"])
    agent = await new_agent(stack, [queue["id"]])
    waiting = await create_conversation(stack.http, queueId=queue["id"])
    await not_assigned_after_a_pass(stack, waiting)

    holiday_id = hours["holidays"][0]["id"]
    removed = await stack.http.delete(f"{WH}/{hours['id']}/holiday/{holiday_id}")
    assert removed.status_code == 200, removed.text
    assert stored(stack.engine, hours["id"]).is_open

    async def assigned() -> bool:
        return await assigned_to(stack, waiting["id"]) == agent["id"]

    await wait_for(assigned)


@asynccontextmanager
async def api_at(
    engine: Engine, database_url: str, temporal: Client, clock: Callable[[], datetime],
) -> AsyncIterator[httpx.AsyncClient]:
    """The API alone, whose "now" is `clock`, on a task queue no worker serves: no clock
    workflow exists to be told of an edit."""
    key = bootstrap(engine)
    app = api_app(stack_settings(database_url, f"no-clock-{uuid.uuid4()}"), engine, temporal, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://switchboard.test",
                                 headers={"Authorization": f"App {key}"}) as http:
        yield http


def zagreb(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZAGREB)


async def test_every_save_stores_the_status_at_the_api_clock(
    engine: Engine, database_url: str, temporal_client: Client,
):
    saturday, monday = date(2026, 11, 28), date(2026, 11, 30)
    now = [zagreb(saturday, 12)]
    async with api_at(engine, database_url, temporal_client, lambda: now[0]) as http:

        def status() -> tuple[bool, datetime | None]:
            row = stored(engine, created["id"])
            return row.is_open, as_utc(row.status_changed_at) if row.status_changed_at else None

        created = await create_hours(http)  # weekdays nine to five
        assert status() == (False, zagreb(saturday, 12))
        url = f"{WH}/{created['id']}"

        now[0] = zagreb(monday, 10)
        assert (await http.patch(url, json={"message": "Back soon"})).status_code == 200
        assert status() == (True, zagreb(monday, 10))
        # No change, no new date.
        now[0] = zagreb(monday, 11)
        assert (await http.patch(url, json={"name": "Office"})).status_code == 200
        assert status() == (True, zagreb(monday, 10))

        holiday = {"id": "today", "name": "Today", "startDate": monday.isoformat()}
        assert (await http.post(f"{url}/holiday", json=holiday)).status_code == 200
        assert status() == (False, zagreb(monday, 11))
        now[0] = zagreb(monday, 12)
        assert (await http.delete(f"{url}/holiday/today")).status_code == 200
        assert status() == (True, zagreb(monday, 12))

        now[0] = zagreb(monday, 13)
        closed_week = week(**{day: {"startTime": 0, "endTime": 0, "enabled": False} for day in week()})
        replaced = await http.put(url, json={**created, "workWeek": closed_week})
        assert replaced.status_code == 200, replaced.text
        assert status() == (False, zagreb(monday, 13))
        # The status question is still answered from the clock, not the stored status.
        assert (await http.get(f"{url}/status")).json()["status"] == "OUTSIDE_OF_WORKING_HOURS"
