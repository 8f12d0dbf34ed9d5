"""The expression language: every operator on every attribute family, missing values, type
mismatches, nesting, explanations, and every validation error with its path."""

from __future__ import annotations

import math
import random
import re
from typing import Any

import pytest

from domain.expressions import (
    ATTRIBUTES,
    COMPARISONS,
    MAX_DEPTH,
    MAX_LIST,
    MAX_NODES,
    MAX_STRING,
    ExpressionError,
    Kind,
    attribute,
    compile_expression,
)
from domain.models import Authentication, Priority


def cmp(op: str, name: str, value: Any) -> dict:
    return {op: {name: value}}


def holds(expression: Any, facts: dict) -> bool:
    result = compile_expression(expression)(facts)
    assert type(result) is bool
    return result


def errors_of(expression: Any) -> dict[str, list[str]]:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(expression)
    assert caught.value.errors, "an ExpressionError must list its errors"
    return caught.value.errors


CUSTOM = "customer.customAttributes.tier"

# (expression, facts, expected): each operator on each attribute family, true and false.
OPERATOR_CASES = [
    # strings: message.*
    (cmp("$eq", "message.channel", "TELEGRAM"), {"message.channel": "TELEGRAM"}, True),
    (cmp("$eq", "message.channel", "TELEGRAM"), {"message.channel": "EMAIL"}, False),
    (cmp("$eq", "message.channel", "TELEGRAM"), {"message.channel": "telegram"}, False),  # case-sensitive
    (cmp("$neq", "message.channel", "TELEGRAM"), {"message.channel": "EMAIL"}, True),
    (cmp("$neq", "message.channel", "TELEGRAM"), {"message.channel": "TELEGRAM"}, False),
    (cmp("$lt", "message.channel", "M"), {"message.channel": "EMAIL"}, True),
    (cmp("$lt", "message.channel", "M"), {"message.channel": "SMS"}, False),
    (cmp("$lt", "message.channel", "EMAIL"), {"message.channel": "EMAIL"}, False),
    (cmp("$lte", "message.channel", "EMAIL"), {"message.channel": "EMAIL"}, True),
    (cmp("$lte", "message.channel", "EMAIL"), {"message.channel": "SMS"}, False),
    (cmp("$gt", "message.channel", "M"), {"message.channel": "SMS"}, True),
    (cmp("$gt", "message.channel", "SMS"), {"message.channel": "SMS"}, False),
    (cmp("$gte", "message.channel", "SMS"), {"message.channel": "SMS"}, True),
    (cmp("$gte", "message.channel", "SMS"), {"message.channel": "EMAIL"}, False),
    (cmp("$in", "message.channel", ["SMS", "EMAIL"]), {"message.channel": "EMAIL"}, True),
    (cmp("$in", "message.channel", ["SMS", "EMAIL"]), {"message.channel": "TELEGRAM"}, False),
    (cmp("$nin", "message.channel", ["SMS", "EMAIL"]), {"message.channel": "TELEGRAM"}, True),
    (cmp("$nin", "message.channel", ["SMS", "EMAIL"]), {"message.channel": "SMS"}, False),
    (cmp("$contains", "message.content", "refund"), {"message.content": "I want a refund now"}, True),
    (cmp("$contains", "message.content", "refund"), {"message.content": "I want a Refund"}, False),
    (cmp("$startsWith", "message.from", "+385"), {"message.from": "+385911234567"}, True),
    (cmp("$startsWith", "message.from", "+385"), {"message.from": "+34911234567"}, False),
    (cmp("$endsWith", "message.to", "@example.com"), {"message.to": "help@example.com"}, True),
    (cmp("$endsWith", "message.to", "@example.com"), {"message.to": "help@example.org"}, False),
    (cmp("$exists", "message.content", True), {"message.content": "hi"}, True),
    (cmp("$exists", "message.content", True), {"message.content": ""}, True),  # empty is present
    (cmp("$exists", "message.content", False), {"message.content": "hi"}, False),
    # strings: conversation.*
    (cmp("$eq", "conversation.topic", "Billing"), {"conversation.topic": "Billing"}, True),
    (cmp("$startsWith", "conversation.topic", "Bill"), {"conversation.topic": "Billing"}, True),
    (cmp("$endsWith", "conversation.topic", "Bill"), {"conversation.topic": "Billing"}, False),
    (cmp("$eq", "conversation.queueId", "q-1"), {"conversation.queueId": "q-1"}, True),
    (cmp("$neq", "conversation.queueId", "q-1"), {"conversation.queueId": "q-2"}, True),
    # strings: customer.*
    (cmp("$in", "customer.country", ["Croatia", "Spain"]), {"customer.country": "Spain"}, True),
    (cmp("$in", "customer.country", ["Croatia", "Spain"]), {"customer.country": "spain"}, False),
    (cmp("$nin", "customer.country", ["Croatia"]), {"customer.country": "Spain"}, True),
    (cmp("$eq", "customer.city", "Zagreb"), {"customer.city": "Zagreb"}, True),
    (cmp("$neq", "customer.city", "Zagreb"), {"customer.city": "Zagreb"}, False),
    (cmp("$startsWith", "customer.preferredLanguage", "en"), {"customer.preferredLanguage": "en-GB"}, True),
    (cmp("$startsWith", "customer.preferredLanguage", "en"), {"customer.preferredLanguage": "hr-HR"}, False),
    (cmp("$eq", "customer.type", "PHONE"), {"customer.type": "PHONE"}, True),
    (cmp("$contains", "customer.city", "greb"), {"customer.city": "Zagreb"}, True),
    # lists of strings: conversation.tags, customer.tags
    (cmp("$contains", "conversation.tags", "vip"), {"conversation.tags": ["new", "vip"]}, True),
    # an element, not a substring of one
    (cmp("$contains", "conversation.tags", "vip"), {"conversation.tags": ["vips", "new"]}, False),
    (cmp("$contains", "conversation.tags", "vip"), {"conversation.tags": []}, False),
    (cmp("$contains", "conversation.tags", "vip"), {"conversation.tags": ("vip",)}, True),
    (cmp("$in", "conversation.tags", ["vip", "gold"]), {"conversation.tags": ["new", "gold"]}, True),
    (cmp("$in", "conversation.tags", ["vip", "gold"]), {"conversation.tags": ["new"]}, False),
    (cmp("$in", "conversation.tags", ["vip", "gold"]), {"conversation.tags": []}, False),
    (cmp("$nin", "conversation.tags", ["vip"]), {"conversation.tags": ["new"]}, True),
    (cmp("$nin", "conversation.tags", ["vip"]), {"conversation.tags": ["new", "vip"]}, False),
    (cmp("$nin", "conversation.tags", ["vip"]), {"conversation.tags": []}, True),
    (cmp("$exists", "conversation.tags", True), {"conversation.tags": []}, True),
    (cmp("$contains", "customer.tags", "gold"), {"customer.tags": ["gold"]}, True),
    (cmp("$in", "customer.tags", ["gold"]), {"customer.tags": ["silver"]}, False),
    (cmp("$nin", "customer.tags", ["gold"]), {"customer.tags": ["silver"]}, True),
    # unhashable elements in a list fact are simply not matches
    (cmp("$in", "conversation.tags", ["vip"]), {"conversation.tags": [{"a": 1}, "vip"]}, True),
    (cmp("$in", "conversation.tags", ["vip"]), {"conversation.tags": [{"a": 1}, ["vip"]]}, False),
    (cmp("$nin", "conversation.tags", ["vip"]), {"conversation.tags": [{"a": 1}]}, True),
    (cmp("$contains", "conversation.tags", "vip"), {"conversation.tags": [{"a": 1}]}, False),
    # the ordered enum: conversation.priority, LOW < NORMAL < HIGH < URGENT
    (cmp("$eq", "conversation.priority", "HIGH"), {"conversation.priority": "HIGH"}, True),
    (cmp("$eq", "conversation.priority", "HIGH"), {"conversation.priority": Priority.HIGH}, True),
    (cmp("$eq", "conversation.priority", "HIGH"), {"conversation.priority": "LOW"}, False),
    (cmp("$neq", "conversation.priority", "HIGH"), {"conversation.priority": "LOW"}, True),
    (cmp("$neq", "conversation.priority", "HIGH"), {"conversation.priority": Priority.HIGH}, False),
    (cmp("$gte", "conversation.priority", "HIGH"), {"conversation.priority": "HIGH"}, True),
    (cmp("$gte", "conversation.priority", "HIGH"), {"conversation.priority": "URGENT"}, True),
    (cmp("$gte", "conversation.priority", "HIGH"), {"conversation.priority": Priority.URGENT}, True),
    (cmp("$gte", "conversation.priority", "HIGH"), {"conversation.priority": "NORMAL"}, False),
    (cmp("$gte", "conversation.priority", "HIGH"), {"conversation.priority": "LOW"}, False),
    (cmp("$gt", "conversation.priority", "HIGH"), {"conversation.priority": "HIGH"}, False),
    (cmp("$gt", "conversation.priority", "HIGH"), {"conversation.priority": "URGENT"}, True),
    (cmp("$gt", "conversation.priority", "LOW"), {"conversation.priority": "NORMAL"}, True),
    (cmp("$lt", "conversation.priority", "NORMAL"), {"conversation.priority": "LOW"}, True),
    (cmp("$lt", "conversation.priority", "NORMAL"), {"conversation.priority": "NORMAL"}, False),
    (cmp("$lt", "conversation.priority", "URGENT"), {"conversation.priority": "HIGH"}, True),
    (cmp("$lte", "conversation.priority", "NORMAL"), {"conversation.priority": "NORMAL"}, True),
    (cmp("$lte", "conversation.priority", "NORMAL"), {"conversation.priority": "HIGH"}, False),
    (cmp("$lt", "conversation.priority", "LOW"), {"conversation.priority": "LOW"}, False),
    # ordering is by rank, not alphabetical: "HIGH" < "LOW" as strings, but HIGH > LOW
    (cmp("$gt", "conversation.priority", "LOW"), {"conversation.priority": "HIGH"}, True),
    (cmp("$gte", "conversation.priority", "LOW"), {"conversation.priority": "CRITICAL"}, False),  # not a priority
    (cmp("$in", "conversation.priority", ["HIGH", "URGENT"]), {"conversation.priority": "URGENT"}, True),
    (cmp("$in", "conversation.priority", ["HIGH", "URGENT"]), {"conversation.priority": "LOW"}, False),
    (cmp("$nin", "conversation.priority", ["HIGH", "URGENT"]), {"conversation.priority": "LOW"}, True),
    (cmp("$nin", "conversation.priority", ["HIGH", "URGENT"]), {"conversation.priority": "HIGH"}, False),
    # the unordered enum: conversation.authentication
    (cmp("$eq", "conversation.authentication", "STRONG"), {"conversation.authentication": "STRONG"}, True),
    (cmp("$eq", "conversation.authentication", "STRONG"), {"conversation.authentication": Authentication.STRONG}, True),
    (cmp("$eq", "conversation.authentication", "STRONG"), {"conversation.authentication": "NONE"}, False),
    (cmp("$neq", "conversation.authentication", "STRONG"), {"conversation.authentication": "FAILED"}, True),
    (cmp("$neq", "conversation.authentication", "STRONG"), {"conversation.authentication": "STRONG"}, False),
    (cmp("$in", "conversation.authentication", ["NONE", "FAILED"]), {"conversation.authentication": "FAILED"}, True),
    (cmp("$nin", "conversation.authentication", ["NONE", "FAILED"]), {"conversation.authentication": "STRONG"}, True),
    (cmp("$nin", "conversation.authentication", ["NONE", "FAILED"]), {"conversation.authentication": "NONE"}, False),
    # custom attributes: any JSON scalar, compared within its JSON type
    (cmp("$eq", CUSTOM, "gold"), {CUSTOM: "gold"}, True),
    (cmp("$eq", CUSTOM, "gold"), {CUSTOM: "Gold"}, False),
    (cmp("$eq", CUSTOM, 5), {CUSTOM: 5}, True),
    (cmp("$eq", CUSTOM, 5), {CUSTOM: 5.0}, True),
    (cmp("$eq", CUSTOM, 5.5), {CUSTOM: 5.5}, True),
    (cmp("$eq", CUSTOM, 5), {CUSTOM: 6}, False),
    (cmp("$eq", CUSTOM, True), {CUSTOM: True}, True),
    (cmp("$eq", CUSTOM, False), {CUSTOM: False}, True),
    (cmp("$eq", CUSTOM, True), {CUSTOM: False}, False),
    (cmp("$neq", CUSTOM, "gold"), {CUSTOM: "silver"}, True),
    (cmp("$neq", CUSTOM, "gold"), {CUSTOM: "gold"}, False),
    (cmp("$neq", CUSTOM, 1), {CUSTOM: 2}, True),
    (cmp("$neq", CUSTOM, 1), {CUSTOM: 1.0}, False),
    (cmp("$neq", CUSTOM, True), {CUSTOM: False}, True),
    (cmp("$gt", CUSTOM, 10), {CUSTOM: 11}, True),
    (cmp("$gt", CUSTOM, 10), {CUSTOM: 10.5}, True),
    (cmp("$gt", CUSTOM, 10), {CUSTOM: 10}, False),
    (cmp("$gte", CUSTOM, 10), {CUSTOM: 10}, True),
    (cmp("$lt", CUSTOM, 0), {CUSTOM: -1}, True),
    (cmp("$lt", CUSTOM, 0), {CUSTOM: 0}, False),
    (cmp("$lte", CUSTOM, 0), {CUSTOM: 0}, True),
    (cmp("$lt", CUSTOM, "m"), {CUSTOM: "gold"}, True),
    (cmp("$gt", CUSTOM, "m"), {CUSTOM: "gold"}, False),
    (cmp("$in", CUSTOM, ["gold", 1, True]), {CUSTOM: "gold"}, True),
    (cmp("$in", CUSTOM, ["gold", 1, True]), {CUSTOM: 1}, True),
    (cmp("$in", CUSTOM, ["gold", 1, True]), {CUSTOM: 1.0}, True),
    (cmp("$in", CUSTOM, ["gold", 1, True]), {CUSTOM: True}, True),
    (cmp("$in", CUSTOM, ["gold", 1, True]), {CUSTOM: False}, False),
    (cmp("$in", CUSTOM, ["gold", 1, True]), {CUSTOM: 2}, False),
    (cmp("$in", CUSTOM, ["gold", 1, True]), {CUSTOM: "silver"}, False),
    (cmp("$nin", CUSTOM, ["gold", 1]), {CUSTOM: "silver"}, True),
    (cmp("$nin", CUSTOM, ["gold", 1]), {CUSTOM: 2}, True),
    (cmp("$nin", CUSTOM, ["gold", 1]), {CUSTOM: "gold"}, False),
    (cmp("$nin", CUSTOM, ["gold", 1]), {CUSTOM: 1.0}, False),
    (cmp("$contains", CUSTOM, "ol"), {CUSTOM: "gold"}, True),
    (cmp("$contains", CUSTOM, "ol"), {CUSTOM: "silver"}, False),
    (cmp("$startsWith", CUSTOM, "go"), {CUSTOM: "gold"}, True),
    (cmp("$endsWith", CUSTOM, "ld"), {CUSTOM: "gold"}, True),
    (cmp("$endsWith", CUSTOM, "go"), {CUSTOM: "gold"}, False),
    (cmp("$exists", CUSTOM, True), {CUSTOM: 0}, True),
    (cmp("$exists", CUSTOM, True), {CUSTOM: False}, True),  # false is a value, not a missing one
    (cmp("$exists", CUSTOM, False), {CUSTOM: False}, False),
    (cmp("$eq", "customer.customAttributes.a-b_C9", 1), {"customer.customAttributes.a-b_C9": 1}, True),
    (cmp("$eq", "customer.customAttributes.x", 1), {"customer.customAttributes.y": 1}, False),
]


