"""The working-hours clock on the time-skipping test server, with the real activity on a real
database (SQLite; PostgreSQL too where configured): a weekend passes in a moment of real time,
and the clock wakes exactly at Monday's opening, by one durable timer set on Friday."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.working_hours import REFRESH_ACTIVITY, StatusRefreshed, StatusRefreshRequest, WorkingHoursActivities
from domain.models import as_utc, utcnow
from domain.working_hours import DayHours, Holiday, Weekday
from store.db import migrate, session_scope
from store.tables import WorkingHoursRow
from tests.helpers import wait_for
from tests.workflows.test_conversation_timers import env
from workflows import working_hours_clock
from workflows.working_hours_clock import ClockStart, WorkingHoursClock, clock_workflow_id

__all__ = ["env"]  # a time-skipping server per test

ZAGREB = ZoneInfo("Europe/Zagreb")
WEEKEND = (Weekday.SATURDAY, Weekday.SUNDAY)
# Real seconds a step may take (the test server is quick; the margin is for a loaded machine).
DEADLINE = 30.0


def office_week() -> dict[str, object]:
    """Monday to Friday, 09:00-17:00."""
    return {day.value: DayHours(start_time=9 * 60, end_time=17 * 60, enabled=day not in WEEKEND).model_dump()
            for day in Weekday}


def add_hours(engine: Engine) -> str:
    """Office hours in Zagreb, stored open with no date: as migration 0010 leaves a row."""
    now = utcnow()
    row = WorkingHoursRow(id=str(uuid.uuid4()), name="office", timezone="Europe/Zagreb", message="closed",
                          work_week=office_week(), created_at=now, updated_at=now)
    with session_scope(engine) as session:
        session.add(row)
    return row.id


def stored(engine: Engine, hours_id: str) -> WorkingHoursRow:
    with session_scope(engine) as session:
        row = session.get(WorkingHoursRow, hours_id)
        assert row is not None
        return row


@dataclass
class RecordingActivities:
    """The real activity, and each instant the clock asked it about with what it answered."""

    engine: Engine
    calls: list[tuple[datetime, StatusRefreshed]] = field(default_factory=list)
    opened: int = 0

    def __post_init__(self) -> None:
        self.real = WorkingHoursActivities(self.engine, on_opened=self._opened)

    def _opened(self) -> None:
        self.opened += 1

    @activity.defn(name=REFRESH_ACTIVITY)
    def refresh(self, request: StatusRefreshRequest) -> StatusRefreshed:
        answer = self.real.refresh_working_hours_status(request)
        self.calls.append((request.at, answer))
        return answer

    async def calls_made(self, count: int) -> None:
        async def made() -> bool:
            return len(self.calls) >= count

        await wait_for(made, DEADLINE, interval=0.02)


@pytest.fixture
def db(engine: Engine) -> Engine:
    migrate(engine)
    return engine


def zagreb(day: datetime, hour: int) -> datetime:
    return datetime.combine(day.date(), time(hour), tzinfo=ZAGREB)


async def skip_to(env: WorkflowEnvironment, weekday: int, hour: int) -> datetime:
    """Lets the test server's time pass to the next `weekday` (0: Monday) at `hour` in Zagreb."""
    now = await env.get_current_time()
    local = now.astimezone(ZAGREB)
    target = zagreb(local + timedelta(days=(weekday - local.weekday()) % 7), hour)
    if target <= now:
        target = zagreb(target + timedelta(days=7), hour)
    await env.sleep(target - now)
    return target


def worker(env: WorkflowEnvironment, task_queue: str, activities: RecordingActivities) -> Worker:
    # The default (full) sandbox: a non-deterministic call in the clock fails here.
    return Worker(env.client, task_queue=task_queue, workflows=[WorkingHoursClock],
                  activities=[activities.refresh], activity_executor=ThreadPoolExecutor(max_workers=2))


