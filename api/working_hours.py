"""/ccaas/1/working-hours: when queues are open, as Infobip documents the resource.

A week of days (`MONDAY`..`SUNDAY`, each `{startTime, endTime, enabled}` in minutes after
midnight, and ours: `intervals` for split shifts) in an IANA time zone, and holidays (whole
local dates, the end included). domain.working_hours decides open or closed with them;
store.working_hours says which hours a queue keeps.

Every save also stores the hours' status at the app's clock, so an edit pauses or resumes
auto-assignment at once, and then tells the working-hours clock of the task queue (a signal,
best effort: with Temporal down the edit stands, and the clock catches up at its next change
or the next worker's start), which decides again and sets its timer for the new hours."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, StringConstraints, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.deps import SessionDep
from api.errors import ApiError, bad_request, not_found
from api.paging import DEFAULT_LIMIT, order_by_param, page_of, parse_paging
from api.query_params import AFTER, BEFORE, QueryBool, within_times
from api.schemas import (
    ApiInput,
    ApiModel,
    IsoTime,
    Pagination,
    StatusCodeOut,
    UtcTime,
    not_nullable,
    pagination,
    read_only,
)
from domain.models import utcnow
from domain.working_hours import (
    MINUTES_A_DAY,
    DayHours,
    Holiday,
    Interval,
    Weekday,
    holiday_problem,
    is_open,
    next_boundary,
    week_problems,
    zone_problem,
)
from store import sla_policies as policy_store
from store import working_hours as hours_store
from store.tables import WorkingHoursRow
from workflows.working_hours_clock import WorkingHoursClock, clock_workflow_id

log = logging.getLogger("switchboard.api")
router = APIRouter(prefix="/ccaas/1/working-hours", tags=["working hours"])

# The auto-reply becomes a TEXT message: at most what one holds.
MAX_MESSAGE = 4096
# A day of half-hour shifts.
MAX_INTERVALS = 48
MAX_HOLIDAYS = 1000
MAX_HOLIDAY_ID = 64
# Every IANA zone name has this form (Europe/Zagreb, Etc/GMT+1, America/Port-au-Prince);
# whitespace around is trimmed.
ZONE_PATTERN = r"^\s*[A-Za-z][A-Za-z0-9_+/-]*\s*$"
DATE_FORM = re.compile(r"\d{4}-\d{2}-\d{2}")
# Infobip's name for the flag: its camelCase is not to_camel's.
SEND_AWAY = "sendAwayMessageEveryOOWHPeriod"
DEFAULT_TAKEN = "Other working hours were made the default at the same time; try again"
# How long telling the clock may take, after the answer: it is only a hint.
TELL_CLOCK_DEADLINE = timedelta(seconds=3)

Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Message = Annotated[str, StringConstraints(min_length=1, max_length=MAX_MESSAGE)]


def _known_zone(value: str) -> str:
    value = value.strip()
    problem = zone_problem(value)
    if problem:
        raise PydanticCustomError("time_zone", problem)
    return value


Timezone = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_known_zone),
    Field(json_schema_extra={"pattern": ZONE_PATTERN}, description="An IANA time zone, e.g. Europe/Zagreb"),
]


def _whole_number(value: Any) -> Any:
    """Minutes are a JSON number (609 or 609.0), never a string or a boolean."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "must be a whole number of minutes")
    return value


# The bounds before the validator, so that they reach the document as minimum and maximum.
Minutes = Annotated[
    int,
    Field(ge=0, le=MINUTES_A_DAY, description="Minutes after midnight, 0..1440 (1440: the midnight ending the day)"),
    BeforeValidator(_whole_number),
]


def _date_form(value: Any) -> Any:
    """Dates are `yyyy-MM-dd` strings (pydantic alone would take a number as Unix time)."""
    if not isinstance(value, str) or not DATE_FORM.fullmatch(value):
        raise PydanticCustomError("date_type", "must be a date as yyyy-MM-dd")
    return value


