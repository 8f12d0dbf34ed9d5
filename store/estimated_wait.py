"""Estimated waits (domain.estimated_wait) read from the store, and how wrong they were.

- **Answers** of a queue in a window: its conversations (those whose current queue it is)
  whose first ASSIGNED with an agent since they entered it (`queued_at`) is in the window. A
  conversation moved on since is no longer counted in the queue it left.
- **The estimate at entry** (`record`): each stay (`stays`, store.stays) entering waiting gets
  the estimate a caller of GET read then, position and answer rate as GET reads them, written
  with when it was read (`entry_estimate_seconds`, `entry_estimate_at`). Not in the projection:
  recording it in the projection's transaction (0020's conversation column, since dropped)
  made make bench's webhook p99 in a burst 1.6 s -> 11-14 s. The dispatcher reads it before
  any pass that claims (each projection wakes one) and otherwise once a second: within about
  a second of the entry, and before the conversation is claimed for an agent (by this
  process's dispatcher; another's may claim first). A stay seen no longer waiting unassigned (an
  agent came along, it is claimed) gets none; one answered or ended before any pass, and one
  entered more than RECORD_WITHIN before (no worker ran), is left without.
- **Its error** (`estimate_error`) over a window: the median (nearest rank) of |estimate -
  wait| over the stays answered in the window that have an estimate, the wait being from the
  entry to the answer. Abandoned stays do not count: the customer left, so how long they
  would have waited is unknown, and a right estimate would count as wrong by however early
  they gave up. None with no such stay.

Cost, per queue asked about: one query counting its answers in the last hour, driven by that
hour's ASSIGNED events through `ix_conversation_events_type_at` (each checked against its
conversation's row and earlier events by primary key; it read the queue's whole history
before, in every projection entering the queue), and those of `member_counts`. `record`: one
range of `ix_stays_estimate_due` (open unanswered stays not yet read, the last minute's), and for
those found, one positions query, the estimates' queries per queue and one update. The error:
a range of `ix_stays_queue_answered_estimate` (queue, answer, and the entry and estimate, so
covering), ranked in SQL on PostgreSQL, in Python on SQLite.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, distinct, func, update
from sqlalchemy import select as select_columns
from sqlmodel import Session

from domain.conversation import EventType
from domain.estimated_wait import FALLBACK, RECENT, AnswerRate, estimated_wait_seconds
from domain.models import as_utc
from store.assignment import member_counts, queue_positions
from store.statistics import Timing
from store.stays import STAYS, on_postgresql, seconds_between
from store.tables import ConversationEventRow, ConversationRow

EVENTS: Any = ConversationEventRow.__table__  # type: ignore[attr-defined]
CONVERSATIONS: Any = ConversationRow.__table__  # type: ignore[attr-defined]
ASSIGNED = EventType.ASSIGNED.value


def _answered_at(since: Any, until: Any) -> Any:  # bound parameters, bound per call
    """Per conversation: its first answer in its current stay, when that falls in [since,
    until]. Read from the window's ASSIGNED events (`ix_conversation_events_type_at`), each
    conversation checked for an answer before the window through its own events' primary key,
    so the cost follows the window's answers, not the queue's history."""
    earlier = EVENTS.alias("earlier")
    answered_before = (
        select_columns(earlier.c.seq)
        .where(
            earlier.c.conversation_id == CONVERSATIONS.c.id, earlier.c.type == ASSIGNED,
            earlier.c.body["agent_id"].as_string().is_not(None),
            earlier.c.at >= CONVERSATIONS.c.queued_at, earlier.c.at < since,
        )
        .exists()
    )
    in_window = select_columns(EVENTS.c.conversation_id).where(
        EVENTS.c.type == ASSIGNED, EVENTS.c.at >= since, EVENTS.c.at <= until)
    return (
        select_columns(CONVERSATIONS.c.id, func.min(EVENTS.c.at).label("answered_at"))
        .join(EVENTS, EVENTS.c.conversation_id == CONVERSATIONS.c.id)
        .where(
            CONVERSATIONS.c.id.in_(in_window),  # first: the planners start from the window's events
            EVENTS.c.type == ASSIGNED, EVENTS.c.body["agent_id"].as_string().is_not(None),
            EVENTS.c.at >= since, EVENTS.c.at <= until, EVENTS.c.at >= CONVERSATIONS.c.queued_at,
            ~answered_before,
        )
        .group_by(CONVERSATIONS.c.id)
    )


# Built once: a statement made per call cost more Python than the query's SQL (py-spy on a
# loaded API: the estimate was an eighth of its time, a third of that building it).
_NOW: Any = bindparam("now")
_RECENT_SINCE: Any = bindparam("recent_since")
_FALLBACK_SINCE: Any = bindparam("fallback_since")
_QUEUE: Any = bindparam("queue_id")
_ANSWERS = _answered_at(_FALLBACK_SINCE, _NOW).where(CONVERSATIONS.c.queue_id == _QUEUE).subquery()
_COUNT_ANSWERS = select_columns(
    func.count(distinct(_ANSWERS.c.id)).filter(_ANSWERS.c.answered_at >= _RECENT_SINCE),
    func.count(distinct(_ANSWERS.c.id)),
)


def answer_rate(session: Session, queue_id: str, now: datetime, default_capacity: int) -> AnswerRate:
    """What the queue's estimates at `now` are computed from."""
    now = as_utc(now)
    counted = session.connection().execute(_COUNT_ANSWERS, {
        "now": now, "recent_since": now - RECENT, "fallback_since": now - FALLBACK, "queue_id": queue_id,
    }).one()
    _, with_room = member_counts(session, queue_id, default_capacity)
    return AnswerRate(answers_recent=int(counted[0]), answers_fallback=int(counted[1]), agents_with_room=with_room)


