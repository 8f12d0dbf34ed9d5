"""SLA policies in the domain: the first enabled policy in order whose expression holds for a
conversation's routing facts; what makes a policy's expression and clocks valid."""

from __future__ import annotations

from typing import Any

from domain.sla import SlaPolicy, clock_problems, expression_problems, matching_policy

TELEGRAM = {"$eq": {"message.channel": "TELEGRAM"}}
URGENT = {"$eq": {"conversation.priority": "URGENT"}}
CROATIA = {"$eq": {"customer.country": "HR"}}


def policy(name: str, expression: Any, order: int, enabled: bool = True) -> SlaPolicy:
    return SlaPolicy(id=name, name=name, expression=expression, first_response_seconds=60, order=order,
                     enabled=enabled)


FACTS = {"message.channel": "TELEGRAM", "conversation.priority": "URGENT", "customer.country": "DE"}


def test_the_first_matching_policy_in_order_wins() -> None:
    policies = [policy("telegram", TELEGRAM, 2), policy("urgent", URGENT, 1), policy("croatia", CROATIA, 3)]
    assert matching_policy(policies, FACTS) == policies[1]  # by order, not by place in the list
    assert matching_policy(policies, {**FACTS, "conversation.priority": "LOW"}) == policies[0]


def test_a_disabled_policy_is_passed_over() -> None:
    policies = [policy("urgent", URGENT, 1, enabled=False), policy("telegram", TELEGRAM, 2)]
    assert matching_policy(policies, FACTS) == policies[1]


def test_none_matches_none() -> None:
    assert matching_policy([policy("croatia", CROATIA, 1)], FACTS) is None
    assert matching_policy([], FACTS) is None
    # A missing fact makes a comparison false, never an error.
    assert matching_policy([policy("croatia", CROATIA, 1)], {}) is None


def test_expression_problems_point_inside_the_expression() -> None:
    assert expression_problems(TELEGRAM) == {}
    assert set(expression_problems({"$and": [TELEGRAM, {"$eq": {"nope": 1}}]})) == {"expression.$and[1].$eq"}
    assert set(expression_problems(None)) == {"expression"}


def test_clock_problems() -> None:
    assert clock_problems(60, None, None) == {}
    assert clock_problems(None, 3600, 600) == {}
    assert set(clock_problems(None, None, None)) == {"firstResponseSeconds"}
    # The warning comes before the shorter clock's breach.
    assert set(clock_problems(60, 3600, 60)) == {"warnBeforeSeconds"}
    assert clock_problems(60, 3600, 59) == {}
