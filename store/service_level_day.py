"""A queue's service level over its day so far, by hour, and its SLA breaches today (SPEC
"Service level", the wallboard).

The day starts at midnight in the zone of the queue's working hours (its own, else the
default hours every queue without its own keeps), else UTC. Stays are the statistics' own
rows (store.stays): the day's figures are `window_stays` over [midnight, now], and each hour's
are `figures_by_interval`'s (a stay counts in the hour its answer or its abandon falls in,
timed from its entry): on PostgreSQL one aggregate query for both, by hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import select as select_columns
from sqlmodel import Session

from domain.conversation import EventType
from domain.models import as_utc
from store.statistics import (
    EVENTS,
    MOVES,
    IntervalFigures,
    StayFigures,
    _from_queue,
    _to_queue,
    figures_by_interval,
    window_stays,
)
from store.tables import QueueRow
from store.working_hours import working_hours_of_queue

INTERVAL = timedelta(hours=1)
BREACHED = EventType.SLA_BREACHED.value

@dataclass
class Day:
    time_zone: str
    start: datetime
    now: datetime
    figures: StayFigures  # the whole day, as the statistics' window [start, now] counts it
    intervals: list[IntervalFigures] = field(default_factory=list)
    sla_breaches: int = 0


def zone_of(session: Session, queue: QueueRow) -> str:
    hours = working_hours_of_queue(session, queue)
    return hours.timezone if hours is not None else "UTC"


def day_start(now: datetime, zone: tzinfo) -> datetime:
    """Midnight today in `zone`, in UTC."""
    local = as_utc(now).astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone).astimezone(UTC)


def service_level_today(session: Session, queue: QueueRow, now: datetime) -> Day:
    now = as_utc(now)
    zone_name = zone_of(session, queue)
    start = day_start(now, ZoneInfo(zone_name))
    day = Day(time_zone=zone_name, start=start, now=now, figures=window_stays(session, queue, start, now),
              intervals=figures_by_interval(session, queue, start, now, INTERVAL))
    day.sla_breaches = _breaches(session, queue.id, start, now)
    return day


def _breaches(session: Session, queue_id: str, start: datetime, now: datetime) -> int:
    """SLA_BREACHED events in [start, now] of conversations in the queue at the breach (one
    whose onBreach moved it away counts for the queue it left)."""
    breached = select_columns(EVENTS.c.conversation_id).where(
        EVENTS.c.type == BREACHED, EVENTS.c.at >= start, EVENTS.c.at <= now)
    rows = session.connection().execute(
        select_columns(EVENTS.c.conversation_id, EVENTS.c.type, EVENTS.c.at, _from_queue(EVENTS), _to_queue(EVENTS))
        .where(EVENTS.c.type.in_((*MOVES, BREACHED)), EVENTS.c.at <= now, EVENTS.c.conversation_id.in_(breached))
        .order_by(EVENTS.c.conversation_id, EVENTS.c.seq)
    ).all()
    count = 0
    current: dict[str, str | None] = {}
    for conversation_id, type_, at, from_queue, to_queue in rows:
        if type_ in MOVES:
            current[conversation_id] = to_queue
            continue
        there = from_queue if from_queue is not None else current.get(conversation_id)
        count += there == queue_id and as_utc(at) >= start
        if to_queue is not None:
            current[conversation_id] = to_queue
    return count
