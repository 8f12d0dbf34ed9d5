"""Compiling a rule list (error paths per rule) and evaluating it: first enabled match wins,
disabled and skipped rules, the default queue, the trace, and the untraced fast path."""

from __future__ import annotations

import random
from types import MappingProxyType
from typing import Any

import pytest

from domain.models import Priority, RoutingDecision, RoutingRule, TraceOutcome
from domain.routing import (
    CompiledRouting,
    CompiledRule,
    RoutingValidationError,
    bounded,
    compile_routing,
    evaluate,
)

TELEGRAM = {"$eq": {"message.channel": "TELEGRAM"}}
EMAIL = {"$eq": {"message.channel": "EMAIL"}}
STRONG = {"$eq": {"conversation.authentication": "STRONG"}}
VIP = {"$contains": {"conversation.tags": "vip"}}


def rule(rule_id: str, queue_id: str, expression: Any, **fields: Any) -> RoutingRule:
    return RoutingRule(id=rule_id, name=f"rule {rule_id}", queue_id=queue_id, expression=expression, **fields)


def route(rules: list[RoutingRule], facts: dict, version: int = 7, **options: Any) -> RoutingDecision:
    return evaluate(compile_routing(version, rules), facts, default_queue_id="default", **options)


def outcomes(decision: RoutingDecision) -> list[tuple[str, TraceOutcome]]:
    return [(entry.route_id, entry.outcome) for entry in decision.trace]


# --- compile_routing --------------------------------------------------------------------------


def test_compile_routing_keeps_version_order_and_rules():
    rules = [rule("a", "q1", TELEGRAM), rule("b", "q2", EMAIL, enabled=False)]
    routing = compile_routing(3, rules)
    assert routing.version == 3
    assert [(c.rule, c.order) for c in routing.rules] == [(rules[0], 1), (rules[1], 2)]
    assert routing.rules[0].predicate({"message.channel": "TELEGRAM"})
    assert not routing.rules[1].predicate({"message.channel": "TELEGRAM"})


def test_compile_routing_reports_every_rule_error_under_its_index():
    rules = [
        rule("ok", "q", TELEGRAM),
        rule("root", "q", 5),
        rule("nested", "q", {"$and": [TELEGRAM, {"$foo": 1}, {"$eq": {"message.chanel": "x"}}]}),
        rule("disabled", "q", {"$in": {"customer.country": "Spain"}}, enabled=False),  # disabled rules are checked too
        rule("empty", "q", {}),
    ]
    with pytest.raises(RoutingValidationError) as caught:
        compile_routing(1, rules)
    errors = caught.value.errors
    assert set(errors) == {
        "[1].expression",
        "[2].expression.$and[1]",
        "[2].expression.$and[2].$eq",
        "[3].expression.$in",
        "[4].expression",
    }
    assert errors["[2].expression.$and[2].$eq"] == ["unknown attribute 'message.chanel'"]
    assert "unknown operator '$foo'" in errors["[2].expression.$and[1]"][0]
    assert isinstance(caught.value, ValueError)
    assert "[2].expression.$and[1]: unknown operator '$foo'" in str(caught.value)


@pytest.mark.parametrize(
    "expression, key",
    [
        ([TELEGRAM], "[0].expression"),
        ({"$not": []}, "[0].expression.$not"),
        ({"$or": [TELEGRAM, {"$and": [TELEGRAM, {"$gte": {"conversation.priority": "URGNT"}}]}]},
         "[0].expression.$or[1].$and[1].$gte"),
    ],
)
def test_compile_routing_error_keys_prefix_the_expression_path(expression, key):
    with pytest.raises(RoutingValidationError) as caught:
        compile_routing(1, [rule("r", "q", expression)])
    assert list(caught.value.errors) == [key]


def test_compile_routing_of_no_rules_routes_to_the_default_queue():
    routing = compile_routing(2, [])
    decision = evaluate(routing, {"message.channel": "SMS"}, default_queue_id="default")
    assert (decision.queue_id, decision.priority, decision.route_id) == ("default", Priority.NORMAL, None)
    assert decision.routing_version == 2
    assert decision.trace == []


# --- evaluate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("trace", [True, False])
def test_first_match_wins(trace):
    rules = [
        rule("email", "q-email", EMAIL),
        rule("telegram", "q-telegram", TELEGRAM, priority=Priority.HIGH),
        rule("vip", "q-vip", VIP, priority=Priority.URGENT),
    ]
    facts = {"message.channel": "TELEGRAM", "conversation.tags": ["vip"]}
    decision = route(rules, facts, trace=trace)
    assert (decision.queue_id, decision.priority, decision.route_id, decision.routing_version) == (
        "q-telegram", Priority.HIGH, "telegram", 7,
    )
    if trace:  # rules after the match are not tried, so not listed
        assert outcomes(decision) == [("email", TraceOutcome.NOT_MATCHED), ("telegram", TraceOutcome.MATCHED)]
    else:
        assert decision.trace == []


