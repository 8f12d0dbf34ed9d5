"""Queue statistics, computed from the conversation projection and its timeline events.

Definitions (every time is UTC; `now` is a parameter, so a caller or a test fixes the clock):

- A **move** is a ROUTED or REROUTED event; its body names `from_queue_id` (None when the
  conversation had no queue yet) and `to_queue_id`. A move whose from and to are the same queue
  (routing run again that changed only the priority) is no move into or out of anything: it is
  not counted and does not restart a stay.
- **Open** conversations of a queue: those whose current `queue_id` is the queue and whose
  status is OPEN, WAITING or SOLVED (anything but CLOSED).
- **Longest waiting**: among the queue's open conversations, the one that entered the queue
  earliest, where *entered* is its latest move into the queue (not its creation); ties go to
  the smaller conversation id. A conversation with no such event (it cannot happen for one
  placed by its workflow) counts from its creation. The age is `now - since`, never negative.
- **Routed in / out in the last hour**: moves into / out of the queue with
  `now - window <= at <= now`.
- **Waiting** / **assigned**: the queue's OPEN or WAITING conversations without / with an
  agent; of the waiting, those with an offer pending are **pending offers** instead (SPEC
  "Offers": not waiting while an agent is asked). **Eligible agents**: members that are
  enabled, ACTIVE and below their capacity.
- **Time to first assignment over the last hour**: for each conversation now in the queue
  whose first ASSIGNED event is in the window, from its creation to that event; p50 and p90
  (nearest rank), None when there is none.
- **Mean time in queue over the last hour**: over the stays in the queue that *ended by a move
  out* within that window; a stay begins at the conversation's latest move into the queue
  before that move out (which may be older than the window). It is the mean of (move out -
  entry) in seconds, None when no stay ended. Closing a conversation does not end a stay (the
  conversation is not routed anywhere), so each stay counted is one of `routedOut` (all of
  them, unless a move out has no earlier move in, which the workflow never writes).
- **Waiting by priority**: the waiting (as above, no offer pending), per priority;
  **longest unassigned**: among those, the one that entered earliest (as longest waiting);
  **active members**: the queue's enabled ACTIVE members, with room or not (the eligible
  agents are those of them with room).

Over a window [start, end] (one queue's answer; both ends included), by **stays**
(`domain.stays`: one conversation's time in one queue, from a move into it, or a reopening
that leaves it unassigned, to a move out, SOLVED or CLOSED). Each figure counts the stays
whose own moment falls in the window, so a stay entered before it may be answered in it:
- **entered**: stays entering the queue in the window;
- **answered**: stays whose first ASSIGNED (with offers, the accept) is in it; **time to
  answer** = that ASSIGNED - the entry;
- **abandoned**: stays ended in it by SOLVED or CLOSED while unassigned and never answered,
  except with the queue's bot (a BOT_STARTED for it in the stay) or by an out-of-hours close;
- **first agent reply**: the first message of the stay (entry <= createdAt < its end) that is
  OUTBOUND, written as AGENT by an agent whose role is AGENT (a message stores no role, so a
  supervisor's reply is told apart by its author's role when the message is stored, which is
  when its stay takes it; a bot's is BOT), counted when it is in the window; **time to first
  reply** = it - the entry;
- **service level** = answered within the target (time to answer <= the queue's
  `service_level_target_seconds`) / (answered + abandoned after the target), None with
  neither; met when service level x 100 >= `service_level_target_percent`;
- **offers**: OFFERED, accepts (ASSIGNED carrying `expires_at`), OFFER_DECLINED,
  OFFER_EXPIRED (lapsed), OFFER_WITHDRAWN with `at` in the window, of the queue the
  conversation was in then; **time to accept** = the accept - its OFFERED;
- averages, p50 and p90 (nearest rank) in seconds; None with no value.

Cost, per request, with Q the queues asked about (plans checked on SQLite and PostgreSQL):
- counts: one GROUP BY over the conversations of Q with status in (OPEN, WAITING, SOLVED),
  through `ix_conversations_waiting (queue_id, status, ...)` (covering on SQLite) or
  `ix_conversations_status`: it reads the open conversations, never the closed history;
  waiting by priority in the same GROUP BY, each waiting one joined to its assignment row
  when that is an offer (a hash join of the few offers on PostgreSQL);
- longest waiting: per queue, one look-up through `ix_conversations_queue_entered (queue_id,
  queue_entered_at, id)` in that order, the first open (or waiting) one found: its
  `queue_entered_at` is the entry defined above, written by the projection (store.stays);
- the window: `queue_moves` (one row per move, written by the projection with when the
  conversation had entered the queue it leaves) counted by queue and `at`, through
  `ix_queue_moves_to_at` and `ix_queue_moves_from_at`: O(moves in the window);
- time to first assignment: the conversations of Q by `first_assigned_at` in the window
  (`ix_conversations_queue_first_assigned`), ranked in SQL on PostgreSQL;
- the window's stays (one queue): the rows of `stays` and `stay_offers` (store.stays: written
  by the projection as the events are, by `domain.stays`' rules; each stay's first agent
  reply as the message is stored), counted by moment through an index by (queue, moment):
  entries by `entered_at`, answers by `answered_at`, abandons by `ended_at` (and `ended_by`),
  first replies by `first_reply_at`, offers by `at`. On PostgreSQL the stays are one pass
  (each row's waits worked out once, then count, within the target, average and
  `percentile_disc`, which is the nearest rank; seconds as float8, `date_part`, as Python's)
  and the offers one GROUP BY their type; on SQLite the entry and the moment are read and
  counted here. O(stays with a moment in the window), nothing from before it.
  `figures_by_interval` counts the answers and abandons of [start, end] by interval (one
  pass, GROUPING SETS by each one's interval, on PostgreSQL).

On PostgreSQL every read plans for its own values (`store.stays.plan_for_these_values`):
psycopg prepares a statement run five times, and the generic plan PostgreSQL then kept read a
busy hour's rows through bitmap and index scans at 1.3 to 1.6 times the CPU of the plan made
for the window's bounds (bench.bench_statistics' queue, 100,000 conversations in the hour).

Where the time goes at that size (EXPLAIN ANALYZE, BUFFERS): every read of the window is a
pass over its rows' heap pages, whatever the index: the last hour's rows are new or just
updated, so their pages are not all-visible and an index-only scan fetches each row's page
anyway, slower than reading them in order (135 ms against 70 for the first assignments). What
is left is the rows' own cost: the stays' pass (the two nearest-rank sorts of ~70,000 waits a
third of it), the conversations' two (wide rows: 10 to a page, against 50 for a stay), the
moves' and the offers'.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from domain.assignment import DEFAULT_AGENT_CAPACITY
from domain.conversation import EventType
from domain.models import OPEN_STATUSES, PRIORITY_RANK, Priority, as_utc
from domain.stays import ABANDONED
from store.assignment import HOLDING, OFFERED, member_counts
from store.stays import MOVES as QUEUE_MOVES
from store.stays import OFFERS, STAYS, nearest_ranks, on_postgresql, plan_for_these_values, seconds_between
from store.tables import (
    AssignmentRow,
    ConversationEventRow,
    ConversationRow,
    QueueRow,
)

WINDOW = timedelta(hours=1)
MOVES = (EventType.ROUTED.value, EventType.REROUTED.value)
# Highest first, as the spec orders priorities.
PRIORITIES = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)
PRIORITY_BY_RANK = {rank: priority for priority, rank in PRIORITY_RANK.items()}

# SQLModel makes __table__ for every table=True class but does not declare it.
EVENTS: Table = ConversationEventRow.__table__  # type: ignore[attr-defined]
CONVERSATIONS: Table = ConversationRow.__table__  # type: ignore[attr-defined]
ASSIGNMENTS: Table = AssignmentRow.__table__  # type: ignore[attr-defined]
# An interval ends just before the next begins: a stay answered on the boundary counts once.
TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class LongestWaiting:
    conversation_id: str
    since: datetime
    age_seconds: float


@dataclass(frozen=True)
class Timing:
    """Seconds: mean, p50 and p90 (nearest rank); None each with no value."""

    average: float | None = None
    p50: float | None = None
    p90: float | None = None

    @staticmethod
    def of(values: list[float]) -> Timing:
        if not values:
            return Timing()
        return Timing(round(sum(values) / len(values), 3), _nearest_rank(values, 0.5),
                      _nearest_rank(values, 0.9))


@dataclass
class StayFigures:
    """A queue's stays and offers over a window (see the module's definitions)."""

    target_seconds: int
    target_percent: int
    entered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within_target: int = 0
    abandoned_after_target: int = 0
    first_replies: int = 0
    time_to_answer: Timing = field(default_factory=Timing)
    time_to_first_reply: Timing = field(default_factory=Timing)
    offers_made: int = 0
    offers_accepted: int = 0
    offers_declined: int = 0
    offers_lapsed: int = 0
    offers_withdrawn: int = 0
    time_to_accept: Timing = field(default_factory=Timing)

    @property
    def service_level(self) -> float | None:
        counted = self.answered + self.abandoned_after_target
        return round(self.answered_within_target / counted, 6) if counted else None

    @property
    def service_level_met(self) -> bool | None:
        level = self.service_level
        return None if level is None else level * 100 >= self.target_percent

    @property
    def any_offer(self) -> bool:
        return bool(self.offers_made or self.offers_accepted or self.offers_declined
                    or self.offers_lapsed or self.offers_withdrawn)


@dataclass
class QueueStatistics:
    queue_id: str
    queue_name: str
    by_status: dict[str, int] = field(
        default_factory=lambda: {status: 0 for status in OPEN_STATUSES}
    )
    by_priority: dict[str, int] = field(
        default_factory=lambda: {priority.value: 0 for priority in PRIORITIES}
    )
    longest_waiting: LongestWaiting | None = None
    routed_in: int = 0
    routed_out: int = 0
    mean_time_in_queue_seconds: float | None = None
    waiting: int = 0
    pending_offers: int = 0
    assigned: int = 0
    eligible_agents: int = 0
    first_assignment_p50_seconds: float | None = None
    first_assignment_p90_seconds: float | None = None
    # The waiting conversation (as `waiting`) that entered the queue first.
    longest_unassigned: LongestWaiting | None = None
    # Enabled ACTIVE members, with room or not (`eligible_agents` are those with room).
    active_members: int = 0
    waiting_by_priority: dict[str, int] = field(
        default_factory=lambda: {priority.value: 0 for priority in PRIORITIES}
    )
    # Over the asked window (`window_stays`); None until it is asked.
    stays: StayFigures | None = None

    @property
    def open_conversations(self) -> int:
        return sum(self.by_status.values())


def _seconds(delta: timedelta) -> float:
    return round(delta.total_seconds(), 3)


def _from_queue(events) -> Any:
    return events.c.body["from_queue_id"].as_string()


def _to_queue(events) -> Any:
    return events.c.body["to_queue_id"].as_string()


def live_queues(session: Session) -> list[QueueRow]:
    """Every live queue, in the queue list's default order (oldest first)."""
    return list(
        session.exec(
            select(QueueRow)
            .where(col(QueueRow.deleted_at).is_(None))
            .order_by(col(QueueRow.created_at), col(QueueRow.id))
        ).all()
    )


