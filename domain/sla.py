"""SLA policies (SPEC "Service level"): what a policy is, what makes one valid, and which one a
conversation gets: the first enabled policy, in order, whose expression (the routing language)
holds for the conversation's routing facts.

The clocks a policy starts on a conversation (first response, resolution, their warnings and
breaches) are not built yet; business time (domain.business_time) is what they will count in.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from domain.expressions import ExpressionError, Predicate, compile_expression
from domain.models import Priority

# A clock's target: a second to a year (of business time, when the policy has working hours).
MIN_SECONDS, MAX_SECONDS = 1, 365 * 24 * 3600


class OnBreach(BaseModel):
    """What a breach does, like an escalation step: raise the priority (never lower it) and/or
    move the conversation to the queue."""

    priority: Priority | None = None
    queue_id: str | None = None


class SlaPolicy(BaseModel):
    id: str
    name: str
    expression: Any
    first_response_seconds: int | None = None
    resolution_seconds: int | None = None
    working_hours_id: str | None = None  # None: calendar time
    warn_before_seconds: int | None = None  # None: no warning
    on_breach: OnBreach | None = None
    enabled: bool = True
    order: int = 1  # 1-based place among the policies
    created_at: datetime | None = None
    updated_at: datetime | None = None


def expression_problems(expression: Any) -> dict[str, list[str]]:
    """The expression's errors by field path (`expression`, `expression.$and[1]`), as a routing
    rule's are reported; none for a valid one."""
    try:
        compile_expression(expression)
    except ExpressionError as error:
        return {"expression" + (f".{path}" if path else ""): messages for path, messages in error.errors.items()}
    return {}


def clock_problems(first_response_seconds: int | None, resolution_seconds: int | None,
                   warn_before_seconds: int | None) -> dict[str, list[str]]:
    """What the clocks' seconds must be together (each is within MIN_SECONDS..MAX_SECONDS by
    its field's bounds): at least one clock, and a warning before the shorter one's breach."""
    clocks = [seconds for seconds in (first_response_seconds, resolution_seconds) if seconds is not None]
    if not clocks:
        return {"firstResponseSeconds": ["a policy needs firstResponseSeconds, resolutionSeconds or both"]}
    if warn_before_seconds is not None and warn_before_seconds >= min(clocks):
        return {"warnBeforeSeconds": [f"must be less than the shorter clock's {min(clocks)} seconds"]}
    return {}


def compiled_anew(policy: SlaPolicy) -> Predicate:
    return compile_expression(policy.expression)


def matching_policy(policies: Sequence[SlaPolicy], facts: Mapping[str, Any],
                    predicate: Callable[[SlaPolicy], Predicate] = compiled_anew) -> SlaPolicy | None:
    """The first enabled policy, by `order`, whose expression holds for `facts` (a
    conversation's routing facts, as domain.routing evaluates them); None if none does.
    `predicate` gives a policy's compiled expression (PolicyPredicates' keeps them).
    Saved policies' expressions are valid (checked at save), so this never raises for them."""
    for policy in sorted(policies, key=lambda policy: policy.order):
        if policy.enabled and predicate(policy)(facts):
            return policy
    return None


class PolicyPredicates:
    """The policies' compiled expressions, each compiled once, as store.routing.RoutingLoader
    compiles each routing version once (a lock, as activities run in threads). Policies are
    edited in place where routing versions are not, so a policy's is kept with the text of the
    expression it was compiled from: an edit that changes the expression compiles it again, and
    a policy no longer among those matched is forgotten."""

    def __init__(self) -> None:
        self._compiled: dict[str, tuple[str, Predicate]] = {}
        self._lock = threading.Lock()

    def predicate(self, policy: SlaPolicy) -> Predicate:
        text = json.dumps(policy.expression, separators=(",", ":"))
        with self._lock:
            cached = self._compiled.get(policy.id)
        if cached is not None and cached[0] == text:
            return cached[1]
        compiled = compiled_anew(policy)
        with self._lock:
            self._compiled[policy.id] = (text, compiled)
        return compiled

    def matching(self, policies: Sequence[SlaPolicy], facts: Mapping[str, Any]) -> SlaPolicy | None:
        """matching_policy with the expressions kept here; the deleted policies' dropped."""
        with self._lock:
            for gone in self._compiled.keys() - {policy.id for policy in policies}:
                del self._compiled[gone]
        return matching_policy(policies, facts, self.predicate)