@pytest.mark.parametrize("trace", [True, False])
def test_no_match_goes_to_the_default_queue_with_normal_priority(trace):
    rules = [rule("email", "q-email", EMAIL), rule("vip", "q-vip", VIP, priority=Priority.URGENT)]
    decision = route(rules, {"message.channel": "SMS"}, trace=trace)
    assert (decision.queue_id, decision.priority, decision.route_id) == ("default", Priority.NORMAL, None)
    assert decision.routing_version == 7
    if trace:
        assert outcomes(decision) == [("email", TraceOutcome.NOT_MATCHED), ("vip", TraceOutcome.NOT_MATCHED)]


@pytest.mark.parametrize("trace", [True, False])
def test_disabled_rules_never_match_and_show_in_the_trace(trace):
    rules = [
        rule("off", "q-off", TELEGRAM, enabled=False, priority=Priority.URGENT),
        rule("on", "q-on", TELEGRAM),
    ]
    decision = route(rules, {"message.channel": "TELEGRAM"}, trace=trace)
    assert (decision.queue_id, decision.route_id, decision.priority) == ("q-on", "on", Priority.NORMAL)
    if trace:
        assert outcomes(decision) == [("off", TraceOutcome.DISABLED), ("on", TraceOutcome.MATCHED)]
        assert decision.trace[0].reason == "rule is disabled"


@pytest.mark.parametrize("trace", [True, False])
def test_rules_targeting_a_skipped_queue_are_passed_over(trace):
    rules = [
        rule("to-bot", "q-bot", {"$exists": {"conversation.authentication": True}}),
        rule("gone", "q-deleted", STRONG),
        rule("authenticated", "q-auth", STRONG, priority=Priority.HIGH),
    ]
    skip = {"q-bot": "the bot's own queue", "q-deleted": "queue was deleted"}
    decision = route(rules, {"conversation.authentication": "STRONG"}, skip_queues=skip, trace=trace)
    assert (decision.queue_id, decision.route_id, decision.priority) == ("q-auth", "authenticated", Priority.HIGH)
    if trace:
        assert [(e.route_id, e.outcome, e.reason) for e in decision.trace[:2]] == [
            ("to-bot", TraceOutcome.SKIPPED, "the bot's own queue"),
            ("gone", TraceOutcome.SKIPPED, "queue was deleted"),
        ]


@pytest.mark.parametrize("trace", [True, False])
def test_when_only_skipped_rules_match_the_default_queue_is_used(trace):
    decision = route([rule("to-bot", "q-bot", STRONG)], {"conversation.authentication": "STRONG"},
                     skip_queues={"q-bot": "the bot's own queue"}, trace=trace)
    assert (decision.queue_id, decision.route_id, decision.priority) == ("default", None, Priority.NORMAL)


def test_a_skipped_queue_without_a_reason_still_gets_one():
    decision = route([rule("r", "q-x", TELEGRAM)], {"message.channel": "TELEGRAM"}, skip_queues={"q-x": ""})
    assert decision.trace[0].outcome is TraceOutcome.SKIPPED
    assert decision.trace[0].reason == "queue q-x is skipped"


def test_a_disabled_rule_is_reported_disabled_even_when_its_queue_is_skipped():
    decision = route([rule("r", "q-x", TELEGRAM, enabled=False)], {}, skip_queues={"q-x": "queue was deleted"})
    assert outcomes(decision) == [("r", TraceOutcome.DISABLED)]


def test_trace_entries_carry_name_order_and_reasons():
    rules = [
        rule("off", "q0", VIP, enabled=False),
        rule("email", "q1", EMAIL),
        rule("telegram", "q2", {"$and": [TELEGRAM, {"$in": {"customer.country": ["Croatia", "Spain"]}}]}),
    ]
    decision = route(rules, {"message.channel": "TELEGRAM", "customer.country": "Spain"})
    assert [(e.name, e.order) for e in decision.trace] == [("rule off", 1), ("rule email", 2), ("rule telegram", 3)]
    assert [e.reason for e in decision.trace] == [
        "rule is disabled",
        'message.channel is "TELEGRAM", not $eq "EMAIL"',
        'matched: message.channel $eq "TELEGRAM" and customer.country $in ["Croatia", "Spain"]',
    ]


