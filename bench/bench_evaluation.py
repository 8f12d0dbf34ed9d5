"""How fast routing evaluation is, next to the same rules hand-written as Python lambdas.

Run from the repository root:

    .venv/bin/python -m bench.bench_evaluation [--summary FILE]

For tables of 1, 10, 100 and 1000 rules (a mix of `$eq` on the channel, `$in` on the country,
an `$and` of both, and `$contains` on the tags) where only the last rule matches, so every rule
is tried, it times `evaluate(trace=False)`, `evaluate(trace=True)` and the baseline: the same
conditions as lambdas over the same facts, first match wins, returning the same decision object
(so the ratio measures the conditions and the loop, not building the result). Each figure is the
best of 5 runs of about 0.3 s each.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from bench import summary
from domain.models import Priority, RoutingDecision, RoutingRule
from domain.routing import compile_routing, evaluate

SIZES = (1, 10, 100, 1000)
RUN_SECONDS = 0.3
RUNS = 5

FACTS = {
    "message.channel": "TELEGRAM",
    "message.from": "+385911234567",
    "customer.country": "Croatia",
    "conversation.tags": ["vip", "returning"],
    "conversation.priority": "NORMAL",
}

Condition = tuple[Any, Callable[[dict[str, Any]], bool]]  # (expression, the same as a lambda)


def condition(i: int) -> Condition:
    """The i-th rule's condition, none of which holds for FACTS."""
    channel, tag = f"CHANNEL_{i}", f"tag-{i}"
    countries = [f"Country {i}-{k}" for k in range(5)]
    wanted = frozenset(countries)
    kind = i % 4
    if kind == 0:
        return {"$eq": {"message.channel": channel}}, lambda f: f.get("message.channel") == channel
    if kind == 1:
        return {"$in": {"customer.country": countries}}, lambda f: f.get("customer.country") in wanted
    if kind == 2:
        expression = {"$and": [{"$eq": {"message.channel": "TELEGRAM"}}, {"$in": {"customer.country": countries}}]}
        return expression, lambda f: f.get("message.channel") == "TELEGRAM" and f.get("customer.country") in wanted
    return {"$contains": {"conversation.tags": tag}}, lambda f: tag in (f.get("conversation.tags") or ())


def table(size: int) -> list[tuple[RoutingRule, Callable[[dict[str, Any]], bool]]]:
    rules = []
    for i in range(size - 1):
        expression, predicate = condition(i)
        rules.append((RoutingRule(id=f"r{i}", name=f"rule {i}", queue_id=f"q{i}", expression=expression), predicate))
    last = RoutingRule(
        id="last", name="last", queue_id="q-last", priority=Priority.HIGH,
        expression={"$eq": {"message.channel": "TELEGRAM"}},
    )
    rules.append((last, lambda f: f.get("message.channel") == "TELEGRAM"))
    return rules


def baseline(rules: list[tuple[RoutingRule, Callable[[dict[str, Any]], bool]]]) -> Callable[[dict[str, Any]], Any]:
    prepared = [(predicate, rule.queue_id, rule.priority, rule.id) for rule, predicate in rules]

    def route(facts: dict[str, Any]) -> RoutingDecision:
        for predicate, queue_id, priority, route_id in prepared:
            if predicate(facts):
                return RoutingDecision(
                    queue_id=queue_id, priority=priority, route_id=route_id, routing_version=1, trace=[],
                    facts=dict(facts),
                )
        return RoutingDecision(queue_id="default", routing_version=1, trace=[], facts=dict(facts))

    return route


def seconds_per_call(function: Callable[[], Any]) -> float:
    """Best of RUNS timings of about RUN_SECONDS each."""
    calls = 1
    while True:  # calibrate: grow the batch until it takes a measurable time
        start = time.perf_counter()
        for _ in range(calls):
            function()
        elapsed = time.perf_counter() - start
        if elapsed > 0.05:
            break
        calls *= 2
    calls = max(1, int(calls * RUN_SECONDS / elapsed))
    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, time.perf_counter() - start)
    return best / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    summary.add_argument(parser)
    args = parser.parse_args()
    print(f"{'rules':>6} {'baseline µs':>12} {'evaluate µs':>12} {'ratio':>6} {'traced µs':>12} {'ratio':>6}")
    rows = []
    for size in SIZES:
        base, fast, slow = timings(size)
        print(f"{size:>6} {base:>12.2f} {fast:>12.2f} {fast / base:>6.2f} {slow:>12.2f} {slow / base:>6.2f}")
        label = f"routing evaluation, {size} rule{'s' * (size != 1)}, vs Python lambdas"
        rows.append(summary.Row(label, fast, "µs", base))
    summary.report("bench_evaluation", rows, args.summary)


def timings(size: int) -> tuple[float, float, float]:
    """A routing of `size` rules, timed three ways that must agree: the baseline, evaluate
    and evaluate traced, µs a call."""
    rules = table(size)
    routing = compile_routing(1, [rule for rule, _ in rules])
    by_hand = baseline(rules)
    untraced = evaluate(routing, FACTS, default_queue_id="default", trace=False)
    traced = evaluate(routing, FACTS, default_queue_id="default")
    expected = by_hand(FACTS)
    for decision in (untraced, traced):  # the three must agree before their speed means anything
        assert (decision.queue_id, decision.priority, decision.route_id) == (
            expected.queue_id, expected.priority, expected.route_id,
        )
    assert len(traced.trace) == size

    base = seconds_per_call(lambda: by_hand(FACTS))
    fast = seconds_per_call(lambda: evaluate(routing, FACTS, default_queue_id="default", trace=False))
    slow = seconds_per_call(lambda: evaluate(routing, FACTS, default_queue_id="default"))
    return base * 1e6, fast * 1e6, slow * 1e6


if __name__ == "__main__":
    main()
