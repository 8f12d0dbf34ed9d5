"""Open or closed, and when that changes: in the hours' own time zone, across the spring and
autumn daylight-saving changes of Europe/Zagreb and America/New_York, with holidays (end date
included), split shifts and a day that ends at midnight (1440)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.working_hours import (
    DayHours,
    Holiday,
    Hours,
    Interval,
    Weekday,
    holiday_problem,
    is_open,
    next_boundary,
    next_opening,
    week_problems,
    zone_problem,
)

WEEKDAYS = [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY]


def office(zone: str, start: int = 9 * 60, end: int = 17 * 60, **days: DayHours) -> Hours:
    """Weekdays start-end, weekends closed, unless `days` says otherwise."""
    week = {day: DayHours(start_time=start, end_time=end) for day in WEEKDAYS}
    week |= {Weekday.SATURDAY: DayHours(enabled=False), Weekday.SUNDAY: DayHours(enabled=False)}
    week |= {Weekday(name): hours for name, hours in days.items()}
    return Hours(timezone=zone, work_week=week)


def local(zone: str, year: int, month: int, day: int, hour: int, minute: int, second: int = 0,
          fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone), fold=fold)


ZAGREB, NEW_YORK = "Europe/Zagreb", "America/New_York"


@pytest.mark.parametrize("zone", [ZAGREB, NEW_YORK])
@pytest.mark.parametrize("day", [
    (2026, 3, 9),  # New York springs forward on Sunday 8 March 2026: Monday after
    (2026, 3, 30),  # Zagreb springs forward on Sunday 29 March 2026
    (2026, 10, 26),  # Zagreb falls back on Sunday 25 October 2026
    (2026, 11, 2),  # New York falls back on Sunday 1 November 2026
])
def test_nine_to_five_is_nine_to_five_on_the_monday_after_a_change(zone: str, day: tuple[int, int, int]) -> None:
    hours = office(zone)
    assert not is_open(hours, local(zone, *day, 8, 59))
    assert is_open(hours, local(zone, *day, 9, 0))
    assert is_open(hours, local(zone, *day, 16, 59))
    assert not is_open(hours, local(zone, *day, 17, 0))


def test_a_day_open_across_the_spring_change_opens_and_closes_at_its_wall_times() -> None:
    # Sunday 29 March 2026 in Zagreb: 02:00 CET becomes 03:00 CEST (a 23-hour day).
    hours = office(ZAGREB, SUNDAY=DayHours(start_time=60, end_time=4 * 60))
    assert is_open(hours, local(ZAGREB, 2026, 3, 29, 1, 30))
    assert is_open(hours, local(ZAGREB, 2026, 3, 29, 3, 30))
    assert not is_open(hours, local(ZAGREB, 2026, 3, 29, 4, 0))
    # Open three wall-clock hours, two real ones: 00:00 to 02:00 UTC.
    assert next_boundary(hours, datetime(2026, 3, 29, 0, 30, tzinfo=UTC)) == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)


def test_an_opening_in_the_skipped_hour_is_when_that_hour_would_have_been() -> None:
    # 02:30 does not exist on 29 March 2026 in Zagreb: the opening comes at 03:30 CEST.
    hours = office(ZAGREB, SUNDAY=DayHours(start_time=150, end_time=600))
    assert next_opening(hours, local(ZAGREB, 2026, 3, 29, 0, 0)) == local(ZAGREB, 2026, 3, 29, 3, 30)
    assert not is_open(hours, local(ZAGREB, 2026, 3, 29, 3, 29))


def test_a_day_across_the_autumn_change_is_open_through_the_repeated_hour() -> None:
    # Sunday 1 November 2026 in New York: 02:00 EDT becomes 01:00 EST (a 25-hour day).
    hours = office(NEW_YORK, SUNDAY=DayHours(start_time=0, end_time=3 * 60))
    assert is_open(hours, local(NEW_YORK, 2026, 11, 1, 1, 30, fold=0))
    assert is_open(hours, local(NEW_YORK, 2026, 11, 1, 1, 30, fold=1))
    assert next_boundary(hours, local(NEW_YORK, 2026, 11, 1, 0, 0)) == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def test_the_end_of_a_weekend_is_the_next_opening() -> None:
    hours = office(ZAGREB)
    friday_evening = local(ZAGREB, 2026, 11, 27, 18, 0)
    assert next_opening(hours, friday_evening) == local(ZAGREB, 2026, 11, 30, 9, 0)
    assert next_opening(hours, local(ZAGREB, 2026, 11, 30, 10, 0)) is None  # open now


def test_a_holiday_closes_every_date_it_covers_its_end_date_included() -> None:
    hours = office(ZAGREB)
    hours.holidays = [Holiday(id="h", name="Christmas", start_date=date(2026, 12, 24), end_date=date(2026, 12, 25))]
    assert is_open(hours, local(ZAGREB, 2026, 12, 23, 12, 0))
    assert not is_open(hours, local(ZAGREB, 2026, 12, 24, 12, 0))
    assert not is_open(hours, local(ZAGREB, 2026, 12, 25, 12, 0))
    # Thursday 24 and Friday 25 closed, then the weekend: Monday 28.
    assert next_opening(hours, local(ZAGREB, 2026, 12, 23, 18, 0)) == local(ZAGREB, 2026, 12, 28, 9, 0)
    hours.holidays[0].enabled = False
    assert is_open(hours, local(ZAGREB, 2026, 12, 24, 12, 0))


def test_a_day_ending_at_1440_runs_to_midnight_and_joins_a_day_starting_at_0() -> None:
    hours = office(ZAGREB, start=0, end=1440)
    assert is_open(hours, local(ZAGREB, 2026, 11, 27, 23, 59, 59))
    # Open from Monday 00:00 to Saturday 00:00 without a break at each midnight.
    assert next_boundary(hours, local(ZAGREB, 2026, 11, 23, 12, 0)) == local(ZAGREB, 2026, 11, 28, 0, 0)
    assert not is_open(hours, local(ZAGREB, 2026, 11, 28, 0, 0))


def test_split_shifts_close_between_their_intervals() -> None:
    split = DayHours(intervals=[Interval(start_time=8 * 60, end_time=12 * 60),
                                Interval(start_time=13 * 60, end_time=17 * 60)])
    hours = office(ZAGREB, MONDAY=split)
    monday = (2026, 11, 30)
    assert is_open(hours, local(ZAGREB, *monday, 11, 59))
    assert not is_open(hours, local(ZAGREB, *monday, 12, 30))
    assert next_boundary(hours, local(ZAGREB, *monday, 12, 30)) == local(ZAGREB, *monday, 13, 0)


def test_hours_never_open_have_no_next_boundary() -> None:
    closed = Hours(timezone=ZAGREB, work_week={day: DayHours(enabled=False) for day in Weekday})
    assert next_opening(closed, local(ZAGREB, 2026, 11, 27, 12, 0)) is None
    always = office(ZAGREB, start=0, end=1440, SATURDAY=DayHours(), SUNDAY=DayHours())
    assert next_boundary(always, local(ZAGREB, 2026, 11, 27, 12, 0)) is None


def test_what_cannot_be_saved_is_named_at_its_field() -> None:
    assert zone_problem("Europe/Zagreb") is None
    assert zone_problem("Mars/Olympus") is not None
    assert zone_problem("../../etc/passwd") is not None
    week = office(ZAGREB).work_week
    del week[Weekday.SUNDAY]
    week[Weekday.MONDAY] = DayHours(start_time=600, end_time=540)
    week[Weekday.TUESDAY] = DayHours(intervals=[Interval(start_time=480, end_time=720),
                                                Interval(start_time=700, end_time=900)])
    assert week_problems(week) == {
        "workWeek.SUNDAY": "every day of the week must be given",
        "workWeek.MONDAY.startTime": "must be before endTime",
        "workWeek.TUESDAY.intervals": "intervals must not overlap",
    }
    assert holiday_problem(Holiday(id="h", name="x", start_date=date(2026, 1, 2), end_date=date(2026, 1, 1)))
