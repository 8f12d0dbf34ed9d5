"""Which eligible agent gets a waiting conversation: the queue's algorithm, pure.

The store finds the candidates (enabled members of the queue, ACTIVE, below capacity) and
their loads under lock; this module only chooses among them and says why, so every rule of
the choice is unit-tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


# A queue's auto-assignment algorithm (the queues API's `autoAssignmentAlgorithm`). No
# docstring: it would become the OpenAPI schema's description.
class AutoAssignmentAlgorithm(str, Enum):
    LOAD_BALANCING = "LOAD_BALANCING"
    ROUND_ROBIN = "ROUND_ROBIN"
    # Infobip's; stored and reported, and assigned as LOAD_BALANCING.
    PERFORMANCE_BASED = "PERFORMANCE_BASED"


# The algorithms as the store keeps them (plain strings; the queue's column is a string).
LOAD_BALANCING = AutoAssignmentAlgorithm.LOAD_BALANCING.value
ROUND_ROBIN = AutoAssignmentAlgorithm.ROUND_ROBIN.value
# Infobip's third algorithm needs performance data we do not have: it balances load.
PERFORMANCE_BASED = AutoAssignmentAlgorithm.PERFORMANCE_BASED.value
# Conversations an agent without its own maxConversations holds at once (Infobip's default
# for messaging); SWITCHBOARD_DEFAULT_AGENT_CAPACITY overrides it, up to MAX_AGENT_CAPACITY.
DEFAULT_AGENT_CAPACITY = 5
MAX_AGENT_CAPACITY = 1000
# What a queue without an algorithm uses (Infobip's default).
DEFAULT_ALGORITHM = LOAD_BALANCING
# How far back sticky assignment looks when the queue does not say.
DEFAULT_STICKY_DAYS = 7
# Candidates an ASSIGNED event's reason names; a queue may have hundreds of agents.
REASON_CANDIDATES = 10


@dataclass(frozen=True)
class Candidate:
    """An eligible agent: `load` conversations held (OPEN or WAITING) of `capacity`."""

    agent_id: str
    load: int
    capacity: int
    # Its last assignment by any queue (None: never), for ties under load balancing.
    last_assigned_at: datetime | None
    # Its place in the queue's stable order (round robin): when it joined, then its id.
    order: tuple[str, ...]

    @property
    def has_room(self) -> bool:
        return self.load < self.capacity


@dataclass(frozen=True)
class Choice:
    agent_id: str
    reason: str


def choose(
    algorithm: str | None,
    candidates: list[Candidate],
    *,
    last_order: tuple[str, ...] | None = None,
    sticky_agent_id: str | None = None,
) -> Choice | None:
    """The agent a waiting conversation goes to, or None if no candidate has room.

    `last_order` is the place, in the queue's stable order, of the agent this queue assigned
    last (round robin continues after it, whether or not that agent is still a candidate);
    `sticky_agent_id` the agent who last had this customer, if the queue is sticky."""
    free = [candidate for candidate in candidates if candidate.has_room]
    if not free:
        return None
    if sticky_agent_id is not None:
        for candidate in free:
            if candidate.agent_id == sticky_agent_id:
                return Choice(candidate.agent_id, f"sticky: last had this customer; {_load(candidate)}")
    if (algorithm or DEFAULT_ALGORITHM) == ROUND_ROBIN:
        ordered = sorted(free, key=lambda candidate: candidate.order)
        chosen = next((c for c in ordered if last_order is not None and c.order > last_order), ordered[0])
        return Choice(chosen.agent_id, f"ROUND_ROBIN: next after the last assigned; {_load(chosen)}; "
                                       f"{_named(ordered)}")
    chosen = min(free, key=_balance_key)
    name = algorithm if algorithm == PERFORMANCE_BASED else LOAD_BALANCING
    extra = " (balanced by load)" if name == PERFORMANCE_BASED else ""
    return Choice(chosen.agent_id, f"{name}{extra}: lowest load; {_load(chosen)}; {_named(free)}")


def _balance_key(candidate: Candidate) -> tuple[float, int, datetime | None, str]:
    # Lowest load ratio; then the one never assigned, then the one assigned longest ago.
    return (
        candidate.load / candidate.capacity,
        candidate.last_assigned_at is not None,
        candidate.last_assigned_at,
        candidate.agent_id,
    )


def _load(candidate: Candidate) -> str:
    return f"load {candidate.load}/{candidate.capacity}"


def _named(candidates: list[Candidate]) -> str:
    shown = ", ".join(f"{c.agent_id} {c.load}/{c.capacity}" for c in candidates[:REASON_CANDIDATES])
    more = len(candidates) - REASON_CANDIDATES
    return f"candidates: {shown}" + (f" and {more} more" if more > 0 else "")