def queue_statistics(
    session: Session, queues: list[QueueRow], now: datetime, window: timedelta = WINDOW,
    default_capacity: int = DEFAULT_AGENT_CAPACITY,
) -> list[QueueStatistics]:
    """Statistics of each of `queues` (live or deleted), in their order, as of `now`."""
    now = as_utc(now)
    stats = {
        queue.id: QueueStatistics(queue_id=queue.id, queue_name=queue.name) for queue in queues
    }
    if not stats:
        return []
    plan_for_these_values(session)
    ids = list(stats)
    _count_open(session, ids, stats)
    _longest_waiting(session, ids, stats, now)
    _longest_waiting(session, ids, stats, now, unassigned=True)
    _window(session, ids, stats, now, window)
    _assignment(session, ids, stats, now, window, default_capacity)
    return [stats[queue.id] for queue in queues]


def window_stays(
    session: Session, queue: QueueRow, start: datetime, end: datetime
) -> StayFigures:
    """The stay figures of `queue` over [start, end] (see the module's definitions)."""
    start, end = as_utc(start), as_utc(end)
    plan_for_these_values(session)
    figures = StayFigures(target_seconds=queue.service_level_target_seconds,
                          target_percent=queue.service_level_target_percent)
    target = figures.target_seconds
    mine = STAYS.c.queue_id == queue.id
    entered = STAYS.c.entered_at.between(start, end)
    # Each figure's moment, with what else it asks, and whether its waits are timed.
    parts = ((STAYS.c.answered_at, (), True), (STAYS.c.ended_at, (STAYS.c.ended_by == ABANDONED,), False),
             (STAYS.c.first_reply_at, (), True))
    if on_postgresql(session):
        figures.entered, *results = _stays_in_one(session, mine, entered, parts, start, end, target)
    else:
        figures.entered = session.connection().execute(sa_select(func.count()).where(mine, entered)).scalar_one()
        results = [_timed(session, moment, target, mine, moment.between(start, end), *extra, timing=timed)
                   for moment, extra, timed in parts]
    (figures.answered, figures.answered_within_target, figures.time_to_answer), abandoned, replies = results
    figures.abandoned, figures.abandoned_after_target = abandoned[0], abandoned[0] - abandoned[1]
    figures.first_replies, figures.time_to_first_reply = replies[0], replies[2]
    _count_offers(session, figures, queue.id, start, end)
    return figures


