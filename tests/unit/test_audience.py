"""domain.audience: People's data (customer.* facts and their values in a trace) for
supervisors only; everything else as it was."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.audience import HIDDEN, Audience, audience_of, decision_for, event_for, hide_people_values
from domain.conversation import ConversationEvent, EventType
from domain.expressions import COMPARISONS, compile_expression, show
from domain.models import SYSTEM_ACTOR, ActorType, RoutingRule
from domain.routing import compile_routing, evaluate

SECRET = 713.375
FACTS: dict[str, Any] = {
    "message.channel": "WHATSAPP",
    "conversation.topic": "card limit",
    "customer.country": "Croatia",
    "customer.tags": ["vip", "late payer"],
    "customer.customAttributes.creditScore": SECRET,
    "customer.customAttributes.note": 'owes 200, not $eq "paid" yet',
}

# One comparison per operator on a person's attribute, each false for FACTS, so that its
# explanation shows the person's value.
FALSE_ON_A_PERSON = {
    "$eq": {"customer.customAttributes.creditScore": 1},
    "$neq": {"customer.customAttributes.creditScore": SECRET},
    "$lt": {"customer.customAttributes.creditScore": 1},
    "$lte": {"customer.customAttributes.creditScore": 1},
    "$gt": {"customer.customAttributes.creditScore": 900},
    "$gte": {"customer.customAttributes.creditScore": 900},
    "$in": {"customer.country": ["Spain"]},
    "$nin": {"customer.country": ["Croatia"]},
    "$contains": {"customer.tags": "gold"},
    "$startsWith": {"customer.customAttributes.note": "paid"},
    "$endsWith": {"customer.customAttributes.note": "paid"},
    "$exists": {"customer.customAttributes.creditScore": False},
}


def shown_values(text: str) -> list[str]:
    """A person's values in the text. (A false $neq or $nin shows its operand, which the rule
    has and anyone may read in the routing: explanations are checked by `shown_as_seen`.)"""
    return [value for value in ("713.375", "Croatia", "late payer", "owes 200") if value in text]


def shown_as_seen(text: str) -> list[str]:
    """A person's values as routing saw them: `<attribute> is <value>`."""
    return [f"{name} is {show(value)}" for name, value in FACTS.items()
            if name.startswith("customer.") and f"{name} is {show(value)}" in text]


def test_every_operator_is_covered() -> None:
    assert set(FALSE_ON_A_PERSON) == set(COMPARISONS)


@pytest.mark.parametrize("op", sorted(FALSE_ON_A_PERSON))
def test_a_persons_value_is_hidden_from_every_explanation(op: str) -> None:
    expression = {op: FALSE_ON_A_PERSON[op]}
    for wrapped in (expression, {"$and": [{"$eq": {"message.channel": "WHATSAPP"}}, expression]},
                    {"$or": [expression, {"$eq": {"message.channel": "SMS"}}]},
                    {"$not": {"$not": expression}}):
        reason = compile_expression(wrapped).explain(FACTS)
        assert shown_as_seen(reason), reason  # the old explanation shows it
        hidden = hide_people_values(reason, FACTS)
        assert not shown_as_seen(hidden), hidden
        assert f" is {HIDDEN}, not {op} " in hidden, hidden
        # Without the facts (an event that has none), the form alone finds it.
        assert hide_people_values(reason, None) == hidden, reason


def test_a_missing_attribute_is_hidden_and_other_facts_are_not() -> None:
    expression = {"$and": [{"$exists": {"customer.city": True}}]}
    reason = compile_expression(expression).explain(FACTS)
    assert hide_people_values(reason, FACTS) == f"customer.city is {HIDDEN}, not $exists true"
    channel = compile_expression({"$eq": {"message.channel": "SMS"}}).explain(FACTS)
    assert hide_people_values(channel, FACTS) == channel == 'message.channel is "WHATSAPP", not $eq "SMS"'


def decision():
    rules = [
        RoutingRule(id="r1", name="Top", queue_id="q1",
                    expression={"$gt": {"customer.customAttributes.creditScore": 900}}),
        RoutingRule(id="r2", name="WhatsApp Spain", queue_id="q2",
                    expression={"$and": [{"$eq": {"message.channel": "WHATSAPP"}},
                                         {"$in": {"customer.country": ["Spain"]}}]}),
        RoutingRule(id="r3", name="Prime", queue_id="q3",
                    expression={"$gte": {"customer.customAttributes.creditScore": 700}}),
    ]
    return evaluate(compile_routing(1, rules), FACTS, default_queue_id="default")


def test_a_decision_for_workers_keeps_all_but_a_persons_data() -> None:
    full = decision()
    assert shown_values(str(full.trace)) and full.facts == FACTS
    for_workers = decision_for(full, Audience.WORKERS)
    assert not shown_values(str(for_workers.model_dump()))
    assert for_workers.facts == {"message.channel": "WHATSAPP", "conversation.topic": "card limit"}
    assert [(e.route_id, e.outcome) for e in for_workers.trace] == [(e.route_id, e.outcome) for e in full.trace]
    assert for_workers.trace[0].reason == f"customer.customAttributes.creditScore is {HIDDEN}, not $gt 900"
    assert for_workers.trace[2].reason == "matched: customer.customAttributes.creditScore $gte 700"
    assert (for_workers.queue_id, for_workers.route_id) == ("q3", "r3")
    assert decision_for(full, Audience.SUPERVISORS) == full


def test_an_event_for_workers_and_for_supervisors() -> None:
    full = decision()
    event = ConversationEvent(seq=2, type=EventType.ROUTED, at=datetime(2026, 1, 1, tzinfo=UTC),
                              actor=SYSTEM_ACTOR, to_queue_id="q3", route_id="r3", routing_version=1,
                              trace=full.trace, facts=full.facts, reason="matched rule")
    assert event_for(event, Audience.SUPERVISORS) == event
    seen = event_for(event, Audience.WORKERS)
    assert not shown_values(seen.model_dump_json())
    assert seen.facts == {"message.channel": "WHATSAPP", "conversation.topic": "card limit"}
    assert seen.model_dump(exclude={"facts", "trace"}) == event.model_dump(exclude={"facts", "trace"})
    plain = ConversationEvent(seq=3, type=EventType.CLOSED, at=event.at, actor=SYSTEM_ACTOR)
    assert event_for(plain, Audience.WORKERS) == plain


def test_audiences_by_type() -> None:
    assert audience_of(ActorType.SUPERVISOR) is Audience.SUPERVISORS
    assert audience_of(ActorType.AGENT) is Audience.WORKERS
    assert audience_of(ActorType.BOT) is Audience.WORKERS