@pytest.mark.parametrize("expression, facts, expected", OPERATOR_CASES)
def test_operator(expression, facts, expected):
    assert holds(expression, facts) is expected


def test_operator_cases_cover_every_operator_and_attribute():
    used_ops = {next(iter(e)) for e, _, _ in OPERATOR_CASES}
    used_attributes = {next(iter(next(iter(e.values())))) for e, _, _ in OPERATOR_CASES}
    assert used_ops == set(COMPARISONS)
    assert set(ATTRIBUTES) <= used_attributes
    assert CUSTOM in used_attributes
    for op in COMPARISONS:  # each operator both ways
        outcomes = {expected for e, _, expected in OPERATOR_CASES if op in e}
        assert outcomes == {True, False}, op


# One valid comparison for every operator an attribute kind allows.
VALID = [
    cmp("$eq", "message.channel", "SMS"),
    cmp("$neq", "message.channel", "SMS"),
    cmp("$lt", "message.channel", "SMS"),
    cmp("$lte", "message.channel", "SMS"),
    cmp("$gt", "message.channel", "SMS"),
    cmp("$gte", "message.channel", "SMS"),
    cmp("$in", "message.channel", ["SMS"]),
    cmp("$nin", "message.channel", ["SMS"]),
    cmp("$contains", "message.channel", "S"),
    cmp("$startsWith", "message.channel", "S"),
    cmp("$endsWith", "message.channel", "S"),
    cmp("$contains", "conversation.tags", "vip"),
    cmp("$in", "conversation.tags", ["vip"]),
    cmp("$nin", "conversation.tags", ["vip"]),
    cmp("$eq", "conversation.priority", "HIGH"),
    cmp("$neq", "conversation.priority", "HIGH"),
    cmp("$lt", "conversation.priority", "HIGH"),
    cmp("$lte", "conversation.priority", "HIGH"),
    cmp("$gt", "conversation.priority", "HIGH"),
    cmp("$gte", "conversation.priority", "HIGH"),
    cmp("$in", "conversation.priority", ["HIGH"]),
    cmp("$nin", "conversation.priority", ["HIGH"]),
    cmp("$eq", "conversation.authentication", "STRONG"),
    cmp("$neq", "conversation.authentication", "STRONG"),
    cmp("$in", "conversation.authentication", ["STRONG"]),
    cmp("$nin", "conversation.authentication", ["STRONG"]),
    *(cmp(op, CUSTOM, v) for op in ("$eq", "$neq", "$lt", "$lte", "$gt", "$gte") for v in ("m", 1, 1.5)),
    *(cmp(op, CUSTOM, v) for op in ("$eq", "$neq") for v in (True, False)),
    cmp("$in", CUSTOM, ["gold", 1, True]),
    cmp("$nin", CUSTOM, ["gold", 1, True]),
    cmp("$contains", CUSTOM, "o"),
    cmp("$startsWith", CUSTOM, "g"),
    cmp("$endsWith", CUSTOM, "d"),
]


