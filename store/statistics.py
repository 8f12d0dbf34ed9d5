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

Cost, per request, with Q the queues asked about (plans checked on SQLite and PostgreSQL):
- counts: one GROUP BY over the conversations of Q with status in (OPEN, WAITING, SOLVED),
  through `ix_conversations_waiting (queue_id, status, ...)` (covering on SQLite) or
  `ix_conversations_status`: it reads the open conversations, never the closed history;
- longest waiting: the same open conversations, each with one look-up of its own events
  through their primary key (conversation_id, seq), ranked per queue in SQL; one row per
  queue comes back: O(events of the open conversations);
- the window: the move events with `at` in the last hour, and for each move out one look-up
  of the same conversation's earlier events (primary key, seq below the move's) to find where
  its stay began: O(moves in the window x events per conversation). The range on
  `conversation_events.at` is bounded only with an index on (type, at) or (at); without one
  this query scans the events table (the one part that reads all history).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Table, case, func, or_, type_coerce
from sqlmodel import Session, col, select

from domain.assignment import DEFAULT_AGENT_CAPACITY
from domain.conversation import EventType
from domain.models import OPEN_STATUSES, PRIORITY_RANK, Priority, as_utc
from store.assignment import HOLDING, OFFERED, eligible_agents_count
from store.tables import AssignmentRow, ConversationEventRow, ConversationRow, QueueRow

WINDOW = timedelta(hours=1)
MOVES = (EventType.ROUTED.value, EventType.REROUTED.value)
# Highest first, as the spec orders priorities.
PRIORITIES = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)
PRIORITY_BY_RANK = {rank: priority for priority, rank in PRIORITY_RANK.items()}

# SQLModel makes __table__ for every table=True class but does not declare it.
EVENTS: Table = ConversationEventRow.__table__  # type: ignore[attr-defined]
CONVERSATIONS: Table = ConversationRow.__table__  # type: ignore[attr-defined]
UTC_TIME = DateTime(timezone=True)


@dataclass(frozen=True)
class LongestWaiting:
    conversation_id: str
    since: datetime
    age_seconds: float


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
    ids = list(stats)
    _count_open(session, ids, stats)
    _longest_waiting(session, ids, stats, now)
    _window(session, ids, stats, now, window)
    _assignment(session, ids, stats, now, window, default_capacity)
    return [stats[queue.id] for queue in queues]


def _count_open(session: Session, ids: list[str], stats: dict[str, QueueStatistics]) -> None:
    rows = session.exec(
        select(CONVERSATIONS.c.queue_id, CONVERSATIONS.c.status, CONVERSATIONS.c.priority_rank,
               func.count())
        .where(CONVERSATIONS.c.queue_id.in_(ids), CONVERSATIONS.c.status.in_(OPEN_STATUSES))
        .group_by(CONVERSATIONS.c.queue_id, CONVERSATIONS.c.status, CONVERSATIONS.c.priority_rank)
    ).all()
    for queue_id, status, rank, count in rows:
        queue = stats[queue_id]
        queue.by_status[status] += count
        queue.by_priority[PRIORITY_BY_RANK[rank].value] += count


def _longest_waiting(
    session: Session, ids: list[str], stats: dict[str, QueueStatistics], now: datetime
) -> None:
    # The latest real move into the conversation's current queue: its entry. A correlated
    # look-up through the events' primary key, once per open conversation.
    entered = (
        select(func.max(EVENTS.c.at))
        .where(
            EVENTS.c.conversation_id == CONVERSATIONS.c.id,
            EVENTS.c.type.in_(MOVES),
            _to_queue(EVENTS) == CONVERSATIONS.c.queue_id,
            or_(_from_queue(EVENTS).is_(None), _from_queue(EVENTS) != CONVERSATIONS.c.queue_id),
        )
        .scalar_subquery()
    )
    # Materialized, so a planner that inlines it does not run the look-up twice a row (once
    # for the ranking, once for the output).
    waiting = (
        select(
            CONVERSATIONS.c.id,
            CONVERSATIONS.c.queue_id,
            type_coerce(func.coalesce(entered, CONVERSATIONS.c.created_at), UTC_TIME)
            .label("since"),
        )
        .where(CONVERSATIONS.c.queue_id.in_(ids), CONVERSATIONS.c.status.in_(OPEN_STATUSES))
        .cte("waiting")
        .prefix_with("MATERIALIZED")
    )
    ranked = select(
        waiting.c.id,
        waiting.c.queue_id,
        waiting.c.since,
        func.row_number()
        .over(partition_by=waiting.c.queue_id, order_by=(waiting.c.since, waiting.c.id))
        .label("place"),
    ).subquery()
    rows = session.exec(
        select(ranked.c.id, ranked.c.queue_id, ranked.c.since).where(ranked.c.place == 1)
    ).all()
    for conversation_id, queue_id, since in rows:
        since = as_utc(since)
        stats[queue_id].longest_waiting = LongestWaiting(
            conversation_id=conversation_id,
            since=since,
            age_seconds=max(0.0, _seconds(now - since)),
        )


