"""Who may see People's data: an event or a routing decision as its audience receives it.

A person's attributes (People, /people/2/persons) are the `customer.*` facts of routing, and a
routing decision records them twice: in its `facts`, and in the `reason` of each rule of its
trace that compared one (`customer.country is "Spain", not $eq "Croatia"`). They are for
supervisors: agents and bots never receive them, in answers, the timeline, the live stream or a
bot's webhook (the spec's "Security and data"). Every exit renders what it sends through
`event_for` or `decision_for` with its reader's audience.

What agents and bots still see: every other fact (`message.*`, `conversation.*`), every rule
tried with its outcome, and each explanation with a person's value replaced by HIDDEN. The
condition's own text stays: it is the rule's, which they may read in the routing anyway.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import Any

from domain.conversation import ConversationEvent
from domain.expressions import COMPARISONS, show
from domain.models import ActorType, RoutingDecision, TraceEntry

PEOPLE_FACT_PREFIX = "customer."
# What an explanation shows instead of a person's value.
HIDDEN = "(hidden)"


class Audience(str, Enum):
    """Whom an event or decision is rendered for."""

    # Supervisors: everything, People's data included.
    SUPERVISORS = "SUPERVISORS"
    # Agents and bots: no People's data.
    WORKERS = "WORKERS"

    @property
    def sees_people(self) -> bool:
        return self is Audience.SUPERVISORS


def audience_of(actor_type: ActorType) -> Audience:
    """The audience of a caller (or of a subscription's owner) by its type."""
    return Audience.SUPERVISORS if actor_type == ActorType.SUPERVISOR else Audience.WORKERS


def is_people_fact(name: str) -> bool:
    return name.startswith(PEOPLE_FACT_PREFIX)


def without_people(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The facts but a person's."""
    return {name: value for name, value in facts.items() if not is_people_fact(name)}


# `<customer.attribute> is <value>, not <$op> ...`: a value routing saw, as an explanation shows
# it (domain.expressions). Which value is known exactly from the facts; this catches the others
# (a fact that was missing, or an event without facts).
# A value is shown as short JSON (cut with "…"): a string is taken whole, so that one holding
# ", not $eq " hides all of it.
_OPERATORS = "|".join(re.escape(op) for op in COMPARISONS)
_STRING = r'"(?:[^"\\]|\\.)*(?:"|…)'
_ITEM = rf'(?:{_STRING}|[^",\[\]]*)'
_VALUE = rf"(?:{_STRING}|\[(?:{_ITEM}(?:, {_ITEM})*)?(?:, …\+\d+)?\]|.*?)"
_SHOWN_VALUE = re.compile(
    rf"(?P<attribute>{re.escape(PEOPLE_FACT_PREFIX)}[A-Za-z0-9_.-]+) is {_VALUE}, not (?=(?:{_OPERATORS}) )"
)


def hide_people_values(reason: str, facts: Mapping[str, Any] | None) -> str:
    """An explanation with every value of a person's attribute shown as HIDDEN (a missing one
    too: whether a person has an attribute is theirs as well)."""
    if PEOPLE_FACT_PREFIX not in reason:
        return reason
    for name, value in (facts or {}).items():
        if is_people_fact(name):
            # Known values first, exactly: one that itself reads like ", not $eq " is no trouble.
            reason = reason.replace(f"{name} is {show(value)}, not ", f"{name} is {HIDDEN}, not ")
    return _SHOWN_VALUE.sub(lambda m: f"{m['attribute']} is {HIDDEN}, not ", reason)


def trace_for(trace: list[TraceEntry], facts: Mapping[str, Any] | None) -> list[TraceEntry]:
    """A trace with a person's values hidden from its explanations."""
    hidden = []
    for entry in trace:
        reason = hide_people_values(entry.reason, facts)
        hidden.append(entry if reason == entry.reason else entry.model_copy(update={"reason": reason}))
    return hidden


def event_for(event: ConversationEvent, audience: Audience) -> ConversationEvent:
    """A timeline event as `audience` receives it."""
    if audience.sees_people or (event.facts is None and event.trace is None):
        return event
    return event.model_copy(update={
        "facts": without_people(event.facts) if event.facts is not None else None,
        "trace": trace_for(event.trace, event.facts) if event.trace is not None else None,
    })


def decision_for(decision: RoutingDecision, audience: Audience) -> RoutingDecision:
    """A routing decision (a dry run's answer) as `audience` receives it."""
    if audience.sees_people:
        return decision
    return decision.model_copy(update={
        "facts": without_people(decision.facts),
        "trace": trace_for(decision.trace, decision.facts),
    })

