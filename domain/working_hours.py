"""Working hours: whether a queue is open at an instant, and when that next changes.

Hours are wall-clock times in an IANA time zone, so a day of 09:00-17:00 is that on the
daylight-saving days too (seven hours of UTC on one, nine on the other). A day's times are
minutes after midnight; `endTime` 1440 is the midnight that ends the day. A day holds one
interval (`startTime`-`endTime`, Infobip's) or several (`intervals`, ours, for split
shifts). A holiday closes whole local dates, its end date included.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, Field

MINUTES_A_DAY = 1440
# How far ahead the next boundary is looked for: a year of holidays and closed weekdays.
LOOK_AHEAD_DAYS = 400


class Weekday(str, Enum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


WEEK = list(Weekday)  # date.weekday() order


class Interval(BaseModel):
    start_time: int = Field(ge=0, le=MINUTES_A_DAY)
    end_time: int = Field(ge=0, le=MINUTES_A_DAY)


class DayHours(BaseModel):
    enabled: bool = True
    start_time: int = Field(default=0, ge=0, le=MINUTES_A_DAY)
    end_time: int = Field(default=MINUTES_A_DAY, ge=0, le=MINUTES_A_DAY)
    intervals: list[Interval] | None = None

    def open_intervals(self) -> list[tuple[int, int]]:
        if not self.enabled:
            return []
        if self.intervals:
            return sorted((interval.start_time, interval.end_time) for interval in self.intervals)
        return [(self.start_time, self.end_time)]


class Holiday(BaseModel):
    id: str
    name: str
    start_date: date
    end_date: date
    enabled: bool = True

    def covers(self, day: date) -> bool:
        return self.enabled and self.start_date <= day <= self.end_date


class Hours(BaseModel):
    """What deciding open or closed needs of a working-hours resource."""

    timezone: str
    work_week: dict[Weekday, DayHours]
    holidays: list[Holiday] = Field(default_factory=list)


def zone_problem(name: str) -> str | None:
    if name not in _zones():
        return f"{name!r} is not an IANA time zone (e.g. Europe/Zagreb)"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{name!r} is not an IANA time zone (e.g. Europe/Zagreb)"
    return None


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def week_problems(work_week: dict[Weekday, DayHours]) -> dict[str, str]:
    """Field path -> what is wrong: a day missing, start after end, overlapping intervals."""
    problems: dict[str, str] = {}
    for day in Weekday:
        hours = work_week.get(day)
        if hours is None:
            problems[f"workWeek.{day.value}"] = "every day of the week must be given"
            continue
        if hours.intervals:
            ordered = sorted(hours.intervals, key=lambda interval: interval.start_time)
            for index, interval in enumerate(ordered):
                if interval.start_time >= interval.end_time:
                    problems[f"workWeek.{day.value}.intervals"] = "each startTime must be before its endTime"
                elif index and interval.start_time < ordered[index - 1].end_time:
                    problems[f"workWeek.{day.value}.intervals"] = "intervals must not overlap"
        elif hours.enabled and hours.start_time >= hours.end_time:
            problems[f"workWeek.{day.value}.startTime"] = "must be before endTime"
    return problems


def holiday_problem(holiday: Holiday) -> str | None:
    if holiday.end_date < holiday.start_date:
        return "endDate must not be before startDate"
    return None


def _local_intervals(hours: Hours, zone: ZoneInfo, day: date) -> list[tuple[datetime, datetime]]:
    """The day's open intervals as instants (UTC-aware), none on a holiday."""
    if any(holiday.covers(day) for holiday in hours.holidays):
        return []
    day_hours = hours.work_week.get(WEEK[day.weekday()])
    if day_hours is None:
        return []
    midnight = datetime.combine(day, time(0))
    return [
        (_instant(midnight + timedelta(minutes=start), zone), _instant(midnight + timedelta(minutes=end), zone))
        for start, end in day_hours.open_intervals()
        if start < end
    ]


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in the zone as an aware instant. A time the spring change skips
    (02:30 when clocks go from 02:00 to 03:00) is the instant that wall time would have been
    without the change, an hour after the change began (so 03:30): the same as an opening at
    03:30, never earlier than the change. In UTC: aware datetimes that share a zone compare
    by wall time, which would put 02:30 and 03:30 on that day an hour apart."""
    return wall.replace(tzinfo=zone).astimezone(UTC)


def is_open(hours: Hours, at: datetime) -> bool:
    zone = ZoneInfo(hours.timezone)
    local_day = at.astimezone(zone).date()
    # The day before too: nothing runs past midnight (1440 ends the day), but a local day's
    # instants may straddle UTC days.
    for day in (local_day - timedelta(days=1), local_day):
        if any(start <= at < end for start, end in _local_intervals(hours, zone, day)):
            return True
    return False


def next_boundary(hours: Hours, at: datetime) -> datetime | None:
    """The next boundary after `at`: the instant at which open becomes closed or closed
    becomes open, or None if there is none within LOOK_AHEAD_DAYS. Adjacent intervals (one
    ending at 1440, the next day's starting at 0) are one opening."""
    zone = ZoneInfo(hours.timezone)
    now_open = is_open(hours, at)
    first_day = at.astimezone(zone).date() - timedelta(days=1)
    # Days come in order and each day's intervals lie within it, so boundaries do too.
    for offset in range(LOOK_AHEAD_DAYS):
        for start, end in _local_intervals(hours, zone, first_day + timedelta(days=offset)):
            for boundary in (start, end):
                if boundary > at and is_open(hours, boundary) != now_open:
                    return boundary
    return None


def open_spans(hours: Hours, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The open time within [start, end) as disjoint spans in order, adjacent and overlapping
    intervals merged (a day ending at 1440 and the next starting at 0 are one span; a
    skipped wall time can make a day's intervals overlap as instants). The same instants
    `is_open` calls open. Work grows with the local days between start and end."""
    zone = ZoneInfo(hours.timezone)
    start, end = start.astimezone(UTC), end.astimezone(UTC)  # shared zones compare by wall time
    first_day, last_day = start.astimezone(zone).date() - timedelta(days=1), end.astimezone(zone).date()
    clipped = sorted(
        (max(open_, start), min(close, end))
        for offset in range((last_day - first_day).days + 1)
        for open_, close in _local_intervals(hours, zone, first_day + timedelta(days=offset))
        if max(open_, start) < min(close, end)
    )
    merged: tuple[datetime, datetime] | None = None
    for open_, close in clipped:
        if merged is not None and open_ <= merged[1]:
            merged = (merged[0], max(merged[1], close))
            continue
        if merged is not None:
            yield merged
        merged = (open_, close)
    if merged is not None:
        yield merged


def next_opening(hours: Hours, at: datetime) -> datetime | None:
    """When the hours next open after `at`: None if they are open now, or never open within
    LOOK_AHEAD_DAYS."""
    if is_open(hours, at):
        return None
    return next_boundary(hours, at)


class ClockStart(BaseModel):
    """The working-hours clock's input (workflows.working_hours_clock). Nothing yet: the
    clock decides everything from the store at each round."""