def _attribute_of(expression: dict) -> str:
    return next(iter(next(iter(expression.values()))))


@pytest.mark.parametrize("expression", VALID + [cmp("$exists", name, True) for name in [*ATTRIBUTES, CUSTOM]])
@pytest.mark.parametrize("facts_kind", ["absent", "None"])
def test_missing_value_makes_every_comparison_false(expression, facts_kind):
    name = _attribute_of(expression)
    facts = {} if facts_kind == "absent" else {name: None}
    facts["some.other.fact"] = "SMS"
    assert holds(expression, facts) is False


@pytest.mark.parametrize("name", [*ATTRIBUTES, CUSTOM])
@pytest.mark.parametrize("as_none", [False, True], ids=["absent", "None"])
def test_missing_value_makes_exists_false_true(name, as_none):
    facts = {name: None} if as_none else {}
    assert holds(cmp("$exists", name, False), facts) is True
    assert holds(cmp("$exists", name, True), facts) is False


# Values of the wrong JSON type for each kind of attribute.
WRONG_TYPES = {
    Kind.STRING: [5, 5.5, 0, True, False, ["SMS"], ("SMS",), {"SMS": 1}],
    Kind.STRING_LIST: ["vip", "S", 5, True, {"vip": 1}],
    Kind.ORDERED_ENUM: [2, 2.0, True, ["HIGH"], {"HIGH": 1}],
    Kind.ENUM: [1, True, ["STRONG"], {"STRONG": 1}],
    Kind.SCALAR: [["m", 1, True, "gold"], ("gold",), {"gold": 1}, {"m"}],
}


