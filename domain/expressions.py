"""The routing expression language: validate a JSON tree once, compile it to closures.

An expression is a JSON object with exactly one key, an operator:

    {"$and": [{"$eq": {"message.channel": "TELEGRAM"}}, {"$in": {"customer.country": ["HR", "ES"]}}]}

`compile_expression` checks the whole tree and either raises `ExpressionError` listing every
problem with its path, or returns a `Predicate`: a callable over a flat mapping of facts keyed by
attribute name (`{"message.channel": "TELEGRAM", ...}`). Every node becomes one closure, built
once, so evaluation does no parsing, no path splitting and no type dispatch on the operator.
Nothing is ever `eval`'d.

Run-time rules, so that a saved routing can never fail while routing a conversation:
- a missing value (key absent or None) makes every comparison but `$exists` false,
  `$neq` and `$nin` included;
- a value of the wrong type makes the comparison false, never an exception; booleans are not
  numbers (`True == 1` in Python, never here).
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from domain.models import PRIORITY_RANK, Authentication

MAX_DEPTH = 12  # levels of nesting; the root is level 1
MAX_NODES = 200  # operator objects (logical and comparison) in one expression
MAX_LIST = 500  # values in one $in / $nin list
MAX_STRING = 1000  # characters in one string value

Facts = Mapping[str, Any]
Test = Callable[[Facts], bool]


class Predicate(Protocol):
    def __call__(self, facts: Facts) -> bool: ...

    def explain(self, facts: Facts) -> str:
        """Why the predicate is true or false for these facts, in one short line for humans."""
        ...


class ExpressionError(ValueError):
    """An expression was refused. `errors` maps a path inside the expression ("" for the root,
    `$and[1]`, `$and[1].$eq`, ...) to every message about that place."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{path or '(root)'}: {m}" for path, ms in errors.items() for m in ms))


# --- attributes -------------------------------------------------------------------------------


class Kind(str, Enum):
    STRING = "string"
    STRING_LIST = "list"
    ENUM = "enum"
    ORDERED_ENUM = "ordered enum"
    SCALAR = "scalar"  # any JSON string, number or boolean


@dataclass(frozen=True)
class Attribute:
    kind: Kind
    values: tuple[str, ...] = ()  # an enum's values; for an ordered enum, lowest first


ATTRIBUTES: dict[str, Attribute] = {
    "message.channel": Attribute(Kind.STRING),
    "message.from": Attribute(Kind.STRING),
    "message.to": Attribute(Kind.STRING),
    "message.content": Attribute(Kind.STRING),
    "conversation.topic": Attribute(Kind.STRING),
    "conversation.tags": Attribute(Kind.STRING_LIST),
    "conversation.priority": Attribute(
        Kind.ORDERED_ENUM, tuple(p.value for p in sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__))
    ),
    "conversation.queueId": Attribute(Kind.STRING),
    "conversation.authentication": Attribute(Kind.ENUM, tuple(a.value for a in Authentication)),
    "customer.country": Attribute(Kind.STRING),
    "customer.city": Attribute(Kind.STRING),
    "customer.preferredLanguage": Attribute(Kind.STRING),
    "customer.type": Attribute(Kind.STRING),
    "customer.tags": Attribute(Kind.STRING_LIST),
}

# customer.customAttributes.<name> is a family rather than one attribute, so it is not in ATTRIBUTES.
CUSTOM_ATTRIBUTE_PREFIX = "customer.customAttributes."
CUSTOM_ATTRIBUTE = Attribute(Kind.SCALAR)
_CUSTOM_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")


def attribute(name: str) -> Attribute | None:
    """The attribute called `name`, or None when there is no such attribute."""
    if name.startswith(CUSTOM_ATTRIBUTE_PREFIX):
        return CUSTOM_ATTRIBUTE if _CUSTOM_NAME.fullmatch(name[len(CUSTOM_ATTRIBUTE_PREFIX) :]) else None
    return ATTRIBUTES.get(name)


