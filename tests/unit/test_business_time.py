"""Business time: open seconds added and counted exactly at interval edges, across a weekend,
a holiday, a lunch break and the spring and autumn daylight-saving changes of Europe/Berlin
and America/New_York; counting what adding added gives it back."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.business_time import NeverOpen, add_working_seconds, working_seconds_between
from domain.working_hours import DayHours, Holiday, Hours, Interval, Weekday

WEEKDAYS = [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY]
BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
HOUR = 3600


def office(zone: str = BERLIN, day: DayHours | None = None, holidays: list[Holiday] | None = None,
           weekend: DayHours | None = None) -> Hours:
    """Monday to Friday `day` (09:00-17:00 unless given), the weekend `weekend` (closed)."""
    week = {name: day or DayHours(start_time=9 * 60, end_time=17 * 60) for name in WEEKDAYS}
    week |= {name: weekend or DayHours(enabled=False) for name in (Weekday.SATURDAY, Weekday.SUNDAY)}
    return Hours(timezone=zone, work_week=week, holidays=holidays or [])


def every_day(zone: str, start: int, end: int) -> Hours:
    return Hours(timezone=zone, work_week={name: DayHours(start_time=start, end_time=end) for name in Weekday})


def at(zone: str, year: int, month: int, day: int, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone), fold=fold)


LUNCH = DayHours(intervals=[Interval(start_time=9 * 60, end_time=12 * 60),
                            Interval(start_time=13 * 60, end_time=17 * 60)])


def test_friday_half_past_four_plus_an_hour_is_monday_half_past_nine() -> None:
    # 4 December 2026 is a Friday.
    due = add_working_seconds(office(), at(BERLIN, 2026, 12, 4, 16, 30), HOUR)
    assert due == at(BERLIN, 2026, 12, 7, 9, 30)
    assert due.tzinfo == UTC


def test_created_on_saturday_counts_from_monday_opening() -> None:
    due = add_working_seconds(office(), at(BERLIN, 2026, 12, 5, 11, 0), HOUR)
    assert due == at(BERLIN, 2026, 12, 7, 10, 0)
    assert working_seconds_between(office(), at(BERLIN, 2026, 12, 5, 11, 0), at(BERLIN, 2026, 12, 7, 10, 0)) == HOUR


def test_a_holiday_on_the_monday_moves_it_to_tuesday() -> None:
    monday = Holiday(id="h", name="Feast", start_date=date(2026, 12, 7), end_date=date(2026, 12, 7))
    hours = office(holidays=[monday])
    assert add_working_seconds(hours, at(BERLIN, 2026, 12, 4, 16, 30), HOUR) == at(BERLIN, 2026, 12, 8, 9, 30)
    disabled = monday.model_copy(update={"enabled": False})
    due = add_working_seconds(office(holidays=[disabled]), at(BERLIN, 2026, 12, 4, 16, 30), HOUR)
    assert due == at(BERLIN, 2026, 12, 7, 9, 30)


def test_a_lunch_break_does_not_count() -> None:
    hours = office(day=LUNCH)
    assert add_working_seconds(hours, at(BERLIN, 2026, 12, 7, 11, 30), HOUR) == at(BERLIN, 2026, 12, 7, 13, 30)
    assert working_seconds_between(hours, at(BERLIN, 2026, 12, 7, 11, 0), at(BERLIN, 2026, 12, 7, 14, 0)) == 2 * HOUR
    assert working_seconds_between(hours, at(BERLIN, 2026, 12, 7, 12, 10), at(BERLIN, 2026, 12, 7, 12, 50)) == 0
    assert working_seconds_between(hours, at(BERLIN, 2026, 12, 7, 0), at(BERLIN, 2026, 12, 8, 0)) == 7 * HOUR


def test_exact_at_the_edges() -> None:
    hours = office(day=LUNCH)
    # Running out exactly at a closing answers the closing, not the next opening.
    assert add_working_seconds(hours, at(BERLIN, 2026, 12, 7, 11, 0), HOUR) == at(BERLIN, 2026, 12, 7, 12, 0)
    second = timedelta(seconds=1)
    after_lunch = at(BERLIN, 2026, 12, 7, 13, 0)
    assert add_working_seconds(hours, at(BERLIN, 2026, 12, 7, 11, 0), HOUR + 1) == after_lunch + second
    # Starting at a closing counts from the next opening; zero is the start itself.
    assert add_working_seconds(hours, at(BERLIN, 2026, 12, 7, 12, 0), 60) == at(BERLIN, 2026, 12, 7, 13, 1)
    assert add_working_seconds(hours, at(BERLIN, 2026, 12, 5, 12, 0), 0) == at(BERLIN, 2026, 12, 5, 12, 0)
    # [start, end): the opening instant counts, the closing one does not.
    assert working_seconds_between(hours, at(BERLIN, 2026, 12, 7, 9, 0), at(BERLIN, 2026, 12, 7, 9, 0) + second) == 1
    assert working_seconds_between(hours, at(BERLIN, 2026, 12, 7, 12, 0), at(BERLIN, 2026, 12, 7, 13, 0)) == 0
    assert working_seconds_between(hours, at(BERLIN, 2026, 12, 7, 14, 0), at(BERLIN, 2026, 12, 7, 10, 0)) == 0


def test_without_hours_it_is_calendar_time_even_across_a_change() -> None:
    start = at(BERLIN, 2026, 3, 28, 12, 0)
    assert add_working_seconds(None, start, 24 * HOUR) == at(BERLIN, 2026, 3, 29, 13, 0)
    assert working_seconds_between(None, start, at(BERLIN, 2026, 3, 29, 12, 0)) == 23 * HOUR


@pytest.mark.parametrize(("zone", "day"), [(BERLIN, (2026, 3, 29)), (NEW_YORK, (2026, 3, 8))])
def test_spring_forward_an_hour_that_does_not_exist_is_not_counted(zone: str, day: tuple[int, int, int]) -> None:
    # Clocks go from 02:00 to 03:00 on both days.
    hours = every_day(zone, 1 * 60, 5 * 60)
    assert working_seconds_between(hours, at(zone, *day, 0, 0), at(zone, *day, 6, 0)) == 3 * HOUR
    assert add_working_seconds(hours, at(zone, *day, 1, 30), HOUR) == at(zone, *day, 3, 30)
    next_day = (day[0], day[1], day[2] + 1)
    assert add_working_seconds(hours, at(zone, *day, 1, 30), 3 * HOUR) == at(zone, *next_day, 1, 30)
    # A 24-hour day is 23 hours long.
    always = every_day(zone, 0, 1440)
    assert working_seconds_between(always, at(zone, *day, 0, 0), at(zone, *next_day, 0, 0)) == 23 * HOUR
    # Nine to five is eight hours on the day of the change too.
    assert working_seconds_between(every_day(zone, 9 * 60, 17 * 60), at(zone, *day, 0), at(zone, *day, 23)) == 8 * HOUR


@pytest.mark.parametrize(("zone", "day"), [(BERLIN, (2026, 10, 25)), (NEW_YORK, (2026, 11, 1))])
def test_fall_back_an_hour_that_exists_twice_is_counted_twice(zone: str, day: tuple[int, int, int]) -> None:
    # Berlin goes from 03:00 back to 02:00, New York from 02:00 back to 01:00.
    repeated = 2 if zone == BERLIN else 1
    hours = every_day(zone, 0 * 60, 5 * 60)
    assert working_seconds_between(hours, at(zone, *day, 0, 0), at(zone, *day, 6, 0)) == 6 * HOUR
    first_pass = at(zone, *day, repeated, 30)
    # In UTC: an aware time of the repeated hour never equals one of another zone (PEP 495).
    second_pass = at(zone, *day, repeated, 30, fold=1).astimezone(UTC)
    assert add_working_seconds(hours, first_pass, HOUR) == second_pass
    assert working_seconds_between(hours, first_pass, second_pass) == HOUR
    always = every_day(zone, 0, 1440)
    next_day = (day[0], day[1], day[2] + 1)
    assert working_seconds_between(always, at(zone, *day, 0, 0), at(zone, *next_day, 0, 0)) == 25 * HOUR


@pytest.mark.parametrize(("zone", "friday"), [(BERLIN, (2026, 3, 27)), (BERLIN, (2026, 10, 23)),
                                              (NEW_YORK, (2026, 3, 6)), (NEW_YORK, (2026, 10, 30))])
def test_friday_to_monday_across_a_weekend_change(zone: str, friday: tuple[int, int, int]) -> None:
    monday_date = date(*friday) + timedelta(days=3)
    monday = (monday_date.year, monday_date.month, monday_date.day)
    due = add_working_seconds(office(zone), at(zone, *friday, 16, 30), HOUR)
    assert due == at(zone, *monday, 9, 30)
    assert due.astimezone(ZoneInfo(zone)).hour == 9


def test_hours_never_open_raise_rather_than_loop() -> None:
    closed = Hours(timezone=BERLIN, work_week={name: DayHours(enabled=False) for name in Weekday})
    with pytest.raises(NeverOpen):
        add_working_seconds(closed, at(BERLIN, 2026, 12, 4, 16, 30), HOUR)
    assert working_seconds_between(closed, at(BERLIN, 2026, 1, 1, 0), at(BERLIN, 2027, 1, 1, 0)) == 0
    long_holiday = Holiday(id="h", name="Closed", start_date=date(2026, 1, 1), end_date=date(2027, 12, 31))
    with pytest.raises(NeverOpen):
        add_working_seconds(office(holidays=[long_holiday]), at(BERLIN, 2026, 1, 2, 10), HOUR)


def test_a_year_of_holidays_short_of_the_look_ahead_is_crossed() -> None:
    holiday = Holiday(id="h", name="Closed", start_date=date(2026, 1, 1), end_date=date(2026, 12, 31))
    due = add_working_seconds(office(holidays=[holiday]), at(BERLIN, 2026, 1, 2, 10), HOUR)
    assert due == at(BERLIN, 2027, 1, 1, 10)  # Friday 1 January 2027


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_seconds(office(), at(BERLIN, 2026, 12, 4, 16), -1)
    with pytest.raises(ValueError, match="time zone"):
        add_working_seconds(office(), datetime(2026, 12, 4, 16), 1)


def test_a_policy_maximum_of_365_days_is_answered() -> None:
    one_hour_a_weekday = office(day=DayHours(start_time=9 * 60, end_time=10 * 60))
    start = at(BERLIN, 2026, 12, 4, 9)
    due = add_working_seconds(one_hour_a_weekday, start, 365 * 24 * HOUR)
    assert working_seconds_between(one_hour_a_weekday, start, due) == 365 * 24 * HOUR


SHAPES = {
    "office": office(),
    "lunch": office(day=LUNCH),
    "new york with a holiday": office(NEW_YORK, holidays=[
        Holiday(id="h", name="h", start_date=date(2026, 11, 26), end_date=date(2026, 11, 27))]),
    "night shifts across midnight": Hours(timezone=BERLIN, work_week={
        name: DayHours(intervals=[Interval(start_time=0, end_time=2 * 60 + 30),
                                  Interval(start_time=22 * 60, end_time=1440)])
        for name in Weekday}),
    "weekend only": office(day=DayHours(enabled=False), weekend=DayHours(start_time=10 * 60, end_time=14 * 60)),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_counting_what_was_added_gives_it_back(shape: str) -> None:
    hours = SHAPES[shape]
    rng = random.Random(f"business time {shape}")  # seeded: the same cases every run
    # Starts across the year, the daylight-saving weeks included.
    year = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(120):
        start = year + timedelta(seconds=rng.randrange(365 * 24 * HOUR))
        seconds = rng.choice([1, 59, HOUR, 8 * HOUR, rng.randrange(1, 30 * 24 * HOUR)])
        due = add_working_seconds(hours, start, seconds)
        assert due > start
        assert working_seconds_between(hours, start, due) == seconds, (start, seconds, due)
        # Nothing earlier would do: a second less of waiting is a second short.
        assert working_seconds_between(hours, start, due - timedelta(seconds=1)) < seconds
