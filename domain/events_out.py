"""Events out (webhooks and the live stream): their public type names, and the delivery rules
that need no I/O: the retry schedule and what an answer means for the next attempt."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import Enum

from domain.conversation import EventType

MESSAGE_CREATED = "message.created"
AGENT_STATUS_CHANGED = "agent.status_changed"


def conversation_event_type(event_type: EventType) -> str:
    """A timeline event's public type: ROUTED -> conversation.routed, BOT_STARTED ->
    conversation.bot_started (every type the timeline gains is published this way)."""
    return f"conversation.{event_type.value.lower()}"


EVENT_TYPES: tuple[str, ...] = (
    *(conversation_event_type(event_type) for event_type in EventType),
    MESSAGE_CREATED,
    AGENT_STATUS_CHANGED,
)

# Standard Webhooks' suggestion, and the spec's: about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_RETRY_SCHEDULE = "5s,5m,30m,2h,5h,10h,10h"
# A receiver's Retry-After is honoured up to this; beyond it, the next attempt comes at this.
MAX_RETRY_AFTER = timedelta(hours=10)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def parse_retry_schedule(text: str) -> tuple[timedelta, ...]:
    """'5s,5m,30m' -> the delays after the first, second, third failed attempt. ValueError
    names the part that is not a duration."""
    delays = []
    for part in (piece.strip() for piece in text.split(",")):
        match = _DURATION.match(part)
        if match is None:
            raise ValueError(f"{part!r} is not a duration such as 500ms, 5s, 5m or 2h")
        delays.append(timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2]]))
    return tuple(delays)


class Outcome(str, Enum):
    DELIVERED = "DELIVERED"
    RETRY = "RETRY"  # a timeout, a connection error, a 5xx, 408 or 429: tried again later
    FAILED = "FAILED"  # any other answer, or the schedule is spent: not tried again
    GONE = "GONE"  # 410: the receiver asks us to stop; its subscription is disabled


def outcome_of(status_code: int | None) -> Outcome:
    """None: no answer (timeout, refused connection, an address not allowed)."""
    if status_code is None or status_code >= 500 or status_code in (408, 429):
        return Outcome.RETRY
    if 200 <= status_code < 300:
        return Outcome.DELIVERED
    if status_code == 410:
        return Outcome.GONE
    return Outcome.FAILED


@dataclass(frozen=True)
class NextAttempt:
    outcome: Outcome
    at: datetime | None  # when to try again (RETRY only)


def next_attempt(
    status_code: int | None, attempts: int, now: datetime, schedule: tuple[timedelta, ...],
    retry_after: timedelta | None = None,
) -> NextAttempt:
    """What follows the `attempts`-th attempt (1-based) that got `status_code`. A RETRY past
    the schedule's end is FAILED; a receiver's Retry-After replaces the schedule's delay."""
    outcome = outcome_of(status_code)
    if outcome is not Outcome.RETRY:
        return NextAttempt(outcome, None)
    if attempts > len(schedule):
        return NextAttempt(Outcome.FAILED, None)
    delay = schedule[attempts - 1] if retry_after is None else min(retry_after, MAX_RETRY_AFTER)
    return NextAttempt(Outcome.RETRY, now + delay)


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))
