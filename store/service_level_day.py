"""A queue's service level over its day so far, by hour, and its SLA breaches today (SPEC
"Service level", the wallboard).

The day starts at midnight in the zone of the queue's working hours (its own, else the
default hours every queue without its own keeps), else UTC. Stays are the statistics' own
(`domain.stays` replayed from `store.statistics`' reading of the timelines), so the day's
figures are those `window_stays` gives for [midnight, now]: each stay counts in the hour its
answer or its abandon falls in, timed from its entry, counted by the statistics' own
`_count_stays`. One query for the day's stays, not one `window_stays` per hour: should
store.statistics offer its figures by interval, this should ask it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import select as select_columns
from sqlmodel import Session

from domain.conversation import EventType
from domain.models import as_utc
from domain.stays import Stay, replay
from store.statistics import EVENTS, MOVES, StayFigures, _count_stays, _from_queue, _stay_events, _to_queue
from store.tables import QueueRow
from store.working_hours import working_hours_of_queue

INTERVAL = timedelta(hours=1)
BREACHED = EventType.SLA_BREACHED.value
# Each hour ends just before the next begins: a stay answered on the hour counts once.
TICK = timedelta(microseconds=1)


@dataclass
class Interval:
    start: datetime
    end: datetime
    figures: StayFigures


@dataclass
class Day:
    time_zone: str
    start: datetime
    now: datetime
    figures: StayFigures  # the whole day, as the statistics' window [start, now] counts it
    intervals: list[Interval] = field(default_factory=list)
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
    stays: list[Stay] = []
    for conversation_id, timeline in _stay_events(session, queue.id, start, now).items():
        stays.extend(stay for stay in replay(conversation_id, timeline).stays if stay.queue_id == queue.id)

    def figures(begin: datetime, end: datetime) -> StayFigures:
        counted = StayFigures(target_seconds=queue.service_level_target_seconds,
                              target_percent=queue.service_level_target_percent)
        _count_stays(counted, stays, begin, end)
        return counted

    day = Day(time_zone=zone_name, start=start, now=now, figures=figures(start, now))
    moment = start
    while moment < now:
        end = min(moment + INTERVAL - TICK, now)
        day.intervals.append(Interval(moment, end, figures(moment, end)))
        moment += INTERVAL
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