@pytest.mark.parametrize("expression", VALID)
def test_type_mismatch_is_false_never_an_error(expression):
    name = _attribute_of(expression)
    for value in WRONG_TYPES[attribute(name).kind]:
        assert holds(expression, {name: value}) is False, value
        assert holds(cmp("$exists", name, True), {name: value}) is True


@pytest.mark.parametrize(
    "expression, fact",
    [
        # booleans are not numbers, although True == 1 in Python
        (cmp("$eq", CUSTOM, 1), True),
        (cmp("$eq", CUSTOM, 0), False),
        (cmp("$eq", CUSTOM, 1.0), True),
        (cmp("$eq", CUSTOM, True), 1),
        (cmp("$eq", CUSTOM, False), 0),
        (cmp("$eq", CUSTOM, True), 1.0),
        (cmp("$neq", CUSTOM, 2), True),
        (cmp("$neq", CUSTOM, True), 0),
        (cmp("$gt", CUSTOM, 0), True),
        (cmp("$gte", CUSTOM, 1), True),
        (cmp("$lt", CUSTOM, 1), False),
        (cmp("$lte", CUSTOM, 0), False),
        (cmp("$in", CUSTOM, [1]), True),
        (cmp("$in", CUSTOM, [0, 1]), False),
        (cmp("$in", CUSTOM, [True]), 1),
        (cmp("$in", CUSTOM, [False]), 0),
        (cmp("$nin", CUSTOM, [2]), True),  # no boolean in the list: a mismatch, so false
        (cmp("$nin", CUSTOM, [True]), 0),
        # numbers are not strings
        (cmp("$eq", CUSTOM, "5"), 5),
        (cmp("$eq", CUSTOM, 5), "5"),
        (cmp("$neq", CUSTOM, "5"), 6),
        (cmp("$neq", CUSTOM, 5), "6"),
        (cmp("$gt", CUSTOM, 1), "2"),
        (cmp("$gt", CUSTOM, "1"), 2),
        (cmp("$in", CUSTOM, ["5"]), 5),
        (cmp("$in", CUSTOM, [5]), "5"),
        (cmp("$nin", CUSTOM, ["5"]), 6),
        (cmp("$contains", CUSTOM, "5"), 5),
        (cmp("$startsWith", CUSTOM, "5"), 55),
        (cmp("$endsWith", CUSTOM, "5"), 55),
        # lists are not scalars, and scalars are not lists
        (cmp("$eq", CUSTOM, "gold"), ["gold"]),
        (cmp("$in", CUSTOM, ["gold"]), ["gold"]),
        (cmp("$eq", "message.channel", "SMS"), ["SMS"]),
        (cmp("$in", "message.channel", ["SMS"]), ["SMS"]),
        (cmp("$contains", "message.channel", "SMS"), ["SMS"]),
        (cmp("$contains", "conversation.tags", "vip"), "vip"),
        (cmp("$contains", "conversation.tags", "vip"), "a vip"),
        (cmp("$in", "conversation.tags", ["vip"]), "vip"),
        (cmp("$nin", "conversation.tags", ["vip"]), "other"),
    ],
)
def test_type_mismatches(expression, fact):
    assert holds(expression, {_attribute_of(expression): fact}) is False


def test_in_does_not_confuse_booleans_with_numbers_despite_equal_hashes():
    # True, 1 and 1.0 are one key in a Python dict or set; an $in must still tell them apart.
    predicate = compile_expression(cmp("$in", CUSTOM, [1, "1"]))
    assert [predicate({CUSTOM: v}) for v in (1, 1.0, "1", True, False, 0)] == [True, True, True, False, False, False]


TELEGRAM = cmp("$eq", "message.channel", "TELEGRAM")
CROATIA = cmp("$in", "customer.country", ["Croatia", "Spain"])
VIP = cmp("$contains", "conversation.tags", "vip")


