"""A routing version as compiled rules, and its evaluation: first enabled match wins.

`compile_routing` runs when a routing is saved (and when a worker loads a version), so every
expression error surfaces as a 400 at save time; `evaluate` can then never fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from domain.expressions import CompiledExpression, ExpressionError, Predicate, Test, compile_expression
from domain.models import Priority, RoutingDecision, RoutingRule, TraceEntry, TraceOutcome


class RoutingValidationError(ValueError):
    """A rule list was refused. `errors` keys point into the submitted JSON array, e.g.
    `[2].expression.$and[1]` for the second operand of the third rule's root `$and`."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {m}" for path, ms in errors.items() for m in ms))


@dataclass(frozen=True)
class CompiledRule:
    rule: RoutingRule
    order: int  # 1-based position in the routing
    predicate: Predicate


@dataclass(frozen=True)
class CompiledRouting:
    version: int
    rules: tuple[CompiledRule, ...]
    # The untraced path's loop, prepared once: (test, queue id, priority, only during working
    # hours, the rule) of each enabled rule, with the bare closure of compiled
    # expressions so a call skips one dispatch.
    _fast: tuple[tuple[Test, str, Priority, bool, RoutingRule], ...] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fast = tuple(
            (_bare_test(c.predicate), c.rule.queue_id, c.rule.priority,
             c.rule.route_only_during_working_hours, c.rule)
            for c in self.rules
            if c.rule.enabled
        )
        object.__setattr__(self, "_fast", fast)  # frozen: set once, here

    def queues_with_hours(self) -> set[str]:
        """The queues of enabled rules that route only during working hours: whether they are
        open is all evaluation needs to know of hours."""
        return {c.rule.queue_id for c in self.rules if c.rule.enabled and c.rule.route_only_during_working_hours}


def _bare_test(predicate: Predicate) -> Test:
    return predicate.test if isinstance(predicate, CompiledExpression) else predicate


def compile_routing(version: int, rules: Sequence[RoutingRule]) -> CompiledRouting:
    """Compile every rule's expression, disabled ones too, so that no saved routing holds an
    invalid one. Raises RoutingValidationError with the errors of all rules at once."""
    errors: dict[str, list[str]] = {}
    compiled = []
    for index, rule in enumerate(rules):
        try:
            predicate = compile_expression(rule.expression)
        except ExpressionError as exc:
            for path, messages in exc.errors.items():
                errors[f"[{index}].expression" + (f".{path}" if path else "")] = messages
            continue
        compiled.append(CompiledRule(rule=rule, order=index + 1, predicate=predicate))
    if errors:
        raise RoutingValidationError(errors)
    return CompiledRouting(version=version, rules=tuple(compiled))


_NO_SKIPS: Mapping[str, str] = MappingProxyType({})


def evaluate(
    routing: CompiledRouting,
    facts: Mapping[str, Any],
    *,
    default_queue_id: str,
    skip_queues: Mapping[str, str] = _NO_SKIPS,
    closed_queues: Mapping[str, str] = _NO_SKIPS,
    trace: bool = True,
) -> RoutingDecision:
    """Route by the first enabled rule whose expression holds; none → the default queue with
    priority NORMAL (the spec's rule).

    `skip_queues` maps a queue id to the reason rules targeting it are passed over (the bot's own
    queue, a deleted queue). `closed_queues` maps a queue outside its working hours to why: a
    rule with route_only_during_working_hours into it is passed over. `trace=False` builds no
    trace at all.
    """
    if not trace:
        for test, queue_id, priority, hours_only, rule in routing._fast:
            # The skip checks only run for a match, so the common empty mappings cost nothing.
            if test(facts) and queue_id not in skip_queues and not (hours_only and queue_id in closed_queues):
                return _decision(routing, facts, queue_id, priority, rule, [])
        return _decision(routing, facts, default_queue_id, Priority.NORMAL, None, [])

    entries: list[TraceEntry] = []
    for compiled in routing.rules:
        rule = compiled.rule
        if not rule.enabled:
            entries.append(_entry(compiled, TraceOutcome.DISABLED, "rule is disabled"))
            continue
        skip_reason = skip_queues.get(rule.queue_id)
        if skip_reason is not None:
            entries.append(_entry(compiled, TraceOutcome.SKIPPED, skip_reason or f"queue {rule.queue_id} is skipped"))
            continue
        closed_reason = closed_queues.get(rule.queue_id) if rule.route_only_during_working_hours else None
        if closed_reason is not None:
            entries.append(_entry(compiled, TraceOutcome.SKIPPED, closed_reason))
            continue
        if compiled.predicate(facts):
            entries.append(_entry(compiled, TraceOutcome.MATCHED, f"matched: {compiled.predicate.explain(facts)}"))
            return _decision(routing, facts, rule.queue_id, rule.priority, rule, entries)
        entries.append(_entry(compiled, TraceOutcome.NOT_MATCHED, compiled.predicate.explain(facts)))
    return _decision(routing, facts, default_queue_id, Priority.NORMAL, None, entries)


def _decision(
    routing: CompiledRouting,
    facts: Mapping[str, Any],
    queue_id: str,
    priority: Priority | None,
    rule: RoutingRule | None,
    entries: list[TraceEntry],
) -> RoutingDecision:
    return RoutingDecision(
        queue_id=queue_id,
        priority=priority,
        route_id=rule.id if rule is not None else None,
        routing_version=routing.version,
        trace=entries,
        facts=dict(facts),
        required_skills=list(rule.required_skills) if rule is not None else [],
    )


def _entry(compiled: CompiledRule, outcome: TraceOutcome, reason: str) -> TraceEntry:
    return TraceEntry(
        route_id=compiled.rule.id, name=compiled.rule.name, order=compiled.order, outcome=outcome, reason=reason
    )


def bounded(decision: RoutingDecision, limit: int) -> RoutingDecision:
    """The decision with at most `limit` trace entries: the first rules tried and the last
    one (the match, or the last miss), the others counted in `trace_omitted`. A decision is
    kept in its conversation's workflow state and history, where a trace of every rule of a
    long routing (~190 bytes a rule) would add up to Temporal's payload limits."""
    trace = decision.trace
    if len(trace) <= limit:
        return decision
    kept = [*trace[: limit - 1], trace[-1]]
    return decision.model_copy(update={"trace": kept, "trace_omitted": len(trace) - len(kept)})