Day = Annotated[date, BeforeValidator(_date_form), WithJsonSchema({"type": "string", "format": "date"})]


# --- input ------------------------------------------------------------------------------------


class IntervalIn(ApiInput):
    start_time: Minutes
    end_time: Minutes


class DayIn(ApiInput):
    """Infobip's DailyWorkingHoursApiModel, and ours: `intervals` for a split shift, which then
    decide (and `startTime`/`endTime` are answered as their span)."""

    enabled: StrictBool = True
    start_time: Minutes = 0
    end_time: Minutes = MINUTES_A_DAY
    intervals: list[IntervalIn] | None = Field(
        default=None, max_length=MAX_INTERVALS,
        description="Ours: the day's open intervals (a split shift), which must not overlap",
    )


class WorkWeekIn(ApiInput):
    """Every day of the week."""

    monday: DayIn = Field(alias="MONDAY")
    tuesday: DayIn = Field(alias="TUESDAY")
    wednesday: DayIn = Field(alias="WEDNESDAY")
    thursday: DayIn = Field(alias="THURSDAY")
    friday: DayIn = Field(alias="FRIDAY")
    saturday: DayIn = Field(alias="SATURDAY")
    sunday: DayIn = Field(alias="SUNDAY")


class WorkWeekPatchIn(ApiInput):
    """The days given replace theirs; the others keep their hours."""

    monday: DayIn | None = Field(default=None, alias="MONDAY", json_schema_extra=not_nullable)
    tuesday: DayIn | None = Field(default=None, alias="TUESDAY", json_schema_extra=not_nullable)
    wednesday: DayIn | None = Field(default=None, alias="WEDNESDAY", json_schema_extra=not_nullable)
    thursday: DayIn | None = Field(default=None, alias="THURSDAY", json_schema_extra=not_nullable)
    friday: DayIn | None = Field(default=None, alias="FRIDAY", json_schema_extra=not_nullable)
    saturday: DayIn | None = Field(default=None, alias="SATURDAY", json_schema_extra=not_nullable)
    sunday: DayIn | None = Field(default=None, alias="SUNDAY", json_schema_extra=not_nullable)


class HolidayIn(ApiInput):
    """Infobip's HolidaysApiModel. Without `id` one is made; without `endDate` it is one day."""

    # No slash: the id is a path segment of DELETE /{id}/holiday/{holidayId}.
    id: str | None = Field(default=None, min_length=1, max_length=MAX_HOLIDAY_ID, pattern=r"^[^/]*[^/\s][^/]*$")
    name: Name
    start_date: Day
    end_date: Day | None = Field(default=None, description="Included; left out: the start date")
    enabled: StrictBool = True


class WorkingHoursIn(ApiInput):
    """Infobip's WorkingHoursApiRequest (POST and PUT: every field; one left out takes its
    default). A fetched object sent back is accepted: its answer-only fields are ignored."""

    name: Name
    timezone: Timezone
    message: Message = Field(description="The auto-reply outside these hours")
    work_week: WorkWeekIn
    enabled: StrictBool = True
    is_default: StrictBool = Field(default=False, description="The hours of every queue without its own")
    close_conversations: StrictBool = False
    send_away_message_every_oowh_period: StrictBool = Field(default=False, alias=SEND_AWAY)
    holidays: list[HolidayIn] = Field(default_factory=list, max_length=MAX_HOLIDAYS)
    id: str | None = read_only()
    created_at: IsoTime | None = read_only()
    updated_at: IsoTime | None = read_only()


