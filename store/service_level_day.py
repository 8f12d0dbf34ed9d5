"""A queue's service level over its day so far, by hour, and its SLA breaches today (SPEC
"Service level", the wallboard).

The day starts at midnight in the zone of the queue's working hours (its own, else the
default hours every queue without its own keeps), else UTC. Stays are the statistics' own
(`domain.stays` replayed from `store.statistics`' reading of the timelines), so the day's
figures are those `window_stays` gives for [midnight, now]: each stay counts in the hour its
answer or its abandon falls in, timed from its entry. Service level = answered within the
target / (answered + abandoned after the target); None with neither.

One query for the day's stays (not one `window_stays` per hour), which is why the hours are
counted here: should store.statistics offer its figures by interval, this should ask it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import select as select_columns
from sqlmodel import Session

from domain.conversation import EventType
from domain.models import as_utc
from domain.stays import replay
from store.statistics import EVENTS, MOVES, _from_queue, _stay_events, _to_queue
from store.tables import QueueRow
from store.working_hours import working_hours_of_queue

INTERVAL = timedelta(hours=1)
BREACHED = EventType.SLA_BREACHED.value


@dataclass
class Interval:
    start: datetime
    end: datetime
    answered: int = 0
    answered_within_target: int = 0
    abandoned: int = 0
    abandoned_after_target: int = 0

    @property
    def service_level(self) -> float | None:
        return service_level(self.answered_within_target, self.answered, self.abandoned_after_target)


@dataclass
class Day:
    time_zone: str
    start: datetime
    now: datetime
    intervals: list[Interval] = field(default_factory=list)
    sla_breaches: int = 0

    @property
    def answered(self) -> int:
        return sum(interval.answered for interval in self.intervals)

    @property
    def abandoned(self) -> int:
        return sum(interval.abandoned for interval in self.intervals)

    @property
    def service_level(self) -> float | None:
        return service_level(sum(i.answered_within_target for i in self.intervals), self.answered,
                             sum(i.abandoned_after_target for i in self.intervals))


def service_level(within: int, answered: int, abandoned_after: int) -> float | None:
    counted = answered + abandoned_after
    return within / counted if counted else None


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
    day = Day(time_zone=zone_name, start=start, now=now)
    moment = start
    while moment < now:
        day.intervals.append(Interval(moment, min(moment + INTERVAL, now)))
        moment += INTERVAL
    for conversation_id, timeline in _stay_events(session, queue.id, start, now).items():
        for stay in replay(conversation_id, timeline).stays:
            if stay.queue_id != queue.id:
                continue
            for outcome, at in (("answered", stay.answered_at), ("abandoned", stay.abandoned_at)):
                if at is not None and start <= at <= now and day.intervals:
                    _count(day.intervals[min(int((at - start) / INTERVAL), len(day.intervals) - 1)],
                           outcome, (at - stay.entered_at).total_seconds(), queue.service_level_target_seconds)
    day.sla_breaches = _breaches(session, queue.id, start, now)
    return day


def _count(interval: Interval, outcome: str, waited: float, target: int) -> None:
    if outcome == "answered":
        interval.answered += 1
        interval.answered_within_target += waited <= target
    else:
        interval.abandoned += 1
        interval.abandoned_after_target += waited > target


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