# --- operators --------------------------------------------------------------------------------

LOGICAL = ("$and", "$or", "$not")
_EQUALITY = ("$eq", "$neq")
_ORDERING = {"$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge}
_MEMBERSHIP = ("$in", "$nin")
_TEXT = ("$contains", "$startsWith", "$endsWith")
COMPARISONS = (*_EQUALITY, *_ORDERING, *_MEMBERSHIP, *_TEXT, "$exists")

_ALLOWED: dict[Kind, tuple[str, ...]] = {
    Kind.STRING: COMPARISONS,
    Kind.SCALAR: COMPARISONS,
    Kind.STRING_LIST: ("$contains", *_MEMBERSHIP, "$exists"),
    Kind.ENUM: (*_EQUALITY, *_MEMBERSHIP, "$exists"),
    Kind.ORDERED_ENUM: (*_EQUALITY, *_ORDERING, *_MEMBERSHIP, "$exists"),
}

_LIST_TYPES = (list, tuple, set, frozenset)  # what a list attribute's fact may be


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if _is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


_JSON = json.JSONEncoder(ensure_ascii=False, default=str)  # one encoder: json.dumps builds one a call


def _show(value: Any, limit: int = 60) -> str:
    """A value as short JSON for messages and explanations: long strings and lists are cut."""
    if isinstance(value, _LIST_TYPES):
        items = list(value)
        shown = ", ".join(_show(v, limit) for v in items[:5])
        more = f", …+{len(items) - 5}" if len(items) > 5 else ""
        return f"[{shown}{more}]"
    text = _JSON.encode(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# How an explanation shows a fact that is absent.
MISSING = "missing"


def show(value: Any) -> str:
    """A fact's value as an explanation shows it: `<attribute> is <show(value)>, not <op> ...`
    (domain.audience finds a person's values in explanations by this text)."""
    return _show(value)


def _name(key: Any) -> str:
    """An operator or attribute name as quoted in messages (cut: it may be arbitrarily long)."""
    text = key if isinstance(key, str) else repr(key)
    return f"'{text[:100]}…'" if len(text) > 100 else f"'{text}'"


# --- compiled nodes ---------------------------------------------------------------------------


class CompiledExpression:
    """A compiled node. `test` is the bare closure: callers on a hot path may call it directly."""

    __slots__ = ("test",)
    test: Test

    def __call__(self, facts: Facts) -> bool:
        return self.test(facts)

    def explain(self, facts: Facts) -> str:
        raise NotImplementedError


class _Comparison(CompiledExpression):
    __slots__ = ("attribute", "wanted")

    def __init__(self, attribute: str, op: str, operand: Any, test: Test):
        self.attribute, self.test = attribute, test
        self.wanted = f"{op} {_show(operand)}"  # shown in every explanation: built once

    def explain(self, facts: Facts) -> str:
        if self.test(facts):
            return f"{self.attribute} {self.wanted}"
        value = facts.get(self.attribute)
        actual = MISSING if value is None else _show(value)
        # The only place an explanation shows a fact's value: domain.audience hides a
        # person's (customer.*) from agents and bots by this form.
        return f"{self.attribute} is {actual}, not {self.wanted}"


def _clause(node: CompiledExpression, facts: Facts) -> str:
    """A child's explanation, in parentheses when it is itself a combination."""
    text = node.explain(facts)
    return text if isinstance(node, _Comparison) else f"({text})"


class _All(CompiledExpression):
    __slots__ = ("children",)

    def __init__(self, children: list[CompiledExpression]):
        self.children = children
        tests = tuple(c.test for c in children)
        if len(tests) == 1:
            self.test = tests[0]
        elif len(tests) == 2:
            first, second = tests
            self.test = lambda facts: first(facts) and second(facts)
        else:

            def test(facts: Facts) -> bool:
                for t in tests:  # noqa: SIM110 -- a plain loop: all() over a generator costs twice as much here
                    if not t(facts):
                        return False
                return True

            self.test = test

    def explain(self, facts: Facts) -> str:
        for child in self.children:
            if not child.test(facts):
                return child.explain(facts)  # the first failing condition is the reason
        return " and ".join(_clause(c, facts) for c in self.children)


class _Any(CompiledExpression):
    __slots__ = ("children",)

    def __init__(self, children: list[CompiledExpression]):
        self.children = children
        tests = tuple(c.test for c in children)
        if len(tests) == 1:
            self.test = tests[0]
        elif len(tests) == 2:
            first, second = tests
            self.test = lambda facts: first(facts) or second(facts)
        else:

            def test(facts: Facts) -> bool:
                for t in tests:  # noqa: SIM110 -- a plain loop: any() over a generator costs twice as much here
                    if t(facts):
                        return True
                return False

            self.test = test

    def explain(self, facts: Facts) -> str:
        for child in self.children:
            if child.test(facts):
                return child.explain(facts)  # the first matching alternative is the reason
        return " and ".join(_clause(c, facts) for c in self.children)


class _Not(CompiledExpression):
    __slots__ = ("child",)

    def __init__(self, child: CompiledExpression):
        self.child = child
        inner = child.test
        self.test = lambda facts: not inner(facts)

    def explain(self, facts: Facts) -> str:
        # When the child is false its explanation already says why; when true, say it is negated.
        text = self.child.explain(facts)
        return f"$not ({text})" if self.child.test(facts) else text


# --- run-time tests of one comparison ---------------------------------------------------------
# Each builder receives an operand already validated for the attribute, and returns a closure
# that is false for a missing value or a value of another type.


def _same_type_as(operand: Any) -> Callable[[Any], bool]:
    """A check that a fact has the operand's JSON type (boolean, number or string)."""
    if isinstance(operand, bool):
        return lambda value: value is True or value is False
    if isinstance(operand, str):
        return lambda value: isinstance(value, str)
    return _is_number


def _equality_test(name: str, op: str, operand: Any) -> Test:
    if op == "$eq" and isinstance(operand, str):
        # A fact that is not a string never equals a string: no type check needed.
        return lambda facts: facts.get(name) == operand
    same = _same_type_as(operand)
    if op == "$eq":

        def eq(facts: Facts) -> bool:
            value = facts.get(name)
            return same(value) and value == operand

        return eq

    def neq(facts: Facts) -> bool:
        value = facts.get(name)
        return same(value) and value != operand

    return neq


def _ordering_test(name: str, attr: Attribute, op: str, operand: Any) -> Test:
    compare = _ORDERING[op]
    if attr.kind is Kind.ORDERED_ENUM:
        # Over a small ordered enum, an ordering is a membership: `$gte HIGH` is {HIGH, URGENT}.
        rank = attr.values.index(operand)
        accepted = frozenset(v for i, v in enumerate(attr.values) if compare(i, rank))
        return lambda facts: isinstance(value := facts.get(name), str) and value in accepted
    same = _same_type_as(operand)

    def ordered(facts: Facts) -> bool:
        value: Any = facts.get(name)  # same(value): of the operand's type, so comparable with it
        return same(value) and compare(value, operand)

    return ordered


def _membership(attr: Attribute, values: list[Any]) -> Callable[[Any], bool | None]:
    """`member(fact)`: True if the fact is in `values` (for a list attribute: any element is),
    False if it is not, None if it is missing or of another type."""
    if attr.kind is Kind.STRING_LIST:
        wanted = frozenset(values)

        def any_element(value: Any) -> bool | None:
            if not isinstance(value, _LIST_TYPES):
                return None
            try:
                return not wanted.isdisjoint(value)
            except TypeError:  # an unhashable element: it cannot be one of our strings
                return any(isinstance(v, str) and v in wanted for v in value)

        return any_element
    if attr.kind is Kind.SCALAR:
        # One set per JSON type, so that True never finds 1 (they hash and compare equal). A type
        # the list has no value of is a mismatch (None), so `$nin` is false for it, like `$neq`.
        strings = frozenset(v for v in values if isinstance(v, str)) or None
        numbers = frozenset(v for v in values if _is_number(v)) or None
        booleans = frozenset(v for v in values if isinstance(v, bool)) or None

        def scalar(value: Any) -> bool | None:
            same_type: frozenset[object] | None
            if value is True or value is False:
                same_type = booleans
            elif isinstance(value, str):
                same_type = strings
            elif _is_number(value):
                same_type = numbers
            else:
                return None
            return None if same_type is None else value in same_type

        return scalar
    strings = frozenset(values)
    return lambda value: (value in strings) if isinstance(value, str) else None


def _membership_test(name: str, attr: Attribute, op: str, values: list[Any]) -> Test:
    member = _membership(attr, values)
    if op == "$in":
        return lambda facts: member(facts.get(name)) is True
    return lambda facts: member(facts.get(name)) is False


def _text_test(name: str, attr: Attribute, op: str, operand: str) -> Test:
    if op == "$contains" and attr.kind is Kind.STRING_LIST:
        return lambda facts: isinstance(value := facts.get(name), _LIST_TYPES) and operand in value
    if op == "$contains":
        return lambda facts: isinstance(value := facts.get(name), str) and operand in value
    if op == "$startsWith":
        return lambda facts: isinstance(value := facts.get(name), str) and value.startswith(operand)
    return lambda facts: isinstance(value := facts.get(name), str) and value.endswith(operand)


def _comparison_test(name: str, attr: Attribute, op: str, operand: Any) -> Test:
    if op in _EQUALITY:
        return _equality_test(name, op, operand)
    if op in _ORDERING:
        return _ordering_test(name, attr, op, operand)
    if op in _MEMBERSHIP:
        return _membership_test(name, attr, op, operand)
    if op in _TEXT:
        return _text_test(name, attr, op, operand)
    if operand:  # $exists true
        return lambda facts: facts.get(name) is not None
    return lambda facts: facts.get(name) is None


# --- validation of one comparison's operand ---------------------------------------------------


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_orderable(value: Any) -> bool:
    return isinstance(value, str) or _is_number(value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, bool)) or _is_number(value)


def _expected(attr: Attribute, op: str) -> tuple[str, Callable[[Any], bool]]:
    """What one scalar operand of `op` on `attr` must be: in words, and as a type check."""
    if attr.kind in (Kind.ENUM, Kind.ORDERED_ENUM):
        return "one of " + ", ".join(attr.values), _is_text
    if op in _TEXT or attr.kind in (Kind.STRING, Kind.STRING_LIST):
        return "a string", _is_text
    if op in _ORDERING:
        return "a number or a string", _is_orderable  # never a boolean: False < True is no order
    return "a string, a number or a boolean", _is_scalar


def _scalar_problem(attr: Attribute, op: str, value: Any) -> str | None:
    """What is wrong with one scalar operand (or one element of an $in list), or None."""
    expected, fits = _expected(attr, op)
    if not fits(value):
        hint = " (use $exists for a missing value)" if value is None else ""
        return f"must be {expected}, got {_json_type(value)}{hint}"
    if isinstance(value, str) and len(value) > MAX_STRING:
        return f"is a string longer than {MAX_STRING} characters"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if attr.values and value not in attr.values:
        return f"{_show(value)} is not {expected}"
    return None


def _operand_problems(name: str, attr: Attribute, op: str, operand: Any) -> list[str]:
    prefix = f"{op} on '{name}'"
    if op == "$exists":
        return [] if isinstance(operand, bool) else [f"{prefix} needs true or false, got {_json_type(operand)}"]
    if op in _MEMBERSHIP:
        if not isinstance(operand, (list, tuple)):
            return [f"{prefix} needs a list of values, got {_json_type(operand)}"]
        if not operand:
            return [f"{prefix} needs a non-empty list of values"]
        if len(operand) > MAX_LIST:
            return [f"{prefix} has {len(operand)} values; at most {MAX_LIST} are allowed"]
        problems = ((i, _scalar_problem(attr, op, v)) for i, v in enumerate(operand))
        return [f"{prefix}: value [{i}] {p}" for i, p in problems if p]
    problem = _scalar_problem(attr, op, operand)
    return [f"{prefix}: value {problem}"] if problem else []


# --- the compiler -----------------------------------------------------------------------------


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Compiler:
    """One walk over the tree: collects every error, and builds nodes while there are none."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.nodes = 0

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def expression(self, tree: Any, path: str, depth: int) -> CompiledExpression | None:
        """The compiled node, or None after recording at least one error."""
        if depth > MAX_DEPTH:
            self.error(path, f"expression is nested more than {MAX_DEPTH} levels deep")
            return None
        self.nodes += 1
        if self.nodes > MAX_NODES:
            if self.nodes == MAX_NODES + 1:
                self.error("", f"expression has more than {MAX_NODES} operators")
            return None
        if not isinstance(tree, Mapping):
            self.error(path, f"expected an expression object with one operator, got {_json_type(tree)}")
            return None
        if len(tree) != 1:
            keys = "".join(f" {_name(k)}" for k in list(tree)[:5])
            self.error(path, f"an expression object needs exactly one operator, got {len(tree)}{keys}")
            return None
        ((op, operand),) = tree.items()
        if op in ("$and", "$or"):
            return self.combination(op, operand, _child(path, op), depth)
        if op == "$not":
            child = self.expression(operand, _child(path, op), depth + 1)
            return _Not(child) if child else None
        if op in COMPARISONS:
            return self.comparison(op, operand, _child(path, op))
        self.error(path, f"unknown operator {_name(op)}; expected one of {', '.join(LOGICAL + COMPARISONS)}")
        return None

    def combination(self, op: str, operand: Any, path: str, depth: int) -> CompiledExpression | None:
        if not isinstance(operand, (list, tuple)) or not operand:
            got = "an empty list" if isinstance(operand, (list, tuple)) else _json_type(operand)
            self.error(path, f"{op} needs a non-empty list of expressions, got {got}")
            return None
        children = []
        for i, item in enumerate(operand):
            if self.nodes > MAX_NODES:
                break  # already too large (and reported): stop walking a possibly huge list
            children.append(self.expression(item, f"{path}[{i}]", depth + 1))
        compiled = [child for child in children if child is not None]
        if len(compiled) < len(children):
            return None
        return _All(compiled) if op == "$and" else _Any(compiled)

    def comparison(self, op: str, operand: Any, path: str) -> CompiledExpression | None:
        if not isinstance(operand, Mapping) or len(operand) != 1:
            got = _json_type(operand) if not isinstance(operand, Mapping) else f"{len(operand)} attributes"
            example = '{"message.channel": ...}'
            self.error(path, f"{op} needs an object with exactly one attribute, e.g. {example}; got {got}")
            return None
        ((name, value),) = operand.items()
        attr = attribute(name) if isinstance(name, str) else None
        if attr is None:
            self.error(path, f"unknown attribute {_name(name)}")
            return None
        if op not in _ALLOWED[attr.kind]:
            allowed = ", ".join(_ALLOWED[attr.kind])
            unordered = " (its values are not ordered)" if attr.kind is Kind.ENUM and op in _ORDERING else ""
            kind = f"{attr.kind.value} attribute '{name}'{unordered}"
            self.error(path, f"{op} is not available for {kind}; use {allowed}")
            return None
        problems = _operand_problems(name, attr, op, value)
        for problem in problems:
            self.error(path, problem)
        if problems:
            return None
        return _Comparison(name, op, value, _comparison_test(name, attr, op, value))


def compile_expression(tree: Any) -> Predicate:
    """Validate `tree` and compile it; raises ExpressionError listing every problem found."""
    compiler = _Compiler()
    compiled = compiler.expression(tree, "", 1)
    if compiler.errors or compiled is None:
        raise ExpressionError(compiler.errors)
    return compiled