class WorkingHoursPatchIn(ApiInput):
    """Only the fields given change (none may be null); `holidays` replaces the list, and the
    days of `workWeek` given replace theirs."""

    name: Name | None = Field(default=None, json_schema_extra=not_nullable)
    timezone: Timezone | None = Field(default=None, json_schema_extra=not_nullable)
    message: Message | None = Field(default=None, json_schema_extra=not_nullable)
    work_week: WorkWeekPatchIn | None = Field(default=None, json_schema_extra=not_nullable)
    enabled: StrictBool | None = Field(default=None, json_schema_extra=not_nullable)
    is_default: StrictBool | None = Field(default=None, json_schema_extra=not_nullable)
    close_conversations: StrictBool | None = Field(default=None, json_schema_extra=not_nullable)
    send_away_message_every_oowh_period: StrictBool | None = Field(
        default=None, alias=SEND_AWAY, json_schema_extra=not_nullable
    )
    holidays: list[HolidayIn] | None = Field(default=None, max_length=MAX_HOLIDAYS, json_schema_extra=not_nullable)
    id: str | None = read_only()
    created_at: IsoTime | None = read_only()
    updated_at: IsoTime | None = read_only()


# --- output -----------------------------------------------------------------------------------


class IntervalOut(ApiModel):
    start_time: int
    end_time: int


class DayOut(ApiModel):
    enabled: bool
    start_time: int
    end_time: int
    # Ours: the split shift's intervals in order, or null for one interval.
    intervals: list[IntervalOut] | None


class WorkWeekOut(ApiModel):
    monday: DayOut = Field(alias="MONDAY")
    tuesday: DayOut = Field(alias="TUESDAY")
    wednesday: DayOut = Field(alias="WEDNESDAY")
    thursday: DayOut = Field(alias="THURSDAY")
    friday: DayOut = Field(alias="FRIDAY")
    saturday: DayOut = Field(alias="SATURDAY")
    sunday: DayOut = Field(alias="SUNDAY")


class HolidayOut(ApiModel):
    id: str
    name: str
    start_date: date
    end_date: date
    enabled: bool


class WorkingHoursOut(ApiModel):
    id: str
    name: str
    timezone: str
    message: str
    work_week: WorkWeekOut
    enabled: bool
    is_default: bool
    close_conversations: bool
    send_away_message_every_oowh_period: bool = Field(alias=SEND_AWAY)
    holidays: list[HolidayOut]
    created_at: UtcTime
    updated_at: UtcTime


class WorkingHoursListOut(ApiModel):
    working_hours: list[WorkingHoursOut]
    pagination: Pagination


class WorkingHoursStatus(str, Enum):
    INSIDE_OF_WORKING_HOURS = "INSIDE_OF_WORKING_HOURS"
    OUTSIDE_OF_WORKING_HOURS = "OUTSIDE_OF_WORKING_HOURS"


class WorkingHoursStatusOut(ApiModel):
    status: WorkingHoursStatus
    # Ours: the next boundary, when the status next changes; null if not within
    # LOOK_AHEAD_DAYS (e.g. no open day). `nextChangeAt` is the API's field name: it stays.
    next_change_at: UtcTime | None


def working_hours_out(row: WorkingHoursRow) -> WorkingHoursOut:
    hours = hours_store.hours_of(row)

    def day_out(day: DayHours) -> DayOut:
        intervals = [IntervalOut.of(interval) for interval in day.intervals] if day.intervals else None
        return DayOut.of(day, intervals=intervals)

    return WorkingHoursOut.of(
        row,
        work_week=WorkWeekOut.model_validate({day.value: day_out(hours.work_week[day]) for day in Weekday}),
        holidays=[HolidayOut.of(holiday) for holiday in hours.holidays],
    )


# --- checks and writes ------------------------------------------------------------------------


def _day(given: DayIn) -> DayHours:
    """A day as the domain keeps it: intervals in order, and startTime/endTime their span."""
    if not given.intervals:
        return DayHours(enabled=given.enabled, start_time=given.start_time, end_time=given.end_time)
    intervals = sorted((Interval(start_time=i.start_time, end_time=i.end_time) for i in given.intervals),
                       key=lambda interval: (interval.start_time, interval.end_time))
    return DayHours(enabled=given.enabled, start_time=intervals[0].start_time,
                    end_time=max(interval.end_time for interval in intervals), intervals=intervals)


