"""Estimated waits (domain.estimated_wait) read from the store, and how wrong they were.

- **Answers** of a queue in a window: its conversations (those whose current queue it is)
  whose first ASSIGNED with an agent since they entered it (`queued_at`) is in the window. A
  conversation moved on since is no longer counted in the queue it left.
- **Not yet measured against the waits**: recording each conversation's estimate at entry in
  the projection (`conversations.entry_wait_estimate_seconds`, migration 0020) made make
  bench's webhook p99 in a burst 1.6 s -> 11-14 s, so it was taken out; the column waits for a
  recording outside the projection's transaction (and `estimatedWaitErrorSeconds` with it).

Cost, per queue asked about: one query counting its answers in the last hour, driven by that
hour's ASSIGNED events through `ix_conversation_events_type_at` (each checked against its
conversation's row and earlier events by primary key; it read the queue's whole history
before, in every projection entering the queue), and those of `member_counts`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, distinct, func
from sqlalchemy import select as select_columns
from sqlmodel import Session

from domain.conversation import EventType
from domain.estimated_wait import FALLBACK, RECENT, AnswerRate, estimated_wait_seconds
from domain.models import as_utc
from store.assignment import member_counts
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