def test_working_hours_rules_are_evaluated_like_any_other_for_now():
    decision = route([rule("wh", "q", TELEGRAM, route_only_during_working_hours=True)], {"message.channel": "TELEGRAM"})
    assert decision.route_id == "wh"
    assert outcomes(decision) == [("wh", TraceOutcome.MATCHED)]


@pytest.mark.parametrize("trace", [True, False])
def test_the_decision_records_a_copy_of_the_facts(trace):
    facts = {"message.channel": "TELEGRAM", "customer.customAttributes.tier": "gold"}
    decision = route([rule("r", "q", TELEGRAM)], facts, trace=trace)
    assert decision.facts == facts
    facts["message.channel"] = "changed"
    assert decision.facts["message.channel"] == "TELEGRAM"


def test_facts_may_be_any_mapping():
    decision = route([rule("r", "q", TELEGRAM)], MappingProxyType({"message.channel": "TELEGRAM"}), trace=False)
    assert decision.route_id == "r"


def test_the_decision_is_a_valid_model_that_round_trips():
    decision = route([rule("off", "q0", VIP, enabled=False), rule("r", "q", TELEGRAM, priority=Priority.LOW)],
                     {"message.channel": "TELEGRAM"})
    assert RoutingDecision.model_validate_json(decision.model_dump_json()) == decision


class _Always:
    """A predicate that is not a compiled expression: evaluate must accept any Predicate."""

    def __init__(self, result: bool):
        self.result = result

    def __call__(self, facts):
        return self.result

    def explain(self, facts):
        return f"always {self.result}"


@pytest.mark.parametrize("trace", [True, False])
def test_any_predicate_can_be_evaluated(trace):
    rules = [rule("no", "q0", TELEGRAM), rule("yes", "q1", TELEGRAM)]
    routing = CompiledRouting(
        version=1,
        rules=(CompiledRule(rules[0], 1, _Always(False)), CompiledRule(rules[1], 2, _Always(True))),
    )
    decision = evaluate(routing, {}, default_queue_id="default", trace=trace)
    assert decision.route_id == "yes"
    if trace:
        assert [e.reason for e in decision.trace] == ["always False", "matched: always True"]


def test_the_spec_scenario_authentication_then_reroute():
    rules = [
        rule("to-bot", "q-bot", {"$eq": {"conversation.authentication": "NONE"}}),
        rule("authenticated", "q-auth", STRONG, priority=Priority.HIGH),
        rule("front", "q-front", {"$exists": {"message.channel": True}}),
    ]
    routing = compile_routing(4, rules)
    facts = {"message.channel": "TELEGRAM", "conversation.authentication": "STRONG", "conversation.queueId": "q-bot"}
    decision = evaluate(routing, facts, default_queue_id="default", skip_queues={"q-bot": "the bot's own queue"})
    assert (decision.queue_id, decision.priority, decision.route_id, decision.routing_version) == (
        "q-auth", Priority.HIGH, "authenticated", 4,
    )
    assert outcomes(decision) == [("to-bot", TraceOutcome.SKIPPED), ("authenticated", TraceOutcome.MATCHED)]


# --- the fast path agrees with the traced one -------------------------------------------------

CONDITIONS = [
    TELEGRAM,
    EMAIL,
    STRONG,
    VIP,
    {"$in": {"customer.country": ["Croatia", "Spain"]}},
    {"$nin": {"customer.country": ["Croatia"]}},
    {"$gte": {"conversation.priority": "HIGH"}},
    {"$lt": {"conversation.priority": "NORMAL"}},
    {"$exists": {"customer.customAttributes.tier": False}},
    {"$gt": {"customer.customAttributes.score": 50}},
    {"$and": [TELEGRAM, VIP]},
    {"$or": [EMAIL, {"$in": {"conversation.tags": ["gold", "new"]}}]},
    {"$not": {"$or": [TELEGRAM, STRONG]}},
    {"$and": [{"$not": VIP}, {"$startsWith": {"message.from": "+385"}}, {"$neq": {"customer.type": "EMAIL"}}]},
]
FACT_VALUES: dict[str, list[Any]] = {
    "message.channel": ["TELEGRAM", "EMAIL", "SMS", None, 5],
    "message.from": ["+385911", "+34911", None],
    "conversation.authentication": ["NONE", "STRONG", "FAILED", None],
    "conversation.tags": [[], ["vip"], ["gold", "vip"], ["new"], None, "vip"],
    "conversation.priority": list(Priority) + ["NORMAL", None],
    "customer.country": ["Croatia", "Spain", "Italy", None],
    "customer.type": ["PHONE", "EMAIL", None],
    "customer.customAttributes.tier": ["gold", None, 1],
    "customer.customAttributes.score": [10, 50, 51, 99.5, True, "80", None],
}