def _stays_in_one(
    session: Session, mine: Any, entered: Any, parts: tuple[tuple[Any, tuple[Any, ...], bool], ...],
    start: datetime, end: datetime, target: int,
) -> list[Any]:
    """PostgreSQL: the stays entered, then for each part how many, how many waited at most
    `target` and their timing, in one pass over the stays with any of those moments in the
    window (percentile_disc is the nearest rank). Each row's waits are worked out once, in
    a subquery kept apart by OFFSET 0 (merged into the outer query, each aggregate would work
    them out again: twice the time at 100,000 stays), null outside their part: count, avg and
    percentile_disc skip nulls, so no aggregate needs a FILTER of its own."""
    waits: list[Any] = [entered.label("entered")]
    conditions = [entered]
    for place, (moment, extra, _) in enumerate(parts):
        condition = and_(moment.between(start, end), *extra)
        conditions.append(condition)
        waits.append(case((condition, seconds_between(STAYS.c.entered_at, moment))).label(f"waited_{place}"))
    rows = sa_select(*waits).where(mine, or_(*conditions)).offset(0).subquery()
    columns: list[Any] = [func.count().filter(rows.c.entered)]
    for place, (_, _, timed) in enumerate(parts):
        waited = rows.c[f"waited_{place}"]
        columns += [func.count(waited), func.count().filter(waited <= target)]
        if timed:
            columns += [func.avg(waited), nearest_ranks(waited)]
    row = list(session.connection().execute(sa_select(*columns)).one())
    results: list[Any] = [row.pop(0)]
    for _, _, timed in parts:
        count, within = row.pop(0), row.pop(0)
        timing = Timing()
        if timed:
            average, ranks = row.pop(0), row.pop(0)
            timing = _timing(average, ranks) if count else Timing()
        results.append((count, within, timing))
    return results


