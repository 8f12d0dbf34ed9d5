"""The timed things a conversation's workflow waits for, as one next deadline.

The core answers the earliest (`ConversationCore.next_deadline`); the workflow waits for it on
one durable timer, ended early by anything that moves it (a bot's report, a move, an
assignment, closing), and acts by its kind once it is due (SPEC, "Timers in the conversation's
workflow").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class DeadlineKind(str, Enum):
    # A bot's hand-off ends unreported: routing runs again without the bot.
    BOT_TIMEOUT = "BOT_TIMEOUT"
    # The next step of the current queue's escalation ladder.
    ESCALATION = "ESCALATION"
    # A required skill stops restricting who may take the conversation (domain.skills).
    SKILL_RELAXATION = "SKILL_RELAXATION"
    # An offer to an agent lapses unanswered.
    OFFER_LAPSE = "OFFER_LAPSE"
    # An SLA clock's warning, and its breach (domain.sla_clocks).
    SLA_WARNING = "SLA_WARNING"
    SLA_BREACH = "SLA_BREACH"


@dataclass(frozen=True)
class Deadline:
    """When the next timed thing is due (an absolute time) and what it is."""

    kind: DeadlineKind
    at: datetime
    # The event that set it, where a new one of the kind may fall due at the same time (a
    # bot's hand-off: its BOT_STARTED seq): a new one is another deadline, and the wait starts
    # anew for it, as it always has. None where the time alone says which (escalation).
    seq: int | None = None
    # The SLA clock a warning or breach is of (domain.sla_clocks names).
    clock: str | None = None


def earliest(*deadlines: Deadline | None) -> Deadline | None:
    """The first to fall due; on a tie, the one named first."""
    due = [deadline for deadline in deadlines if deadline is not None]
    return min(due, key=lambda deadline: deadline.at) if due else None