def _window(
    session: Session,
    ids: list[str],
    stats: dict[str, QueueStatistics],
    now: datetime,
    window: timedelta,
) -> None:
    prior = EVENTS.alias("prior")
    left = _from_queue(EVENTS)
    # Where the stay that this move ends began: the latest real move into the queue it leaves.
    entry = (
        select(func.max(prior.c.at))
        .where(
            prior.c.conversation_id == EVENTS.c.conversation_id,
            prior.c.seq < EVENTS.c.seq,
            prior.c.type.in_(MOVES),
            _to_queue(prior) == left,
            or_(_from_queue(prior).is_(None), _from_queue(prior) != left),
        )
        .scalar_subquery()
    )
    query = select(
        EVENTS.c.at,
        left.label("from_queue_id"),
        _to_queue(EVENTS).label("to_queue_id"),
        type_coerce(
            case((left.is_not(None) & (left != _to_queue(EVENTS)), entry), else_=None), UTC_TIME
        ).label("entered_at"),
    ).where(
        EVENTS.c.type.in_(MOVES),
        EVENTS.c.at >= now - window,
        EVENTS.c.at <= now,
    )
    if len(ids) == 1:
        query = query.where(or_(left == ids[0], _to_queue(EVENTS) == ids[0]))

    routed_in: Counter[str] = Counter()
    routed_out: Counter[str] = Counter()
    stays: defaultdict[str, list[float]] = defaultdict(list)
    for at, from_queue, to_queue, entered_at in session.exec(query).all():
        if from_queue == to_queue:
            continue
        if to_queue in stats:
            routed_in[to_queue] += 1
        if from_queue in stats:
            routed_out[from_queue] += 1
            if entered_at is not None:
                stays[from_queue].append((as_utc(at) - as_utc(entered_at)).total_seconds())
    for queue_id, queue in stats.items():
        queue.routed_in = routed_in[queue_id]
        queue.routed_out = routed_out[queue_id]
        durations = stays.get(queue_id)
        queue.mean_time_in_queue_seconds = (
            round(sum(durations) / len(durations), 3) if durations else None
        )


def _assignment(
    session: Session, ids: list[str], stats: dict[str, QueueStatistics], now: datetime,
    window: timedelta, default_capacity: int,
) -> None:
    rows = session.exec(
        select(CONVERSATIONS.c.queue_id, CONVERSATIONS.c.agent_id.is_(None), func.count())
        .where(CONVERSATIONS.c.queue_id.in_(ids), CONVERSATIONS.c.status.in_(HOLDING))
        .group_by(CONVERSATIONS.c.queue_id, CONVERSATIONS.c.agent_id.is_(None))
    ).all()
    for queue_id, unassigned, count in rows:
        if unassigned:
            stats[queue_id].waiting += count
        else:
            stats[queue_id].assigned += count
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
        stats[queue_id].eligible_agents = eligible_agents_count(session, queue_id, default_capacity)

    earlier = EVENTS.alias("earlier")
    first_assigned = select(EVENTS.c.at, CONVERSATIONS.c.created_at, CONVERSATIONS.c.queue_id).join(
        CONVERSATIONS, CONVERSATIONS.c.id == EVENTS.c.conversation_id,
    ).where(
        EVENTS.c.type == EventType.ASSIGNED.value,
        # Before UNASSIGNED existed, an unassignment was ASSIGNED without an agent.
        EVENTS.c.body["agent_id"].as_string().is_not(None),
        EVENTS.c.at >= now - window,
        EVENTS.c.at <= now,
        CONVERSATIONS.c.queue_id.in_(ids),
        ~select(earlier.c.seq).where(
            earlier.c.conversation_id == EVENTS.c.conversation_id,
            earlier.c.seq < EVENTS.c.seq,
            earlier.c.type == EventType.ASSIGNED.value,
        ).exists(),
    )
    waits: defaultdict[str, list[float]] = defaultdict(list)
    for at, created_at, queue_id in session.exec(first_assigned).all():
        waits[queue_id].append(max(0.0, (as_utc(at) - as_utc(created_at)).total_seconds()))
    for queue_id, seconds in waits.items():
        stats[queue_id].first_assignment_p50_seconds = _nearest_rank(seconds, 0.5)
        stats[queue_id].first_assignment_p90_seconds = _nearest_rank(seconds, 0.9)


def _nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 3)