def _week(given: WorkWeekIn | WorkWeekPatchIn, current: dict[Weekday, DayHours]) -> dict[Weekday, DayHours]:
    week = dict(current)
    for day in Weekday:
        value = getattr(given, day.value.lower())
        if value is not None:
            week[day] = _day(value)
    return week


def _holiday(given: HolidayIn) -> Holiday:
    """A holiday as the domain keeps it: an id made if none is given, one day if no end."""
    return Holiday(id=given.id or str(uuid.uuid4()), name=given.name, start_date=given.start_date,
                   end_date=given.end_date or given.start_date, enabled=given.enabled)


def _holidays(given: list[HolidayIn]) -> tuple[list[Holiday], dict[str, list[str]]]:
    holidays: list[Holiday] = []
    errors: dict[str, list[str]] = {}
    ids: set[str] = set()
    for index, item in enumerate(given):
        holiday = _holiday(item)
        if holiday.id in ids:
            errors[f"holidays[{index}].id"] = ["is the id of another holiday of the list"]
        problem = holiday_problem(holiday)
        if problem:
            errors[f"holidays[{index}].endDate"] = [problem]
        ids.add(holiday.id)
        holidays.append(holiday)
    return holidays, errors


def _new_values(body: WorkingHoursIn | WorkingHoursPatchIn, fields: set[str],
                current: dict[Weekday, DayHours]) -> dict[str, Any]:
    """The row's new values for `fields` of `body`, checked (400 naming each field at fault)."""
    changes = body.model_dump(include=fields - {"work_week", "holidays"})
    errors: dict[str, list[str]] = {}
    for name, value in changes.items():
        if value is None:  # only a PATCH can say null: no field of these hours has that value
            errors[SEND_AWAY if name == "send_away_message_every_oowh_period" else to_camel(name)] = [
                "cannot be null"]
    if "work_week" in fields:
        if body.work_week is None:
            errors["workWeek"] = ["cannot be null"]
        else:
            errors |= {f"workWeek.{day.upper()}": ["cannot be null"] for day in body.work_week.model_fields_set
                       if getattr(body.work_week, day) is None}
            week = _week(body.work_week, current)
            errors |= {path: [message] for path, message in week_problems(week).items()}
            changes["work_week"] = {day.value: hours.model_dump(mode="json") for day, hours in week.items()}
    if "holidays" in fields:
        if body.holidays is None:
            errors["holidays"] = ["cannot be null"]
        else:
            holidays, problems = _holidays(body.holidays)
            errors |= problems
            changes["holidays"] = [holiday.model_dump(mode="json") for holiday in holidays]
    if errors:
        raise ApiError(400, "Bad request", errors)
    return changes


def _locked(session: Session, working_hours_id: str) -> WorkingHoursRow:
    """The row, for this transaction's edit (under store.working_hours.take_hours_lock)."""
    hours_store.take_hours_lock(session)
    row = session.get(WorkingHoursRow, working_hours_id)
    if row is None:
        raise not_found("Working hours")
    return row


class Saving:
    """What a save needs beyond the session: the app's clock, for the stored status, and the
    clock workflow to tell once the save is committed."""

    def __init__(self, request: Request, background: BackgroundTasks) -> None:
        self.now: datetime = request.app.state.clock()
        self._temporal: Client = request.app.state.temporal
        self._task_queue: str = request.app.state.task_queue
        self._background = background

    def tell_the_clock(self) -> None:
        """After the answer: the clock decides again, and waits for the new hours' change."""
        self._background.add_task(tell_the_clock, self._temporal, self._task_queue)


async def tell_the_clock(temporal: Client, task_queue: str) -> None:
    handle = temporal.get_workflow_handle(clock_workflow_id(task_queue))
    try:
        await asyncio.wait_for(handle.signal(WorkingHoursClock.hours_edited, rpc_timeout=TELL_CLOCK_DEADLINE),
                               TELL_CLOCK_DEADLINE.total_seconds())
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:  # NOT_FOUND: no worker has started one yet
            log.warning("working-hours clock not told of an edit: %s", error)
    except TimeoutError:
        log.warning("working-hours clock not told of an edit: no answer in %s", TELL_CLOCK_DEADLINE)


