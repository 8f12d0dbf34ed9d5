"""A waiting conversation's estimated wait (SPEC "Service level", Estimated wait).

A conversation at place `position` in its queue's waiting order is answered after the
`position - 1` ahead of it and then itself: `position` answers in the queue. Agents with room
now take the first of them at once; the rest come at the queue's recent answer rate:

    estimate = max(0, position - agents_with_room) x window / answers in the window

with the window the last 30 minutes, or the last hour when the queue had no answer in those
30 minutes. None (no estimate) when it had none in the hour either: a queue nobody answers
gives no basis. An answer is a conversation of the queue getting an agent (with offers on, the
accept). Limits: it assumes the next answers come as the recent ones did (a shift starting or
ending is seen only as answers come or stop), and that every agent with room can take it
(required skills are not weighed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

RECENT = timedelta(minutes=30)
FALLBACK = timedelta(hours=1)


@dataclass(frozen=True)
class AnswerRate:
    """What a queue's estimates are computed from, read once per queue."""

    answers_recent: int  # answers in the last RECENT
    answers_fallback: int  # answers in the last FALLBACK
    agents_with_room: int

    def seconds_per_answer(self) -> float | None:
        """The recent mean time between answers; None when there was no answer in FALLBACK."""
        if self.answers_recent:
            return RECENT.total_seconds() / self.answers_recent
        if self.answers_fallback:
            return FALLBACK.total_seconds() / self.answers_fallback
        return None


def estimated_wait_seconds(position: int, rate: AnswerRate) -> float | None:
    """Seconds until the conversation at `position` (1-based) is answered, by the formula
    above, rounded to the second; None without a recent answer."""
    if position <= rate.agents_with_room:
        return 0.0
    per_answer = rate.seconds_per_answer()
    if per_answer is None:
        return None
    return float(round((position - rate.agents_with_room) * per_answer))