@dataclass
class IntervalFigures:
    start: datetime
    end: datetime
    figures: StayFigures  # the service level's counts: answered, abandoned, each against the target


def figures_by_interval(
    session: Session, queue: QueueRow, start: datetime, end: datetime, interval: timedelta,
) -> list[IntervalFigures]:
    """The service level's counts (answered, within the target, abandoned, after it) of
    `queue` in each interval of [start, end]: [start, start + interval), and so on, the last
    one ending at `end` (included); each stay counts in the interval its answer or abandon
    is in, as `window_stays` counts it over that interval. On PostgreSQL one query, by
    interval in SQL; on SQLite one of each kind, the moments read."""
    start, end = as_utc(start), as_utc(end)
    intervals: list[IntervalFigures] = []
    moment = start
    while moment < end:
        intervals.append(IntervalFigures(moment, min(moment + interval - TICK, end), StayFigures(
            target_seconds=queue.service_level_target_seconds,
            target_percent=queue.service_level_target_percent)))
        moment += interval
    if not intervals:
        return intervals
    plan_for_these_values(session)
    target = queue.service_level_target_seconds
    step = interval.total_seconds()
    kinds = ((STAYS.c.answered_at, ()), (STAYS.c.ended_at, (STAYS.c.ended_by == ABANDONED,)))
    if on_postgresql(session):
        answers, abandons = _counts_by_interval_in_one(session, queue.id, kinds, start, end, step, target)
    else:
        answers, abandons = (
            _counted_in_python(session, moment, start, step, target,
                               (STAYS.c.queue_id == queue.id, moment.between(start, end), *extra))
            for moment, extra in kinds)
    # A moment exactly at the end of the last whole interval belongs to none (as it would
    # start the next).
    for place, count, within in answers:
        if 0 <= place < len(intervals):
            figures = intervals[place].figures
            figures.answered, figures.answered_within_target = count, within
    for place, count, within in abandons:
        if 0 <= place < len(intervals):
            figures = intervals[place].figures
            figures.abandoned, figures.abandoned_after_target = count, count - within
    return intervals