@pytest.mark.parametrize(
    "expression, facts, expected",
    [
        ({"$and": [TELEGRAM, CROATIA]}, {"message.channel": "TELEGRAM", "customer.country": "Spain"}, True),
        ({"$and": [TELEGRAM, CROATIA]}, {"message.channel": "TELEGRAM", "customer.country": "France"}, False),
        ({"$and": [TELEGRAM, CROATIA]}, {"message.channel": "EMAIL", "customer.country": "Spain"}, False),
        ({"$and": [TELEGRAM]}, {"message.channel": "TELEGRAM"}, True),
        ({"$and": [TELEGRAM]}, {}, False),
        ({"$and": [TELEGRAM, CROATIA, VIP]}, {"message.channel": "TELEGRAM", "customer.country": "Spain",
                                              "conversation.tags": ["vip"]}, True),
        ({"$and": [TELEGRAM, CROATIA, VIP]}, {"message.channel": "TELEGRAM", "customer.country": "Spain"}, False),
        ({"$or": [TELEGRAM, CROATIA]}, {"message.channel": "EMAIL", "customer.country": "Spain"}, True),
        ({"$or": [TELEGRAM, CROATIA]}, {"message.channel": "TELEGRAM"}, True),
        ({"$or": [TELEGRAM, CROATIA]}, {"message.channel": "EMAIL", "customer.country": "France"}, False),
        ({"$or": [TELEGRAM]}, {}, False),
        ({"$or": [TELEGRAM, CROATIA, VIP]}, {"conversation.tags": ["vip"]}, True),
        ({"$or": [TELEGRAM, CROATIA, VIP]}, {"conversation.tags": ["new"]}, False),
        ({"$not": TELEGRAM}, {"message.channel": "EMAIL"}, True),
        ({"$not": TELEGRAM}, {"message.channel": "TELEGRAM"}, False),
        ({"$not": TELEGRAM}, {}, True),  # the comparison is false when missing; its negation is true
        ({"$not": {"$not": TELEGRAM}}, {"message.channel": "TELEGRAM"}, True),
        ({"$or": [{"$and": [TELEGRAM, {"$not": VIP}]}, CROATIA]}, {"message.channel": "TELEGRAM"}, True),
        ({"$or": [{"$and": [TELEGRAM, {"$not": VIP}]}, CROATIA]},
         {"message.channel": "TELEGRAM", "conversation.tags": ["vip"]}, False),
        ({"$or": [{"$and": [TELEGRAM, {"$not": VIP}]}, CROATIA]},
         {"message.channel": "TELEGRAM", "conversation.tags": ["vip"], "customer.country": "Croatia"}, True),
        ({"$and": [{"$or": [TELEGRAM, VIP]}, {"$not": CROATIA}]}, {"conversation.tags": ["vip"]}, True),
        ({"$and": [{"$or": [TELEGRAM, VIP]}, {"$not": CROATIA}]},
         {"conversation.tags": ["vip"], "customer.country": "Spain"}, False),
        ({"$and": [cmp("$gte", "conversation.priority", "HIGH"), cmp("$eq", "conversation.authentication", "STRONG")]},
         {"conversation.priority": "URGENT", "conversation.authentication": "STRONG"}, True),
    ],
)
def test_nested_logic(expression, facts, expected):
    assert holds(expression, facts) is expected


def test_spec_example():
    predicate = compile_expression(
        {"$and": [{"$eq": {"message.channel": "TELEGRAM"}}, {"$in": {"customer.country": ["Croatia", "Spain"]}}]}
    )
    assert predicate({"message.channel": "TELEGRAM", "customer.country": "Croatia"})
    assert not predicate({"message.channel": "TELEGRAM", "customer.country": "Italy"})


@pytest.mark.parametrize("size", [2, 3, 7])
@pytest.mark.parametrize("op", ["$and", "$or"])
def test_combinations_of_any_width_agree_with_all_and_any(op, size):
    children = [cmp("$contains", "conversation.tags", f"t{i}") for i in range(size)]
    predicate = compile_expression({op: children})
    rng = random.Random(size)
    for _ in range(100):
        tags = [f"t{i}" for i in range(size) if rng.random() < 0.5]
        flags = [f"t{i}" in tags for i in range(size)]
        assert predicate({"conversation.tags": tags}) is (all(flags) if op == "$and" else any(flags))


# --- validation -------------------------------------------------------------------------------

OK = cmp("$eq", "message.channel", "SMS")

