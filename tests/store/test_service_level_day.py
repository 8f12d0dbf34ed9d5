"""A queue's service level today by hour and its SLA breaches today (store.service_level_day),
from crafted timelines with known times."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from domain.models import Status
from store.db import session_scope
from store.service_level_day import day_start, service_level_today
from store.statistics import window_stays
from store.tables import QueueRow
from tests.store.test_staffing_store import NOW, E, into, make_queue, timeline


def test_service_level_by_hour_and_breaches_since_midnight(engine: Engine) -> None:
    q, other = make_queue(engine), make_queue(engine)
    # 11:39:30 in, answered 30 s later: within the target (60 s), in the 11:00 hour.
    timeline(engine, [(20.5, E.ROUTED, into(q)), (20, E.ASSIGNED, {"agent_id": "x"})], Status.OPEN, q, "x")
    # Answered after 120 s at 10:30: not within.
    timeline(engine, [(92, E.ROUTED, into(q)), (90, E.ASSIGNED, {"agent_id": "x"})], Status.OPEN, q, "x")
    # Abandoned after 90 s at 11:50: counts against; after 20 s at 11:55: not counted.
    timeline(engine, [(11.5, E.ROUTED, into(q)), (10, E.CLOSED, {})], Status.CLOSED, q)
    timeline(engine, [(5 + 1 / 3, E.ROUTED, into(q)), (5, E.CLOSED, {})], Status.CLOSED, q)
    # Answered yesterday: not today's.
    timeline(engine, [(13 * 60, E.ROUTED, into(q)), (12.5 * 60, E.ASSIGNED, {"agent_id": "x"})], Status.OPEN, q, "x")
    # Breaches: one in the queue, one whose onBreach moved it out, one elsewhere, one yesterday.
    timeline(engine, [(30, E.ROUTED, into(q)), (3, E.SLA_BREACHED, {"clock": "firstResponse"})], Status.OPEN, q)
    timeline(engine, [(30, E.ROUTED, into(q)), (2, E.SLA_BREACHED, {"clock": "resolution", **into(other, q)})],
             Status.OPEN, other)
    timeline(engine, [(30, E.ROUTED, into(other)), (1, E.SLA_BREACHED, {"clock": "firstResponse"})],
             Status.OPEN, other)
    timeline(engine, [(14 * 60, E.ROUTED, into(q)), (13 * 60, E.SLA_BREACHED, {"clock": "firstResponse"})],
             Status.OPEN, q)
    with session_scope(engine) as session:
        queue = session.get(QueueRow, q)
        assert queue is not None
        day = service_level_today(session, queue, NOW)
        whole_day = window_stays(session, queue, day.start, NOW)
    by_hour = {interval.start.hour: interval.figures for interval in day.intervals}
    assert (day.time_zone, day.start) == ("UTC", datetime(2024, 5, 1, tzinfo=UTC))
    assert len(day.intervals) == 12  # 00:00 to noon, by hour
    assert (by_hour[11].answered, by_hour[11].answered_within_target) == (1, 1)
    assert (by_hour[11].abandoned, by_hour[11].abandoned_after_target) == (2, 1)
    assert by_hour[11].service_level == 0.5
    assert (by_hour[10].answered, by_hour[10].service_level) == (1, 0.0)
    assert by_hour[3].service_level is None
    assert (day.figures.answered, day.figures.abandoned) == (2, 2)
    assert day.figures.service_level == round(1 / 3, 6)
    assert day.sla_breaches == 2
    # The day is what the statistics count over it, and the hours add up to it.
    assert day.figures == whole_day
    for name in ("answered", "answered_within_target", "abandoned", "abandoned_after_target"):
        assert sum(getattr(hour, name) for hour in by_hour.values()) == getattr(whole_day, name), name


def test_the_day_starts_at_midnight_in_the_zone() -> None:
    # Noon UTC on 1 May is 08:00 in New York (EDT): its day began at 04:00 UTC.
    assert day_start(NOW, ZoneInfo("America/New_York")) == datetime(2024, 5, 1, 4, tzinfo=UTC)
    assert day_start(NOW, ZoneInfo("Asia/Tokyo")) == datetime(2024, 4, 30, 15, tzinfo=UTC)