def _counts_by_interval_in_one(
    session: Session, queue_id: str, kinds: tuple[tuple[Any, tuple[Any, ...]], ...], start: datetime,
    end: datetime, step: float, target: int,
) -> list[list[tuple[int, int, int]]]:
    """PostgreSQL: for each kind of moment, (interval's place, stays, stays waited at most
    `target`) by interval, in one pass over the stays with any of those moments in [start,
    end]: each row's place and wait worked out once in a subquery kept apart by OFFSET 0
    (null where the kind does not count), then GROUPING SETS by each kind's place."""
    columns: list[Any] = []
    conditions = []
    for number, (moment, extra) in enumerate(kinds):
        condition = and_(moment.between(start, end), *extra)
        conditions.append(condition)
        columns += [case((condition, func.floor(seconds_between(start, moment) / step))).label(f"place_{number}"),
                    case((condition, seconds_between(STAYS.c.entered_at, moment) <= target)).label(f"within_{number}")]
    rows = sa_select(*columns).where(STAYS.c.queue_id == queue_id, or_(*conditions)).offset(0).subquery()
    places = [rows.c[f"place_{number}"] for number in range(len(kinds))]
    counts: list[Any] = []
    for number, place in enumerate(places):
        counts += [func.count(place), func.count().filter(rows.c[f"within_{number}"])]
    found: list[list[tuple[int, int, int]]] = [[] for _ in kinds]
    # Each result row is one kind's set (the other places null): the one place not null says
    # which; a null place is the stays that kind does not count.
    for row in session.connection().execute(sa_select(*places, *counts).group_by(func.grouping_sets(*places))):
        for number, place in enumerate(row[:len(kinds)]):
            if place is not None:
                count, within = row[len(kinds) + 2 * number:len(kinds) + 2 * number + 2]
                found[number].append((int(place), count, within))
    return found


def _counted_in_python(
    session: Session, moment: Any, start: datetime, step: float, target: int, conditions: tuple[Any, ...],
) -> list[tuple[int, int, int]]:
    counts: Counter[int] = Counter()
    within: Counter[int] = Counter()
    for entered_at, at in session.connection().execute(sa_select(STAYS.c.entered_at, moment).where(*conditions)):
        at = as_utc(at)
        place = math.floor((at - start).total_seconds() / step)
        counts[place] += 1
        within[place] += (at - as_utc(entered_at)).total_seconds() <= target
    return [(place, count, within[place]) for place, count in counts.items()]


def _timed(
    session: Session, moment: Any, target: int, *conditions: Any, timing: bool = True,
) -> tuple[int, int, Timing]:
    """SQLite: over the stays meeting `conditions`, how many, how many waited at most `target`
    from the entry to `moment`, and the timing of those waits (when asked)."""
    rows = session.connection().execute(sa_select(STAYS.c.entered_at, moment).where(*conditions)).all()
    values = [(as_utc(at) - as_utc(began)).total_seconds() for began, at in rows]
    return len(values), sum(value <= target for value in values), Timing.of(values) if timing else Timing()


def _timing(average: float, ranks: list[float]) -> Timing:
    return Timing(round(average, 3), round(ranks[0], 3), round(ranks[1], 3))


