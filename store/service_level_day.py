"""A queue's service level over its day so far, by hour, and its SLA breaches today (SPEC
"Service level", the wallboard).

The day starts at midnight in the zone of the queue's working hours (its own, else the
default hours every queue without its own keeps), else UTC. Stays are read as for staffing
(`store.staffing`: the same timelines, the same moves, the same SOLVED). A stay is counted in
the hour its outcome falls in: **answered** at its first ASSIGNED with an agent (or at the
entry, when it came in assigned), timed from the entry; **abandoned** when SOLVED or CLOSED
while unassigned (never in a bot's queue, nor an out-of-hours close). Service level =
answered within the target / (answered + abandoned after the target); None with neither.

TODO: once store.statistics offers service level over a window, this should ask it per hour
instead of walking the stays itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select as select_columns
from sqlmodel import Session

from domain.conversation import EventType
from domain.models import as_utc
from store.staffing import ASSIGNED, CLOSED, OUT_OF_HOURS, SOLVED, STATUS_CHANGED, UNASSIGNED, _timelines
from store.statistics import EVENTS, MOVES, _from_queue, _to_queue
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
    for events in _timelines(session, queue.id, start, now).values():
        for outcome, at, waited in _outcomes(events, queue):
            if start <= at <= now and day.intervals:
                _count(day.intervals[min(int((at - start) / INTERVAL), len(day.intervals) - 1)],
                       outcome, waited, queue.service_level_target_seconds)
    day.sla_breaches = _breaches(session, queue.id, start, now)
    return day


def _count(interval: Interval, outcome: str, waited: float, target: int) -> None:
    if outcome == "answered":
        interval.answered += 1
        interval.answered_within_target += waited <= target
    else:
        interval.abandoned += 1
        interval.abandoned_after_target += waited > target


def _outcomes(events: list[Any], queue: QueueRow) -> list[tuple[str, datetime, float]]:
    """One conversation's stays in the queue that were answered or abandoned: (outcome, when,
    seconds from the entry)."""
    found: list[tuple[str, datetime, float]] = []
    entered: datetime | None = None  # the stay in the queue still unanswered
    agent: str | None = None
    out_of_hours = False
    for type_, at, from_queue, to_queue, agent_id, status in events:
        at = as_utc(at)
        if type_ in MOVES:
            if from_queue == to_queue:
                continue
            entered = None
            if to_queue == queue.id:
                if agent is not None:
                    found.append(("answered", at, 0.0))
                else:
                    entered = at
        elif type_ == ASSIGNED and agent_id is not None:
            agent = agent_id
            if entered is not None:
                found.append(("answered", at, (at - entered).total_seconds()))
                entered = None
        elif type_ in (ASSIGNED, UNASSIGNED):
            agent = None
        elif type_ == OUT_OF_HOURS:
            out_of_hours = True
            continue
        elif type_ == CLOSED or (type_ == STATUS_CHANGED and status == SOLVED):
            if entered is not None and queue.bot_id is None and not (type_ == CLOSED and out_of_hours):
                found.append(("abandoned", at, (at - entered).total_seconds()))
            entered = None
        out_of_hours = False
    return found


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