def _save(session: Session, row: WorkingHoursRow, changes: dict[str, Any], saving: Saving) -> WorkingHoursOut:
    """Applies the changes and their status at the app's clock, and commits; a row made the
    default takes over from the other. Then tells the clock."""
    now = utcnow()
    if changes.get("is_default"):
        # Before the row is flushed as the default: the unique index allows one at a time.
        hours_store.clear_default(session, row.id, now)
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now
    hours_store.decide_status(row, saving.now)
    session.add(row)
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise ApiError(409, DEFAULT_TAKEN, {"isDefault": ["another is the default"]}) from error
    saving.tell_the_clock()
    return working_hours_out(row)


# --- routes -----------------------------------------------------------------------------------

ORDERABLE = {
    "id": WorkingHoursRow.id, "name": WorkingHoursRow.name,
    "createdAt": WorkingHoursRow.created_at, "updatedAt": WorkingHoursRow.updated_at,
}


@router.get("", response_model=WorkingHoursListOut)
def list_working_hours(
    session: SessionDep,
    name: str | None = Query(default=None, max_length=255, description="Part of the name, any case"),
    enabled: QueryBool = None,
    is_default: Annotated[QueryBool, Query(alias="isDefault")] = None,
    created_after: IsoTime | None = Query(default=None, alias="createdAfter", description=AFTER),
    created_before: IsoTime | None = Query(default=None, alias="createdBefore", description=BEFORE),
    updated_after: IsoTime | None = Query(default=None, alias="updatedAfter", description=AFTER),
    updated_before: IsoTime | None = Query(default=None, alias="updatedBefore", description=BEFORE),
    page: int = 0,
    limit: int = DEFAULT_LIMIT,
    order_by: str | None = order_by_param(ORDERABLE),
):
    paging = parse_paging(page, limit, order_by, set(ORDERABLE), "createdAt:asc")
    query = select(WorkingHoursRow)
    if name:
        query = query.where(func.lower(WorkingHoursRow.name).contains(name.lower(), autoescape=True))
    if enabled is not None:
        query = query.where(WorkingHoursRow.enabled == enabled)
    if is_default is not None:
        query = query.where(WorkingHoursRow.is_default == is_default)
    query = within_times(query, [
        (WorkingHoursRow.created_at, created_after, created_before),
        (WorkingHoursRow.updated_at, updated_after, updated_before),
    ])
    rows, total = page_of(session, query, paging, col(ORDERABLE[paging.field]), col(WorkingHoursRow.id))
    return {
        "workingHours": [working_hours_out(row).model_dump(by_alias=True, mode="json") for row in rows],
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }


@router.post("", status_code=201, response_model=WorkingHoursOut)
def create_working_hours(
    body: WorkingHoursIn, session: SessionDep, saving: Saving = Depends()
) -> WorkingHoursOut:
    changes = _new_values(body, set(WorkingHoursIn.model_fields), {})
    hours_store.take_hours_lock(session)
    now = utcnow()
    # Not in the session until _save has cleared any other default.
    row = WorkingHoursRow(id=str(uuid.uuid4()), created_at=now, updated_at=now, **changes)
    return _save(session, row, changes, saving)


@router.get("/{working_hours_id}", response_model=WorkingHoursOut)
def get_working_hours(working_hours_id: str, session: SessionDep) -> WorkingHoursOut:
    row = session.get(WorkingHoursRow, working_hours_id)
    if row is None:
        raise not_found("Working hours")
    return working_hours_out(row)