def _count_offers(session: Session, figures: StayFigures, queue_id: str, start: datetime, end: datetime) -> None:
    in_window = (OFFERS.c.queue_id == queue_id, OFFERS.c.at.between(start, end))
    counters = {
        EventType.OFFERED.value: "offers_made", EventType.OFFER_DECLINED.value: "offers_declined",
        EventType.OFFER_EXPIRED.value: "offers_lapsed", EventType.OFFER_WITHDRAWN.value: "offers_withdrawn",
        EventType.ASSIGNED.value: "offers_accepted",
    }
    accepted = EventType.ASSIGNED.value
    if on_postgresql(session):
        # One pass: by type, the accepts' timing with their count (only an accept carries
        # accept_seconds, and the aggregates skip nulls).
        seconds = OFFERS.c.accept_seconds
        for type_, count, timed, average, ranks in session.connection().execute(
            sa_select(OFFERS.c.type, func.count(), func.count(seconds), func.avg(seconds), nearest_ranks(seconds))
            .where(*in_window).group_by(OFFERS.c.type)
        ).all():
            setattr(figures, counters[type_], count)
            if type_ == accepted and timed:
                figures.time_to_accept = _timing(average, ranks)
        return
    for type_, count in session.connection().execute(
        sa_select(OFFERS.c.type, func.count()).where(*in_window).group_by(OFFERS.c.type)
    ).all():
        setattr(figures, counters[type_], count)
    if not figures.offers_accepted:
        return
    values = list(session.connection().execute(sa_select(OFFERS.c.accept_seconds).where(
        *in_window, OFFERS.c.type == accepted, OFFERS.c.accept_seconds.is_not(None))).scalars())
    figures.time_to_accept = Timing.of(values)


def _count_open(session: Session, ids: list[str], stats: dict[str, QueueStatistics]) -> None:
    """By status and priority, waiting (no agent; `_assignment` takes the pending offers off)
    and assigned, and the waiting with no offer pending by priority: one GROUP BY over the
    open conversations of the queues, each waiting one joined to its assignment row if that
    is an offer (a hash join on PostgreSQL: an EXISTS per row there cost 5 times the
    planner's threshold for JIT, 10 ms of compiling per request)."""
    unassigned = CONVERSATIONS.c.status.in_(HOLDING) & CONVERSATIONS.c.agent_id.is_(None)
    with_offer = CONVERSATIONS.outerjoin(ASSIGNMENTS, and_(
        ASSIGNMENTS.c.conversation_id == CONVERSATIONS.c.id, ASSIGNMENTS.c.state == OFFERED, unassigned))
    keys = (CONVERSATIONS.c.queue_id, CONVERSATIONS.c.status, CONVERSATIONS.c.priority_rank,
            CONVERSATIONS.c.agent_id.is_(None), ASSIGNMENTS.c.conversation_id.is_not(None))
    rows = session.connection().execute(
        sa_select(*keys, func.count()).select_from(with_offer)
        .where(CONVERSATIONS.c.queue_id.in_(ids), CONVERSATIONS.c.status.in_(OPEN_STATUSES))
        .group_by(*keys)
    ).all()
    for queue_id, status, rank, no_agent, is_offered, count in rows:
        queue, priority = stats[queue_id], PRIORITY_BY_RANK[rank].value
        queue.by_status[status] += count
        queue.by_priority[priority] += count
        if status not in HOLDING:
            continue
        if no_agent:
            queue.waiting += count
            if not is_offered:
                queue.waiting_by_priority[priority] += count
        else:
            queue.assigned += count


def _longest_waiting(
    session: Session, ids: list[str], stats: dict[str, QueueStatistics], now: datetime,
    unassigned: bool = False,
) -> None:
    """The open conversation that entered each queue first, or (`unassigned`) the waiting one:
    its `queue_entered_at` (the latest move into its queue, else its creation) is the
    smallest, then its id; one look-up per queue in that order (ix_conversations_queue_entered)."""
    for queue_id in ids:
        found = session.connection().execute(
            sa_select(CONVERSATIONS.c.id, CONVERSATIONS.c.queue_entered_at)
            .where(CONVERSATIONS.c.queue_id == queue_id, *(
                (CONVERSATIONS.c.status.in_(HOLDING), CONVERSATIONS.c.agent_id.is_(None), ~_offered_now())
                if unassigned else (CONVERSATIONS.c.status.in_(OPEN_STATUSES),)
            ))
            .order_by(CONVERSATIONS.c.queue_entered_at, CONVERSATIONS.c.id)
            .limit(1)
        ).first()
        if found is None:
            continue
        since = as_utc(found[1])
        longest = LongestWaiting(conversation_id=found[0], since=since, age_seconds=max(0.0, _seconds(now - since)))
        if unassigned:
            stats[queue_id].longest_unassigned = longest
        else:
            stats[queue_id].longest_waiting = longest


