"""SLA policies in SQL (store.sla_policies) on SQLite and PostgreSQL: written under the lock,
numbered densely, read back in order with their JSON (expression, onBreach) as domain policies,
and found by the working hours and queue they name; the match activity sees an edit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Engine

from activities.routing import RoutingActivities
from domain.activity_stubs import SlaMatchRequest
from domain.models import Priority, utcnow
from domain.sla import OnBreach, matching_policy
from store import sla_policies
from store.db import session_scope
from store.tables import SlaPolicyRow

TELEGRAM = {"$eq": {"message.channel": "TELEGRAM"}}
ANY_CHANNEL = {"$exists": {"message.channel": True}}


def row(name: str, expression: dict, **fields: Any) -> SlaPolicyRow:
    now = utcnow()
    return SlaPolicyRow(id=str(uuid.uuid4()), name=name, expression=expression, position=-1, created_at=now,
                        updated_at=now, **fields)


def test_policies_round_trip_in_order(engine: Engine):
    hours_id, queue_id = str(uuid.uuid4()), str(uuid.uuid4())
    with session_scope(engine) as session:
        sla_policies.take_policies_lock(session)
        rows = [row("fallback", ANY_CHANNEL, resolution_seconds=86400),
                row("telegram", TELEGRAM, first_response_seconds=60, warn_before_seconds=30,
                    working_hours_id=hours_id, on_breach={"priority": "URGENT", "queue_id": queue_id})]
        session.add_all(rows)
        sla_policies.place(session, rows)
    with session_scope(engine) as session:
        sla_policies.take_policies_lock(session)
        rows = sla_policies.ordered(session)
        rows.insert(0, rows.pop())  # telegram first
        sla_policies.place(session, rows)
    with session_scope(engine) as session:
        policies = sla_policies.policies(session)
        assert [(p.name, p.order) for p in policies] == [("telegram", 1), ("fallback", 2)]
        telegram = policies[0]
        assert telegram.expression == TELEGRAM
        assert telegram.on_breach == OnBreach(priority=Priority.URGENT, queue_id=queue_id)
        assert (telegram.first_response_seconds, telegram.warn_before_seconds, telegram.working_hours_id) == (
            60, 30, hours_id)
        assert policies[1].on_breach is None and policies[1].resolution_seconds == 86400
        assert telegram.created_at is not None and telegram.created_at.tzinfo is not None
        assert sla_policies.count(session) == 2
        assert sla_policies.naming_working_hours(session, hours_id) == ["telegram"]
        assert sla_policies.breaching_into(session, queue_id) == ["telegram"]
        assert sla_policies.breaching_into(session, hours_id) == []
        assert matching_policy(policies, {"message.channel": "TELEGRAM"}) == telegram
        assert matching_policy(policies, {"message.channel": "EMAIL"}) == policies[1]


def test_the_match_activity_sees_an_edited_expression(engine: Engine):
    """The activity keeps the policies' compiled expressions between matches (domain.sla.
    PolicyPredicates); an edit of the expression in the store applies to the next match."""
    activities = RoutingActivities(engine)
    telegram = row("telegram", TELEGRAM, first_response_seconds=60)
    policy_id = telegram.id
    with session_scope(engine) as session:
        sla_policies.take_policies_lock(session)
        session.add(telegram)
        sla_policies.place(session, [telegram])
    on_telegram, on_email = SlaMatchRequest(facts={"message.channel": "TELEGRAM"}), SlaMatchRequest(
        facts={"message.channel": "EMAIL"})
    matched = activities.match_sla_policy(on_telegram)
    assert matched is not None and matched.policy_id == policy_id
    assert activities.match_sla_policy(on_email) is None

    with session_scope(engine) as session:
        stored = session.get(SlaPolicyRow, policy_id)
        assert stored is not None
        stored.expression = {"$eq": {"message.channel": "EMAIL"}}
        stored.updated_at = utcnow()
        session.add(stored)
    assert activities.match_sla_policy(on_telegram) is None
    matched = activities.match_sla_policy(on_email)
    assert matched is not None and matched.policy_id == policy_id