# (expression, path, a fragment of the one message expected there)
INVALID = [
    # the node itself
    (5, "", "expected an expression object with one operator, got number"),
    ("x", "", "got string"),
    (None, "", "got null"),
    ([OK], "", "got list"),
    ({}, "", "exactly one operator, got 0"),
    ({"$and": [OK], "$or": [OK]}, "", "exactly one operator, got 2 '$and' '$or'"),
    ({"$foo": 1}, "", "unknown operator '$foo'"),
    ({"message.channel": "SMS"}, "", "unknown operator 'message.channel'"),
    ({"$EQ": {"message.channel": "SMS"}}, "", "unknown operator '$EQ'"),
    ({"$and": [OK, {"$foo": 1}]}, "$and[1]", "unknown operator '$foo'"),
    ({"$or": [OK, {"$and": [OK, OK, {"$bad": 1}]}]}, "$or[1].$and[2]", "unknown operator '$bad'"),
    ({"$and": [OK, 5]}, "$and[1]", "got number"),
    ({"$and": [OK, {}]}, "$and[1]", "got 0"),
    # logical operands
    ({"$and": []}, "$and", "$and needs a non-empty list of expressions, got an empty list"),
    ({"$or": []}, "$or", "$or needs a non-empty list of expressions, got an empty list"),
    ({"$and": OK}, "$and", "$and needs a non-empty list of expressions, got object"),
    ({"$or": "x"}, "$or", "got string"),
    ({"$not": [OK]}, "$not", "got list"),
    ({"$not": None}, "$not", "got null"),
    ({"$not": {"$not": {"$eq": {"message.chanel": "x"}}}}, "$not.$not.$eq", "unknown attribute 'message.chanel'"),
    ({"$and": [OK, {"$or": []}]}, "$and[1].$or", "got an empty list"),
    # comparison operands
    ({"$eq": "SMS"}, "$eq", "$eq needs an object with exactly one attribute"),
    ({"$eq": {}}, "$eq", "got 0 attributes"),
    ({"$eq": {"message.channel": "SMS", "message.to": "x"}}, "$eq", "got 2 attributes"),
    ({"$eq": ["message.channel", "SMS"]}, "$eq", "got list"),
    # attributes
    ({"$and": [OK, cmp("$eq", "message.chanel", "SMS")]}, "$and[1].$eq", "unknown attribute 'message.chanel'"),
    (cmp("$eq", "conversation.status", "OPEN"), "$eq", "unknown attribute 'conversation.status'"),
    (cmp("$eq", "message", "x"), "$eq", "unknown attribute 'message'"),
    (cmp("$eq", "Message.channel", "x"), "$eq", "unknown attribute 'Message.channel'"),
    (cmp("$eq", "customer.customAttributes", 1), "$eq", "unknown attribute 'customer.customAttributes'"),
    (cmp("$eq", "customer.customAttributes.", 1), "$eq", "unknown attribute 'customer.customAttributes.'"),
    (cmp("$eq", "customer.customAttributes.a b", 1), "$eq", "unknown attribute"),
    (cmp("$eq", "customer.customAttributes.a.b", 1), "$eq", "unknown attribute"),
    (cmp("$eq", "customer.customAttributes.é", 1), "$eq", "unknown attribute"),
    (cmp("$eq", "customer.customattributes.tier", 1), "$eq", "unknown attribute"),
    # operators an attribute kind does not have
    (cmp("$eq", "conversation.tags", "vip"), "$eq", "$eq is not available for list attribute 'conversation.tags'"),
    (cmp("$neq", "customer.tags", "vip"), "$neq", "not available for list attribute 'customer.tags'"),
    (cmp("$lt", "conversation.tags", "vip"), "$lt", "not available for list attribute"),
    (cmp("$gte", "customer.tags", "vip"), "$gte", "not available for list attribute"),
    (cmp("$startsWith", "conversation.tags", "v"), "$startsWith", "not available for list attribute"),
    (cmp("$endsWith", "conversation.tags", "v"), "$endsWith", "not available for list attribute"),
    (cmp("$lt", "conversation.authentication", "STRONG"), "$lt", "(its values are not ordered)"),
    (cmp("$gte", "conversation.authentication", "STRONG"), "$gte", "not ordered"),
    (cmp("$contains", "conversation.priority", "HI"), "$contains", "not available for ordered enum attribute"),
    (cmp("$startsWith", "conversation.authentication", "S"), "$startsWith", "not available for enum attribute"),
    # operand shapes
    (cmp("$in", "customer.country", "Croatia"), "$in", "$in on 'customer.country' needs a list of values, got string"),
    (cmp("$nin", "customer.country", {"a": 1}), "$nin", "needs a list of values, got object"),
    (cmp("$in", "customer.country", []), "$in", "needs a non-empty list"),
    (cmp("$nin", "conversation.tags", []), "$nin", "needs a non-empty list"),
    (cmp("$in", "customer.country", ["Croatia", 5]), "$in", "value [1] must be a string, got number"),
    (cmp("$in", "customer.country", [["Croatia"]]), "$in", "value [0] must be a string, got list"),
    (cmp("$in", CUSTOM, [{"a": 1}]), "$in", "value [0] must be a string, a number or a boolean, got object"),
    (cmp("$in", CUSTOM, [None]), "$in", "got null (use $exists for a missing value)"),
    (cmp("$exists", "message.channel", "yes"), "$exists", "needs true or false, got string"),
    (cmp("$exists", "message.channel", 1), "$exists", "needs true or false, got number"),
    (cmp("$exists", "message.channel", None), "$exists", "needs true or false, got null"),
    (cmp("$startsWith", "message.from", 385), "$startsWith", "value must be a string, got number"),
    (cmp("$endsWith", CUSTOM, 5), "$endsWith", "value must be a string, got number"),
    (cmp("$contains", "conversation.tags", 5), "$contains", "value must be a string, got number"),
    (cmp("$contains", CUSTOM, True), "$contains", "must be a string, got boolean"),
    (cmp("$gt", CUSTOM, True), "$gt", "must be a number or a string, got boolean"),
    (cmp("$lte", CUSTOM, None), "$lte", "must be a number or a string, got null"),
    (cmp("$lt", CUSTOM, [1]), "$lt", "got list"),
    (cmp("$eq", CUSTOM, None), "$eq", "must be a string, a number or a boolean, got null (use $exists"),
    (cmp("$eq", CUSTOM, [1]), "$eq", "got list"),
    (cmp("$neq", CUSTOM, {"a": 1}), "$neq", "got object"),
    (cmp("$eq", CUSTOM, math.nan), "$eq", "must be a finite number"),
    (cmp("$gt", CUSTOM, math.inf), "$gt", "must be a finite number"),
    # typed attributes
    (cmp("$eq", "message.channel", 5), "$eq", "$eq on 'message.channel': value must be a string, got number"),
    (cmp("$eq", "message.channel", True), "$eq", "must be a string, got boolean"),
    (cmp("$neq", "customer.country", 1.5), "$neq", "must be a string, got number"),
    (cmp("$gt", "message.channel", 5), "$gt", "must be a string, got number"),
    (cmp("$eq", "conversation.priority", "URGNT"), "$eq",
     '$eq on \'conversation.priority\': value "URGNT" is not one of LOW, NORMAL, HIGH, URGENT'),
    (cmp("$gte", "conversation.priority", "high"), "$gte", "is not one of LOW, NORMAL, HIGH, URGENT"),
    (cmp("$eq", "conversation.priority", 2), "$eq", "must be one of LOW, NORMAL, HIGH, URGENT, got number"),
    (cmp("$in", "conversation.priority", ["HIGH", "URGNT"]), "$in", 'value [1] "URGNT" is not one of'),
    (cmp("$eq", "conversation.authentication", "WEAK"), "$eq", "is not one of NONE, STRONG, FAILED"),
    (cmp("$nin", "conversation.authentication", ["NONE", True]), "$nin",
     "value [1] must be one of NONE, STRONG, FAILED"),
    (cmp("$in", "conversation.tags", ["vip", 1]), "$in", "value [1] must be a string, got number"),
]


@pytest.mark.parametrize("expression, path, fragment", INVALID)
def test_validation_error_path_and_message(expression, path, fragment):
    errors = errors_of(expression)
    assert list(errors) == [path]
    assert len(errors[path]) == 1
    assert fragment in errors[path][0]


