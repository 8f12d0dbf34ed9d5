"""Business time: durations counted only while working hours are open (SLA deadlines).

Open time is exactly what `working_hours.is_open` calls open, taken from
`working_hours.open_spans`, so split shifts, holidays and daylight-saving changes mean here what
they mean for a queue: a 09:00-17:00 day is eight hours on the day clocks change too, and an
hour open across an autumn change counts both of its passes. Without hours (None) business time
is calendar time.

The work is bounded. Adding scans ahead in windows of local days; LOOK_AHEAD_DAYS without any
open time (a year of holidays and closed weekdays, or hours never open) raises NeverOpen, as
does an answer more than HORIZON_DAYS ahead. Counting between two instants visits
each local day between them once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.working_hours import LOOK_AHEAD_DAYS, Hours, open_spans

# Far beyond any deadline a policy allows (365 days of open time at an hour a weekday is 34
# years): only a sliver of open time now and then gets here.
HORIZON_DAYS = 50 * 366


class NeverOpen(ValueError):
    """The hours do not give the time asked for within the bounds above."""


def add_working_seconds(hours: Hours | None, start: datetime, seconds: float) -> datetime:
    """The instant (UTC) at which `seconds` of open time have passed since `start`. An amount
    that runs out exactly at a closing answers that closing, not the next opening; zero
    answers `start` itself."""
    start = _utc(start)
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    remaining = timedelta(seconds=seconds)
    if hours is None or not remaining:
        return start + remaining
    # Windows grow from a week, so a near answer costs a few days' intervals, a far one few windows.
    window, cursor, last_open = timedelta(days=7), start, start
    while cursor - start < timedelta(days=HORIZON_DAYS):
        for open_, close in open_spans(hours, cursor, cursor + window):
            if remaining <= close - open_:
                return open_ + remaining
            remaining -= close - open_
            last_open = close
        cursor += window
        if cursor - last_open >= timedelta(days=LOOK_AHEAD_DAYS):
            raise NeverOpen(f"the hours are not open in the {LOOK_AHEAD_DAYS} days after {last_open.isoformat()}")
        window = min(window * 2, timedelta(days=LOOK_AHEAD_DAYS))
    raise NeverOpen(f"{seconds} seconds of open time end more than {HORIZON_DAYS} days after {start.isoformat()}")


def working_seconds_between(hours: Hours | None, start: datetime, end: datetime) -> float:
    """Open seconds in [start, end); 0 when end is not after start."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return 0.0
    if hours is None:
        return (end - start).total_seconds()
    total = sum((close - open_ for open_, close in open_spans(hours, start, end)), timedelta())
    return total.total_seconds()


def _utc(instant: datetime) -> datetime:
    """In UTC: aware datetimes sharing a zone subtract and compare by wall time, which would
    count an hour twice or not at all across a daylight-saving change."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant.isoformat()} has no time zone: business time needs an instant")
    return instant.astimezone(UTC)