def _window(
    session: Session,
    ids: list[str],
    stats: dict[str, QueueStatistics],
    now: datetime,
    window: timedelta,
) -> None:
    """Moves in and out of the window by the `queue_moves` rows (indexed by queue and time),
    and the mean time in the queue of the stays ended by a move out."""
    connection = session.connection()
    in_window = QUEUE_MOVES.c.at.between(now - window, now)
    routed_in: dict[str, int] = dict(connection.execute(
        sa_select(QUEUE_MOVES.c.to_queue_id, func.count())
        .where(QUEUE_MOVES.c.to_queue_id.in_(ids), in_window).group_by(QUEUE_MOVES.c.to_queue_id)
    ).all())
    routed_out: dict[str, int] = {}
    means: dict[str, float | None] = {}
    left = QUEUE_MOVES.c.from_queue_id
    if on_postgresql(session):
        for queue_id, count, mean in connection.execute(
            sa_select(left, func.count(), func.avg(seconds_between(QUEUE_MOVES.c.from_entered_at, QUEUE_MOVES.c.at)))
            .where(left.in_(ids), in_window).group_by(left)
        ).all():
            routed_out[queue_id], means[queue_id] = count, None if mean is None else round(mean, 3)
    else:
        stays: defaultdict[str, list[float]] = defaultdict(list)
        for queue_id, at, entered_at in connection.execute(
            sa_select(left, QUEUE_MOVES.c.at, QUEUE_MOVES.c.from_entered_at).where(left.in_(ids), in_window)
        ).all():
            routed_out[queue_id] = routed_out.get(queue_id, 0) + 1
            if entered_at is not None:
                stays[queue_id].append((as_utc(at) - as_utc(entered_at)).total_seconds())
        means = {queue_id: round(sum(values) / len(values), 3) for queue_id, values in stays.items()}
    for queue_id, queue in stats.items():
        queue.routed_in = routed_in.get(queue_id, 0)
        queue.routed_out = routed_out.get(queue_id, 0)
        queue.mean_time_in_queue_seconds = means.get(queue_id)


def _assignment(
    session: Session, ids: list[str], stats: dict[str, QueueStatistics], now: datetime,
    window: timedelta, default_capacity: int,
) -> None:
    offered = session.exec(
        select(AssignmentRow.queue_id, func.count()).where(
            col(AssignmentRow.queue_id).in_(ids), AssignmentRow.state == OFFERED)
        .group_by(col(AssignmentRow.queue_id))
    ).all()
    for queue_id, count in offered:
        if queue_id in stats:
            stats[queue_id].pending_offers = count
            stats[queue_id].waiting -= count
    for queue_id in ids:
        stats[queue_id].active_members, stats[queue_id].eligible_agents = member_counts(
            session, queue_id, default_capacity)

    # The first ASSIGNED of each conversation now in the queue, when it gave an agent and is in
    # the window (`first_assigned_at`), from the conversation's creation.
    first = (CONVERSATIONS.c.queue_id.in_(ids),
             CONVERSATIONS.c.first_assigned_at.between(now - window, now))
    if on_postgresql(session):
        waited = func.greatest(seconds_between(CONVERSATIONS.c.created_at, CONVERSATIONS.c.first_assigned_at), 0)
        for queue_id, ranks in session.connection().execute(
            sa_select(CONVERSATIONS.c.queue_id, nearest_ranks(waited)).where(*first)
            .group_by(CONVERSATIONS.c.queue_id)
        ).all():
            stats[queue_id].first_assignment_p50_seconds = round(ranks[0], 3)
            stats[queue_id].first_assignment_p90_seconds = round(ranks[1], 3)
        return
    waits: defaultdict[str, list[float]] = defaultdict(list)
    for at, created_at, queue_id in session.connection().execute(
        sa_select(CONVERSATIONS.c.first_assigned_at, CONVERSATIONS.c.created_at, CONVERSATIONS.c.queue_id)
        .where(*first)
    ).all():
        waits[queue_id].append(max(0.0, (as_utc(at) - as_utc(created_at)).total_seconds()))
    for queue_id, seconds in waits.items():
        stats[queue_id].first_assignment_p50_seconds = _nearest_rank(seconds, 0.5)
        stats[queue_id].first_assignment_p90_seconds = _nearest_rank(seconds, 0.9)


def _offered_now() -> Any:
    """Whether the conversation has an offer pending (its assignment row is OFFERED)."""
    return select(ASSIGNMENTS.c.conversation_id).where(
        ASSIGNMENTS.c.conversation_id == CONVERSATIONS.c.id, ASSIGNMENTS.c.state == OFFERED,
    ).exists()


def _nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 3)