def test_expression_error_is_a_value_error_naming_places_and_messages():
    with pytest.raises(ValueError) as caught:
        compile_expression({"$and": [OK, cmp("$eq", "message.chanel", "x")]})
    assert "$and[1].$eq: unknown attribute 'message.chanel'" in str(caught.value)


def test_every_error_is_reported_not_just_the_first():
    expression = {
        "$or": [
            OK,
            {"$foo": 1},
            {"$and": [cmp("$eq", "message.chanel", "x"), {"$not": cmp("$gte", "conversation.priority", "URGNT")}]},
            {"$and": []},
            cmp("$in", "customer.country", [1, "Spain", None]),
            cmp("$eq", "conversation.tags", "vip"),
            {"$not": [OK]},
            cmp("$exists", CUSTOM, "yes"),
            {"$eq": {"message.channel": "SMS", "message.to": "x"}},
        ]
    }
    errors = errors_of(expression)
    assert set(errors) == {
        "$or[1]",
        "$or[2].$and[0].$eq",
        "$or[2].$and[1].$not.$gte",
        "$or[3].$and",
        "$or[4].$in",
        "$or[5].$eq",
        "$or[6].$not",
        "$or[7].$exists",
        "$or[8].$eq",
    }
    assert len(errors["$or[4].$in"]) == 2  # both bad values of the one list
    assert [len(m) for p, m in errors.items() if p != "$or[4].$in"] == [1] * 8


def test_error_messages_do_not_echo_huge_input():
    errors = errors_of({"$" + "x" * 100_000: 1})
    assert len(errors[""][0]) < 400


@pytest.mark.parametrize("tree", [{1: "x"}, {None: 1}, {"$eq": {5: 1}}, {"$eq": {("a",): 1}}])
def test_non_string_keys_are_refused_not_crashed_on(tree):
    errors_of(tree)


# --- limits: the limit itself is accepted, one more is refused --------------------------------


def not_chain(levels: int) -> dict:
    """An expression `levels` deep: levels - 1 $not around one comparison."""
    tree: dict = OK
    for _ in range(levels - 1):
        tree = {"$not": tree}
    return tree


def and_chain(levels: int) -> dict:
    tree: dict = OK
    for _ in range(levels - 1):
        tree = {"$and": [OK, tree]}
    return tree


def test_depth_at_the_limit_is_accepted():
    assert compile_expression(not_chain(MAX_DEPTH))({"message.channel": "SMS"}) is (MAX_DEPTH % 2 == 1)
    compile_expression(and_chain(MAX_DEPTH))


def test_depth_over_the_limit_is_refused_at_the_too_deep_node():
    errors = errors_of(not_chain(MAX_DEPTH + 1))
    assert errors == {".".join(["$not"] * MAX_DEPTH): [f"expression is nested more than {MAX_DEPTH} levels deep"]}
    # In the and-chain both operands of the deepest $and are one level too deep.
    errors = errors_of(and_chain(MAX_DEPTH + 1))
    outer = ".".join(["$and[1]"] * (MAX_DEPTH - 1))
    assert sorted(errors) == [f"{outer}.$and[0]", f"{outer}.$and[1]"]


def test_a_hugely_deep_tree_is_refused_without_recursing_through_it():
    errors = errors_of(not_chain(50_000))
    assert list(errors) == [".".join(["$not"] * MAX_DEPTH)]


def test_node_count_at_the_limit_is_accepted():
    predicate = compile_expression({"$or": [cmp("$eq", "message.channel", f"C{i}") for i in range(MAX_NODES - 1)]})
    assert predicate({"message.channel": f"C{MAX_NODES - 2}"})


def test_node_count_over_the_limit_is_refused_at_the_root():
    errors = errors_of({"$or": [cmp("$eq", "message.channel", f"C{i}") for i in range(MAX_NODES)]})
    assert errors == {"": [f"expression has more than {MAX_NODES} operators"]}


def test_nodes_are_counted_across_nesting():
    # The root plus k children that are each a $not around a comparison: 1 + 2k nodes.
    fits = (MAX_NODES - 1) // 2
    compile_expression({"$and": [{"$not": OK} for _ in range(fits)]})
    errors = errors_of({"$and": [{"$not": OK} for _ in range(fits + 1)]})
    assert errors == {"": [f"expression has more than {MAX_NODES} operators"]}


def test_a_huge_list_of_expressions_is_refused_quickly():
    errors = errors_of({"$or": [OK] * 1_000_000})
    assert list(errors) == [""]


@pytest.mark.parametrize("op", ["$in", "$nin"])
def test_list_length_limit(op):
    values = [f"v{i}" for i in range(MAX_LIST)]
    assert compile_expression(cmp(op, "customer.country", values))({"customer.country": "v0"}) is (op == "$in")
    errors = errors_of(cmp(op, "customer.country", [*values, "one more"]))
    assert errors == {op: [f"{op} on 'customer.country' has {MAX_LIST + 1} values; at most {MAX_LIST} are allowed"]}


@pytest.mark.parametrize(
    "make",
    [
        lambda s: cmp("$eq", "message.content", s),
        lambda s: cmp("$contains", "message.content", s),
        lambda s: cmp("$startsWith", "message.content", s),
        lambda s: cmp("$in", "customer.country", ["Spain", s]),
        lambda s: cmp("$eq", CUSTOM, s),
        lambda s: cmp("$contains", "conversation.tags", s),
    ],
)
def test_string_length_limit(make):
    compile_expression(make("x" * MAX_STRING))
    errors = errors_of(make("x" * (MAX_STRING + 1)))
    (messages,) = errors.values()
    assert messages and f"longer than {MAX_STRING} characters" in messages[0]


def test_custom_attribute_name_length_limit():
    compile_expression(cmp("$eq", "customer.customAttributes." + "a" * 100, 1))
    assert list(errors_of(cmp("$eq", "customer.customAttributes." + "a" * 101, 1))) == ["$eq"]


