"""SLA policies in the domain: the first enabled policy in order whose expression holds for a
conversation's routing facts, each policy's expression compiled once until an edit changes it;
what makes a policy's expression and clocks valid."""

from __future__ import annotations

from typing import Any

import pytest

from domain import sla
from domain.expressions import Predicate
from domain.sla import PolicyPredicates, SlaPolicy, clock_problems, expression_problems, matching_policy

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


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The expressions compiled during the test, in order."""
    trees: list[Any] = []

    def counting(tree: Any) -> Predicate:
        trees.append(tree)
        return original(tree)

    original = sla.compile_expression
    monkeypatch.setattr(sla, "compile_expression", counting)
    return trees


def test_kept_predicates_compile_each_policys_expression_once(compiled: list[Any]) -> None:
    predicates = PolicyPredicates()
    policies = [policy("croatia", CROATIA, 1), policy("telegram", TELEGRAM, 2)]
    for _ in range(3):
        assert predicates.matching(policies, FACTS) == policies[1]
    assert compiled == [CROATIA, TELEGRAM]
    # Without them, every match compiles again.
    matching_policy(policies, FACTS)
    assert compiled == [CROATIA, TELEGRAM, CROATIA, TELEGRAM]


def test_an_edited_expression_is_compiled_again_and_takes_effect(compiled: list[Any]) -> None:
    predicates = PolicyPredicates()
    croatia, telegram = policy("croatia", CROATIA, 1), policy("telegram", TELEGRAM, 2)
    assert predicates.matching([croatia, telegram], FACTS) == telegram
    # The same policy edited to urgent conversations: it now matches first.
    edited = croatia.model_copy(update={"expression": URGENT})
    assert predicates.matching([edited, telegram], FACTS) == edited
    assert predicates.matching([edited, telegram], FACTS) == edited
    assert compiled == [CROATIA, TELEGRAM, URGENT]
    # An edit of something else keeps the compiled expression; an equal expression read again
    # (a new object, as each match reads the policies anew) is the same.
    renamed = edited.model_copy(update={"name": "urgent", "expression": {"$eq": {"conversation.priority": "URGENT"}}})
    assert predicates.matching([renamed, telegram], FACTS) == renamed
    assert compiled == [CROATIA, TELEGRAM, URGENT]


def test_a_deleted_policy_is_forgotten(compiled: list[Any]) -> None:
    predicates = PolicyPredicates()
    croatia, telegram = policy("croatia", CROATIA, 1), policy("telegram", TELEGRAM, 2)
    predicates.matching([croatia, telegram], FACTS)
    predicates.matching([telegram], FACTS)
    # Deleted, then made again with its id (as a store restored behind the API would): compiled anew.
    predicates.matching([croatia, telegram], FACTS)
    assert compiled == [CROATIA, TELEGRAM, CROATIA]
