"""Estimated waits (domain.estimated_wait) read from the store, and how wrong they were.

- **Answers** of a queue in a window: its conversations (those whose current queue it is)
  whose first ASSIGNED with an agent since they entered it (`queued_at`) is in the window. A
  conversation moved on since is no longer counted in the queue it left.
- **Entry estimate**: the projection records, when a conversation enters a queue and is left
  waiting there, the estimate it would have been answered at then
  (`conversations.entry_wait_estimate_seconds`); one answered in the same step has none.
- **Estimate error** over a window: over the queue's answers in the window that have an entry
  estimate, the median of |entry estimate - (answer - entry)| in seconds; None when there is
  none. A conversation's earlier stays (before its current one) are not kept.

Cost, per queue asked about: one query counting its answers in the last hour, driven by that
hour's ASSIGNED events through `ix_conversation_events_type_at` (each checked against its
conversation's row and earlier events by primary key; it read the queue's whole history
before, in every projection entering the queue), and those of `member_counts`.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func
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


def _answered_at(since: datetime, until: datetime) -> Any:
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
    return (
        select_columns(CONVERSATIONS.c.id, func.min(EVENTS.c.at).label("answered_at"))
        .join(EVENTS, EVENTS.c.conversation_id == CONVERSATIONS.c.id)
        .where(
            EVENTS.c.type == ASSIGNED, EVENTS.c.body["agent_id"].as_string().is_not(None),
            EVENTS.c.at >= since, EVENTS.c.at <= until, EVENTS.c.at >= CONVERSATIONS.c.queued_at,
            ~answered_before,
        )
        .group_by(CONVERSATIONS.c.id)
    )


def answer_rate(session: Session, queue_id: str, now: datetime, default_capacity: int) -> AnswerRate:
    """What the queue's estimates at `now` are computed from."""
    now = as_utc(now)
    recent, fallback = now - RECENT, now - FALLBACK
    answers = _answered_at(fallback, now).where(CONVERSATIONS.c.queue_id == queue_id).subquery()
    counted = session.connection().execute(
        select_columns(
            func.count(distinct(answers.c.id)).filter(answers.c.answered_at >= recent),
            func.count(distinct(answers.c.id)),
        )
    ).one()
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


def estimate_error_seconds(session: Session, queue_id: str, start: datetime, end: datetime) -> float | None:
    """The median absolute error of the entry estimates of the queue's answers in [start, end]."""
    answers = _answered_at(as_utc(start), as_utc(end)).where(
        CONVERSATIONS.c.queue_id == queue_id, CONVERSATIONS.c.entry_wait_estimate_seconds.is_not(None),
    ).subquery()
    rows = session.connection().execute(
        select_columns(CONVERSATIONS.c.queued_at, CONVERSATIONS.c.entry_wait_estimate_seconds, answers.c.answered_at)
        .join(answers, answers.c.id == CONVERSATIONS.c.id)
    ).all()
    errors = [abs(estimate - (as_utc(answered) - as_utc(entered)).total_seconds())
              for entered, estimate, answered in rows]
    return round(statistics.median(errors), 3) if errors else None