async def start_clock(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle:
    return await env.client.start_workflow(
        WorkingHoursClock.run, ClockStart(), id=clock_workflow_id(task_queue), task_queue=task_queue,
    )


async def timers_started(handle: WorkflowHandle, count: int) -> list[timedelta]:
    """The durable timers the clock started, once it has started `count` (the activity's
    answer reaches the workflow a moment after the recording above saw it)."""

    async def started() -> list[timedelta] | None:
        history = await handle.fetch_history()
        timers = [event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
                  for event in history.events if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED]
        return timers if len(timers) >= count else None

    return await wait_for(started, DEADLINE, interval=0.02)


async def test_friday_evening_to_the_opening_at_09_00_on_monday_is_one_timer(env: WorkflowEnvironment, db: Engine):
    hours_id = add_hours(db)
    friday = await skip_to(env, 4, 18)
    monday = zagreb(friday + timedelta(days=3), 9)
    task_queue = f"clock-{uuid.uuid4()}"
    activities = RecordingActivities(db)
    async with worker(env, task_queue, activities):
        handle = await start_clock(env, task_queue)
        await activities.calls_made(1)
        [(at, answer)] = activities.calls
        assert friday <= at < friday + timedelta(minutes=1)
        # Closed since 17:00, and the next change is Monday's opening, exactly.
        assert (answer.opened, answer.closed, answer.next_change_at) == ([], [hours_id], monday)
        row = stored(db, hours_id)
        assert not row.is_open and as_utc(row.status_changed_at) == zagreb(friday, 17)  # type: ignore[arg-type]
        # One durable timer until then (set a moment after `at`): no wake-up on the weekend.
        [timer] = await timers_started(handle, 1)
        assert await handle.query(WorkingHoursClock.next_boundary_at) == monday
        assert monday - at - timedelta(seconds=5) < timer <= monday - at

        # The weekend passes (the test server skips it).
        await env.sleep(monday + timedelta(seconds=30) - await env.get_current_time())
        await activities.calls_made(2)
        assert len(activities.calls) == 2
        at, answer = activities.calls[1]
        assert monday <= at < monday + timedelta(seconds=30)
        assert (answer.opened, answer.closed, answer.next_change_at) == ([hours_id], [], zagreb(monday, 17))
        row = stored(db, hours_id)
        # Open, dated by the opening itself, and the worker's dispatcher was woken.
        assert row.is_open and as_utc(row.status_changed_at) == monday  # type: ignore[arg-type]
        assert activities.opened == 1
        [_, timer] = await timers_started(handle, 2)
        assert zagreb(monday, 17) - at - timedelta(seconds=5) < timer <= zagreb(monday, 17) - at


async def test_an_edit_signalled_is_decided_at_once_and_sets_the_next_timer(env: WorkflowEnvironment, db: Engine):
    hours_id = add_hours(db)
    monday = await skip_to(env, 0, 10)
    task_queue = f"clock-{uuid.uuid4()}"
    activities = RecordingActivities(db)
    async with worker(env, task_queue, activities):
        handle = await start_clock(env, task_queue)
        await activities.calls_made(1)
        assert activities.calls[0][1].next_change_at == zagreb(monday, 17)
        assert stored(db, hours_id).is_open
        await timers_started(handle, 1)  # waiting for 17:00

        # Today becomes a holiday (as an edit through the API saves it), and the clock is told.
        today = Holiday(id="h", name="Today", start_date=monday.date(), end_date=monday.date())
        with session_scope(db) as session:
            row = session.get(WorkingHoursRow, hours_id)
            assert row is not None
            row.holidays = [today.model_dump(mode="json")]
            session.add(row)
        told_at = await env.get_current_time()
        await handle.signal(WorkingHoursClock.hours_edited)
        await activities.calls_made(2)
        at, answer = activities.calls[1]
        # At once, not at 17:00 when the old timer would have fired.
        assert told_at <= at < told_at + timedelta(minutes=1)
        assert (answer.opened, answer.closed) == ([], [hours_id])
        tuesday = zagreb(monday + timedelta(days=1), 9)
        assert answer.next_change_at == tuesday
        assert not stored(db, hours_id).is_open
        [until_five, until_tuesday] = await timers_started(handle, 2)
        assert await handle.query(WorkingHoursClock.next_boundary_at) == tuesday
        assert until_five <= zagreb(monday, 17) - activities.calls[0][0]
        assert tuesday - at - timedelta(seconds=5) < until_tuesday <= tuesday - at


async def test_after_max_rounds_the_clock_continues_as_new_and_keeps_its_timer(
    env: WorkflowEnvironment, db: Engine, monkeypatch: pytest.MonkeyPatch
):
    """Unsandboxed, so the bound set here is the one the workflow reads: two rounds a run."""
    monkeypatch.setattr(working_hours_clock, "MAX_ROUNDS", 2)
    hours_id = add_hours(db)
    friday = await skip_to(env, 4, 18)
    task_queue = f"clock-{uuid.uuid4()}"
    activities = RecordingActivities(db)
    async with Worker(env.client, task_queue=task_queue, workflows=[WorkingHoursClock],
                      activities=[activities.refresh], activity_executor=ThreadPoolExecutor(max_workers=2),
                      workflow_runner=UnsandboxedWorkflowRunner()):
        handle = await start_clock(env, task_queue)
        first_run = (await handle.describe()).run_id
        await activities.calls_made(1)
        for made in (2, 3):
            await handle.signal(WorkingHoursClock.hours_edited)
            await activities.calls_made(made)
        # The third refresh is the new run's first, and it waits for Monday's opening again.
        assert (await handle.describe()).run_id != first_run
        monday = zagreb(friday + timedelta(days=3), 9)

        async def waits_for_monday() -> bool:
            return await handle.query(WorkingHoursClock.next_boundary_at) == monday

        await wait_for(waits_for_monday, DEADLINE)
        assert not stored(db, hours_id).is_open
