"""Which eligible agent gets a waiting conversation: the queue's algorithm, pure.

The store finds the candidates (enabled ACTIVE members of the queue) with their loads and
skill levels under lock; this module decides which of them may take this conversation (room,
and every requirement not yet relaxed met: domain.skills), chooses among those and says why,
so every rule of the choice is unit-tested without a database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from domain.skills import RequiredSkill, matched, score, why_not


# A queue's auto-assignment algorithm (the queues API's `autoAssignmentAlgorithm`). No
# docstring: it would become the OpenAPI schema's description.
class AutoAssignmentAlgorithm(str, Enum):
    LOAD_BALANCING = "LOAD_BALANCING"
    ROUND_ROBIN = "ROUND_ROBIN"
    # Infobip's: the highest skill score first, then as LOAD_BALANCING.
    PERFORMANCE_BASED = "PERFORMANCE_BASED"


# The algorithms as the store keeps them (plain strings; the queue's column is a string).
LOAD_BALANCING = AutoAssignmentAlgorithm.LOAD_BALANCING.value
ROUND_ROBIN = AutoAssignmentAlgorithm.ROUND_ROBIN.value
# Infobip's third algorithm: we have no performance data but the skill score, so it ranks by
# that, and balances load among equal scores (all of them when a conversation needs no skill).
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
    # The skills it holds, name to level: what a conversation's requirements are met by.
    levels: Mapping[str, int] = field(default_factory=dict)

    @property
    def has_room(self) -> bool:
        return self.load < self.capacity


def may_take(candidate: Candidate, required: Sequence[RequiredSkill] = ()) -> bool:
    """Room for one more, and every requirement not yet relaxed held at its level."""
    return candidate.has_room and why_not(candidate.levels, required) is None


@dataclass(frozen=True)
class Choice:
    agent_id: str
    reason: str


def choose(
    algorithm: str | None,
    candidates: list[Candidate],
    *,
    required: Sequence[RequiredSkill] = (),
    last_order: tuple[str, ...] | None = None,
    sticky_agent_id: str | None = None,
) -> Choice | None:
    """The agent a waiting conversation goes to, or None if no candidate may take it.

    `required` are the conversation's skill requirements (relaxed ones too: they count in the
    score); `last_order` is the place, in the queue's stable order, of the agent this queue
    assigned last (round robin continues after it, whether or not that agent is still a
    candidate); `sticky_agent_id` the agent who last had this customer, if the queue is sticky.
    With no requirements every score is 0 and every reason reads as it did before skills."""
    free = [candidate for candidate in candidates if may_take(candidate, required)]
    if not free:
        return None
    if sticky_agent_id is not None:
        for candidate in free:
            if candidate.agent_id == sticky_agent_id:
                return Choice(candidate.agent_id,
                              f"sticky: last had this customer; {_load(candidate)}{_skills(candidate, required)}")
    if (algorithm or DEFAULT_ALGORITHM) == ROUND_ROBIN:
        ordered = sorted(free, key=lambda candidate: candidate.order)
        chosen = next((c for c in ordered if last_order is not None and c.order > last_order), ordered[0])
        return Choice(chosen.agent_id, f"ROUND_ROBIN: next after the last assigned; {_load(chosen)}"
                                       f"{_skills(chosen, required)}; {_named(ordered, required)}")
    if algorithm == PERFORMANCE_BASED and required:
        chosen = min(free, key=lambda candidate: _performance_key(candidate, required))
        return Choice(chosen.agent_id, f"PERFORMANCE_BASED: highest score; score {score(chosen.levels, required)}; "
                                       f"{_load(chosen)}{_skills(chosen, required)}; {_named(free, required)}")
    # With no requirements PERFORMANCE_BASED has nothing to rank by but load, and says so.
    chosen = min(free, key=lambda candidate: _balance_key(candidate, required))
    name = algorithm if algorithm == PERFORMANCE_BASED else LOAD_BALANCING
    extra = " (balanced by load)" if name == PERFORMANCE_BASED else ""
    return Choice(chosen.agent_id, f"{name}{extra}: lowest load; {_load(chosen)}{_skills(chosen, required)}; "
                                   f"{_named(free, required)}")


def ranked(
    algorithm: str | None,
    candidates: list[Candidate],
    *,
    required: Sequence[RequiredSkill] = (),
    last_order: tuple[str, ...] | None = None,
) -> list[Candidate]:
    """The candidates that may take the conversation, in the order the queue's algorithm
    prefers them (`choose` takes the first, unless a sticky agent is among them): for a dry
    run, which shows who would get it and who next."""
    free = [candidate for candidate in candidates if may_take(candidate, required)]
    if (algorithm or DEFAULT_ALGORITHM) == ROUND_ROBIN:
        ordered = sorted(free, key=lambda candidate: candidate.order)
        turn = next((n for n, c in enumerate(ordered) if last_order is not None and c.order > last_order), 0)
        return ordered[turn:] + ordered[:turn]
    if algorithm == PERFORMANCE_BASED:
        return sorted(free, key=lambda candidate: _performance_key(candidate, required))
    return sorted(free, key=lambda candidate: _balance_key(candidate, required))


def _balance_key(
    candidate: Candidate, required: Sequence[RequiredSkill]
) -> tuple[float, int, bool, datetime | None, str]:
    # Lowest load ratio; then the highest skill score; then the one never assigned, then the
    # one assigned longest ago.
    return (
        candidate.load / candidate.capacity,
        -score(candidate.levels, required),
        candidate.last_assigned_at is not None,
        candidate.last_assigned_at,
        candidate.agent_id,
    )


def _performance_key(
    candidate: Candidate, required: Sequence[RequiredSkill]
) -> tuple[int, float, bool, datetime | None, str]:
    # The highest skill score; then as load balancing.
    load_ratio, _, never, last, agent_id = _balance_key(candidate, required)
    return (-score(candidate.levels, required), load_ratio, never, last, agent_id)


def _load(candidate: Candidate) -> str:
    return f"load {candidate.load}/{candidate.capacity}"


def _skills(candidate: Candidate, required: Sequence[RequiredSkill]) -> str:
    """The required skills the agent holds and at which levels; nothing when none is required."""
    if not required:
        return ""
    return f"; skills {matched(candidate.levels, required) or 'none'}"


def _named(candidates: list[Candidate], required: Sequence[RequiredSkill] = ()) -> str:
    def one(c: Candidate) -> str:
        return f"{c.agent_id} {c.load}/{c.capacity}" + (f" score {score(c.levels, required)}" if required else "")

    shown = ", ".join(one(c) for c in candidates[:REASON_CANDIDATES])
    more = len(candidates) - REASON_CANDIDATES
    return f"candidates: {shown}" + (f" and {more} more" if more > 0 else "")