# --- explanations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression, facts, reason",
    [
        (TELEGRAM, {"message.channel": "TELEGRAM"}, 'message.channel $eq "TELEGRAM"'),
        (TELEGRAM, {"message.channel": "EMAIL"}, 'message.channel is "EMAIL", not $eq "TELEGRAM"'),
        (TELEGRAM, {}, 'message.channel is missing, not $eq "TELEGRAM"'),
        (TELEGRAM, {"message.channel": 5}, 'message.channel is 5, not $eq "TELEGRAM"'),
        (CROATIA, {"customer.country": "Spain"}, 'customer.country $in ["Croatia", "Spain"]'),
        (cmp("$gte", "conversation.priority", "HIGH"), {"conversation.priority": Priority.LOW},
         'conversation.priority is "LOW", not $gte "HIGH"'),
        (cmp("$exists", "message.content", True), {}, "message.content is missing, not $exists true"),
        (cmp("$exists", "message.content", False), {}, "message.content $exists false"),
        (cmp("$eq", CUSTOM, 5), {CUSTOM: "5"}, f'{CUSTOM} is "5", not $eq 5'),
        (cmp("$eq", CUSTOM, True), {CUSTOM: 1}, f"{CUSTOM} is 1, not $eq true"),
        (VIP, {"conversation.tags": ["new"]}, 'conversation.tags is ["new"], not $contains "vip"'),
        ({"$and": [TELEGRAM, CROATIA]}, {"message.channel": "TELEGRAM", "customer.country": "Spain"},
         'message.channel $eq "TELEGRAM" and customer.country $in ["Croatia", "Spain"]'),
        ({"$and": [TELEGRAM, CROATIA]}, {"message.channel": "TELEGRAM", "customer.country": "Italy"},
         'customer.country is "Italy", not $in ["Croatia", "Spain"]'),
        ({"$or": [TELEGRAM, CROATIA]}, {"customer.country": "Spain"}, 'customer.country $in ["Croatia", "Spain"]'),
        ({"$or": [TELEGRAM, CROATIA]}, {"message.channel": "SMS"},
         'message.channel is "SMS", not $eq "TELEGRAM" and customer.country is missing, not $in ["Croatia", "Spain"]'),
        ({"$not": TELEGRAM}, {"message.channel": "SMS"}, 'message.channel is "SMS", not $eq "TELEGRAM"'),
        ({"$not": TELEGRAM}, {"message.channel": "TELEGRAM"}, '$not (message.channel $eq "TELEGRAM")'),
        ({"$and": [{"$or": [TELEGRAM, VIP]}, CROATIA]},
         {"message.channel": "TELEGRAM", "customer.country": "Spain"},
         '(message.channel $eq "TELEGRAM") and customer.country $in ["Croatia", "Spain"]'),
    ],
)
def test_explain(expression, facts, reason):
    assert compile_expression(expression).explain(facts) == reason


def test_explanations_stay_short():
    predicate = compile_expression(cmp("$in", "customer.country", [f"Country {i}" for i in range(MAX_LIST)]))
    reason = predicate.explain({"customer.country": "x" * 5000})
    assert len(reason) < 300
    assert "…" in reason


# --- robustness: arbitrary input never raises anything but ExpressionError ---------------------

_OPS = [*COMPARISONS, "$and", "$or", "$not", "$foo", "x"]
_NAMES = [*ATTRIBUTES, CUSTOM, "customer.customAttributes.n", "message.chanel", "customer.customAttributes.a b"]
_VALUES = ["SMS", "HIGH", "STRONG", "vip", "", "Croatia", 0, 1, 1.5, -2, True, False, None, [], {}, ["vip", 1],
           ["HIGH", "LOW"], ["SMS", "Spain"], [True], {"a": 1}]
_PATH = re.compile(r"^(\$[A-Za-z]+(\[\d+\])?(\.\$[A-Za-z]+(\[\d+\])?)*)?$")


def random_tree(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.03:
        return rng.choice(_VALUES)
    if roll < 0.35 and depth < 5:
        op = rng.choice(["$and", "$or", "$not"])
        if op == "$not":
            return {op: random_tree(rng, depth + 1)}
        return {op: [random_tree(rng, depth + 1) for _ in range(rng.randint(0 if rng.random() < 0.05 else 1, 4))]}
    op = rng.choice(_OPS) if rng.random() < 0.1 else rng.choice(COMPARISONS)
    return {op: {rng.choice(_NAMES): rng.choice(_VALUES)}}


def random_facts(rng: random.Random) -> dict:
    return {name: rng.choice(_VALUES + [["vip", {"a": 1}], ("vip",), Priority.HIGH]) for name in rng.sample(_NAMES, 6)}


def test_random_trees_compile_or_fail_cleanly_and_never_raise_at_run_time():
    rng = random.Random(20240601)
    compiled = refused = 0
    for _ in range(3000):
        tree = random_tree(rng)
        try:
            predicate = compile_expression(tree)
        except ExpressionError as exc:
            refused += 1
            assert exc.errors and all(_PATH.match(p) and ms for p, ms in exc.errors.items()), exc.errors
            continue
        compiled += 1
        for _ in range(5):
            facts = random_facts(rng)
            assert type(predicate(facts)) is bool
            assert isinstance(predicate.explain(facts), str)
    assert compiled > 300 and refused > 300  # the generator exercises both sides


@pytest.mark.parametrize("seed", range(3))
def test_complementary_operators_on_present_values_of_the_right_type(seed):
    """For a present value of the attribute's type, $in/$nin, $eq/$neq and $lt/$gte split the
    world in two; when it is missing, both sides are false."""
    rng = random.Random(seed)
    pairs = [("$in", "$nin", ["SMS", "EMAIL"]), ("$eq", "$neq", "SMS"), ("$lt", "$gte", "M"), ("$gt", "$lte", "M")]
    for yes, no, operand in pairs:
        left, right = (compile_expression(cmp(op, "message.channel", operand)) for op in (yes, no))
        for _ in range(100):
            facts = {"message.channel": rng.choice(["SMS", "EMAIL", "TELEGRAM", "A", "M", "Z", ""])}
            assert left(facts) is not right(facts)
        assert not left({}) and not right({})
    for yes, no in [("$lt", "$gte"), ("$gt", "$lte")]:
        for rank in ("LOW", "NORMAL", "HIGH", "URGENT"):
            left, right = (compile_expression(cmp(op, "conversation.priority", rank)) for op in (yes, no))
            for value in Priority:
                assert left({"conversation.priority": value}) is not right({"conversation.priority": value})