def random_routing(rng: random.Random) -> list[RoutingRule]:
    return [
        rule(f"r{i}", f"q{rng.randrange(5)}", rng.choice(CONDITIONS), enabled=rng.random() > 0.2,
             priority=rng.choice(list(Priority)))
        for i in range(rng.randint(0, 12))
    ]


def random_facts(rng: random.Random) -> dict:
    return {name: rng.choice(values) for name, values in FACT_VALUES.items() if rng.random() < 0.8}


@pytest.mark.parametrize("seed", range(5))
def test_untraced_and_traced_evaluation_agree_with_a_plain_first_match(seed):
    rng = random.Random(seed)
    matched = defaulted = 0
    for _ in range(60):
        rules = random_routing(rng)
        routing = compile_routing(1, rules)
        for _ in range(10):
            facts = random_facts(rng)
            skip = {f"q{rng.randrange(5)}": "skipped"} if rng.random() < 0.3 else {}
            fast = evaluate(routing, facts, default_queue_id="default", skip_queues=skip, trace=False)
            slow = evaluate(routing, facts, default_queue_id="default", skip_queues=skip, trace=True)
            expected = next(
                (c.rule for c in routing.rules
                 if c.rule.enabled and c.rule.queue_id not in skip and c.predicate(facts)),
                None,
            )
            want = (
                (expected.queue_id, expected.priority, expected.id) if expected else ("default", Priority.NORMAL, None)
            )
            assert (fast.queue_id, fast.priority, fast.route_id) == want
            assert (slow.queue_id, slow.priority, slow.route_id) == want
            assert fast.trace == []
            # the trace lists every rule up to and including the match, each with a reason
            tried = slow.trace
            assert [e.order for e in tried] == list(range(1, len(tried) + 1))
            assert all(e.reason for e in tried)
            assert [e.outcome for e in tried].count(TraceOutcome.MATCHED) == (expected is not None)
            if expected is None:
                assert len(tried) == len(rules)
            else:
                assert len(tried) == rules.index(expected) + 1
                assert tried[-1].outcome is TraceOutcome.MATCHED
            matched += expected is not None
            defaulted += expected is None
    assert matched > 50 and defaulted > 50  # both outcomes were exercised


def test_a_bounded_trace_keeps_the_first_rules_and_the_deciding_one_and_counts_the_rest():
    rules = [rule(f"r{n}", "q", TELEGRAM) for n in range(10)] + [rule("hit", "vip", EMAIL)]
    decision = evaluate(compile_routing(1, rules), {"message.channel": "EMAIL"}, default_queue_id="default")
    assert len(decision.trace) == 11

    kept = bounded(decision, 4)
    assert [entry.route_id for entry in kept.trace] == ["r0", "r1", "r2", "hit"]
    assert kept.trace[-1].outcome == TraceOutcome.MATCHED
    assert kept.trace_omitted == 7
    assert (kept.queue_id, kept.route_id) == (decision.queue_id, decision.route_id)
    assert bounded(decision, 11) == decision and bounded(decision, 11).trace_omitted == 0


# --- working hours ----------------------------------------------------------------------------


@pytest.mark.parametrize("trace", [True, False])
def test_a_rule_for_working_hours_only_is_passed_over_while_its_queue_is_closed(trace: bool) -> None:
    rules = [rule("r1", "night", TELEGRAM, route_only_during_working_hours=True),
             rule("r2", "day", TELEGRAM, route_only_during_working_hours=True),
             rule("r3", "any", TELEGRAM)]
    facts = {"message.channel": "TELEGRAM"}
    closed = {"night": "queue closed: outside its working hours (Europe/Zagreb)"}
    decision = route(rules, facts, closed_queues=closed, trace=trace)
    assert decision.queue_id == "day"
    if trace:
        assert outcomes(decision) == [("r1", TraceOutcome.SKIPPED), ("r2", TraceOutcome.MATCHED)]
        assert decision.trace[0].reason == closed["night"]
    # A closed queue does not stop a rule that routes at all hours, nor one whose queue is open.
    assert route(rules[2:], facts, closed_queues={"any": "closed"}, trace=trace).queue_id == "any"
    assert route(rules, facts, closed_queues={"night": "x", "day": "y"}, trace=trace).queue_id == "any"


def test_the_queues_whose_hours_matter_are_those_of_enabled_hours_only_rules() -> None:
    routing = compile_routing(1, [rule("r1", "a", TELEGRAM, route_only_during_working_hours=True),
                                  rule("r2", "b", TELEGRAM, route_only_during_working_hours=True, enabled=False),
                                  rule("r3", "c", TELEGRAM)])
    assert routing.queues_with_hours() == {"a"}