@router.put("/{working_hours_id}", response_model=WorkingHoursOut)
def replace_working_hours(
    working_hours_id: str, body: WorkingHoursIn, session: SessionDep, saving: Saving = Depends()
) -> WorkingHoursOut:
    """Every field: one left out takes its default (`holidays` none)."""
    row = _locked(session, working_hours_id)
    return _save(session, row, _new_values(body, set(WorkingHoursIn.model_fields), {}), saving)


@router.patch("/{working_hours_id}", response_model=WorkingHoursOut)
def update_working_hours(
    working_hours_id: str, body: WorkingHoursPatchIn, session: SessionDep, saving: Saving = Depends()
) -> WorkingHoursOut:
    """Only the fields given; the days of `workWeek` given replace theirs, `holidays` the list."""
    row = _locked(session, working_hours_id)
    fields = body.model_fields_set - {"id", "created_at", "updated_at"}
    return _save(session, row, _new_values(body, fields, hours_store.hours_of(row).work_week), saving)


@router.delete("/{working_hours_id}", response_model=StatusCodeOut)
def delete_working_hours(working_hours_id: str, session: SessionDep) -> StatusCodeOut:
    """Refused (409) while a queue names these hours as its own, or an SLA policy counts in
    them: give them others first."""
    row = _locked(session, working_hours_id)
    queues = hours_store.live_queues_using(session, working_hours_id)
    if queues:
        raise ApiError(409, f"Working hours are used by {queues} queue(s)")
    if policies := policy_store.naming_working_hours(session, working_hours_id):
        raise ApiError(409, f"Working hours are those of the SLA policies {', '.join(policies)}")
    session.delete(row)
    session.commit()
    return StatusCodeOut(message="Working hours deleted")


@router.get("/{working_hours_id}/status", response_model=WorkingHoursStatusOut)
def working_hours_status(
    working_hours_id: str, request: Request, session: SessionDep
) -> WorkingHoursStatusOut:
    """Inside or outside these hours now, from their week and holidays, enabled or not (a
    disabled one governs no queue, see store.working_hours, but still says what it would)."""
    row = session.get(WorkingHoursRow, working_hours_id)
    if row is None:
        raise not_found("Working hours")
    hours = hours_store.hours_of(row)
    now = request.app.state.clock()
    status = (WorkingHoursStatus.INSIDE_OF_WORKING_HOURS if is_open(hours, now)
              else WorkingHoursStatus.OUTSIDE_OF_WORKING_HOURS)
    return WorkingHoursStatusOut(status=status, next_change_at=next_boundary(hours, now))


@router.post("/{working_hours_id}/holiday", response_model=WorkingHoursOut)
def add_holiday(
    working_hours_id: str, body: HolidayIn, session: SessionDep, saving: Saving = Depends()
) -> WorkingHoursOut:
    """Adds the holiday; answers the working hours with it (200, as Infobip)."""
    row = _locked(session, working_hours_id)
    holidays = hours_store.hours_of(row).holidays
    taken = {holiday.id for holiday in holidays}
    if body.id is not None and body.id in taken:
        raise ApiError(409, "These working hours have a holiday with this id", {"id": ["already in use"]})
    if len(holidays) >= MAX_HOLIDAYS:
        raise ApiError(409, f"Working hours hold at most {MAX_HOLIDAYS} holidays")
    holiday = _holiday(body)
    problem = holiday_problem(holiday)
    if problem:
        raise bad_request("endDate", problem)
    return _save(session, row, {"holidays": [*row.holidays, holiday.model_dump(mode="json")]}, saving)


@router.delete("/{working_hours_id}/holiday/{holiday_id}", response_model=StatusCodeOut)
def remove_holiday(
    working_hours_id: str, holiday_id: str, session: SessionDep, saving: Saving = Depends()
) -> StatusCodeOut:
    row = _locked(session, working_hours_id)
    kept = [holiday for holiday in row.holidays if holiday["id"] != holiday_id]
    if len(kept) == len(row.holidays):
        raise not_found("Holiday")
    _save(session, row, {"holidays": kept}, saving)
    return StatusCodeOut(message="Holiday removed")