def estimates(
    session: Session, waiting: dict[str, tuple[str, int]], now: datetime, default_capacity: int,
) -> dict[str, float | None]:
    """Each waiting conversation's estimate, from {id: (queue id, position)}; each queue's
    rate read once, however many of its conversations are asked about."""
    rates = {queue_id: answer_rate(session, queue_id, now, default_capacity)
             for queue_id in {queue_id for queue_id, _ in waiting.values()}}
    return {conversation_id: estimated_wait_seconds(position, rates[queue_id])
            for conversation_id, (queue_id, position) in waiting.items()}


# A stay entered longer ago than this without its estimate read gets none: read later, it
# would be no estimate anyone was given at the entry.
RECORD_WITHIN = timedelta(minutes=1)
RECORD_BATCH = 500  # stays read per pass at most; the rest in the next passes

_DUE = (
    select_columns(STAYS.c.conversation_id, STAYS.c.seq, STAYS.c.queue_id)
    .where(STAYS.c.entry_estimate_at.is_(None), STAYS.c.answered_at.is_(None), STAYS.c.ended_at.is_(None),
           STAYS.c.entered_at >= bindparam("since"))
    .order_by(STAYS.c.entered_at).limit(RECORD_BATCH)
)
_RECORD = update(STAYS).where(
    STAYS.c.conversation_id == bindparam("key_conversation"), STAYS.c.seq == bindparam("key_seq"),
    STAYS.c.entry_estimate_at.is_(None),
).values(entry_estimate_seconds=bindparam("estimate"), entry_estimate_at=bindparam("at"))


def record(session: Session, now: datetime, default_capacity: int) -> int:
    """Writes the estimate at entry of the stays that entered waiting since the last pass (see
    the module's docstring), as GET would answer at `now`; returns how many were read."""
    now = as_utc(now)
    connection = session.connection()
    due = connection.execute(_DUE, {"since": now - RECORD_WITHIN}).all()
    if not due:
        return 0
    # An open stay is in its conversation's current queue: GET's position there is the one.
    positions = queue_positions(session, [conversation_id for conversation_id, _, _ in due])
    waits = estimates(session, {conversation_id: (queue_id, positions[conversation_id])
                                for conversation_id, _, queue_id in due if conversation_id in positions},
                      now, default_capacity)
    connection.execute(_RECORD, [
        {"key_conversation": conversation_id, "key_seq": seq, "estimate": waits.get(conversation_id), "at": now}
        for conversation_id, seq, _ in due
    ])
    return len(due)


def estimate_error(session: Session, queue_id: str, start: datetime, end: datetime) -> float | None:
    """The median absolute error, in seconds, of the estimates at entry of the queue's stays
    answered in [start, end] (see the module's docstring); None with none."""
    start, end = as_utc(start), as_utc(end)
    answered = (STAYS.c.queue_id == queue_id, STAYS.c.answered_at.between(start, end),
                STAYS.c.entry_estimate_seconds.is_not(None))
    connection = session.connection()
    if on_postgresql(session):
        error = func.abs(STAYS.c.entry_estimate_seconds - seconds_between(STAYS.c.entered_at, STAYS.c.answered_at))
        median = connection.execute(
            select_columns(func.percentile_disc(0.5).within_group(error)).where(*answered)).scalar()
        return None if median is None else round(median, 3)
    rows = connection.execute(select_columns(
        STAYS.c.entered_at, STAYS.c.answered_at, STAYS.c.entry_estimate_seconds).where(*answered)).all()
    return Timing.of([abs(estimate - (as_utc(answered_at) - as_utc(entered_at)).total_seconds())
                      for entered_at, answered_at, estimate in rows]).p50
