"""Routing versions, routing settings, and the compiled current routing."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.conversation import CustomerRef
from domain.models import Actor, EscalationStep, RoutingDecision, RoutingRule, utcnow
from domain.routing import CompiledRouting, compile_routing, evaluate
from domain.working_hours import is_open
from store.out_of_hours import out_of_hours_of
from store.people import customer_facts, person_for_conversation
from store.tables import QueueRow, RoutingSettingsRow, RoutingVersionRow
from store.working_hours import hours_of_queue


def latest_version_number(session: Session) -> int:
    """0 until the first routing is saved: an empty routing that sends everything to default."""
    return session.exec(select(func.max(RoutingVersionRow.number))).one() or 0


def version_rules(row: RoutingVersionRow | None) -> list[RoutingRule]:
    return [RoutingRule.model_validate(rule) for rule in row.rules] if row else []


def current_version(session: Session) -> tuple[int, list[RoutingRule]]:
    number = latest_version_number(session)
    return number, version_rules(session.get(RoutingVersionRow, number))


def save_version(session: Session, rules: list[RoutingRule], author: Actor) -> RoutingVersionRow:
    """Appends a version. Two concurrent saves collide on the primary key; the loser raises."""
    row = RoutingVersionRow(
        number=latest_version_number(session) + 1,
        author_type=author.type.value,
        author_id=author.id,
        author_name=author.name,
        created_at=utcnow(),
        rules=[rule.model_dump(mode="json") for rule in rules],
    )
    session.add(row)
    session.flush()
    return row


def list_versions(
    session: Session, *, offset: int, limit: int, descending: bool
) -> tuple[list[RoutingVersionRow], int]:
    number = col(RoutingVersionRow.number)
    order = number.desc() if descending else number.asc()
    rows = session.exec(select(RoutingVersionRow).order_by(order).offset(offset).limit(limit)).all()
    total = session.exec(select(func.count()).select_from(RoutingVersionRow)).one()
    return list(rows), total


def settings_row(session: Session) -> RoutingSettingsRow:
    row = session.get(RoutingSettingsRow, 1)
    if row is None:
        raise LookupError("routing settings are missing: the store was not bootstrapped")
    return row


def default_queue_id(session: Session) -> str:
    return settings_row(session).default_queue_id


def set_default_queue_id(session: Session, queue_id: str) -> RoutingSettingsRow:
    row = session.get(RoutingSettingsRow, 1) or RoutingSettingsRow(id=1, default_queue_id=queue_id)
    row.default_queue_id = queue_id
    row.updated_at = utcnow()
    session.add(row)
    return row


@dataclass(frozen=True)
class CurrentRouting:
    compiled: CompiledRouting
    default_queue_id: str
    # Queues some rule targets that were deleted since the save: their rules are skipped.
    deleted_queue_ids: frozenset[str]


class RoutingLoader:
    """Loads the routing in force, compiling each version once (versions never change)."""

    def __init__(self, keep: int = 8) -> None:
        self._keep = keep
        self._compiled: dict[int, CompiledRouting] = {}
        self._lock = threading.Lock()

    def compiled(self, session: Session, number: int) -> CompiledRouting:
        with self._lock:
            cached = self._compiled.get(number)
        if cached is not None:
            return cached
        compiled = compile_routing(number, version_rules(session.get(RoutingVersionRow, number)))
        with self._lock:
            self._compiled[number] = compiled
            for old in sorted(self._compiled)[: -self._keep]:
                del self._compiled[old]
        return compiled

    def current(self, session: Session) -> CurrentRouting:
        compiled = self.compiled(session, latest_version_number(session))
        targets = {rule.rule.queue_id for rule in compiled.rules}
        deleted = session.exec(
            select(QueueRow.id).where(col(QueueRow.id).in_(targets), col(QueueRow.deleted_at).is_not(None))
        ).all() if targets else []
        return CurrentRouting(compiled, default_queue_id(session), frozenset(deleted))

    def decide(
        self,
        session: Session,
        facts: dict[str, Any],
        customer: CustomerRef | None = None,
        skip_queues: dict[str, str] | None = None,
        fallback_queue_id: str | None = None,
        at: datetime | None = None,
    ) -> RoutingDecision:
        """Evaluates the routing in force with the customer's attributes from People (found by
        `customer`, else by message.from) as the customer.* facts, as they are now. Rules into
        deleted queues are skipped, not fatal; with no match the conversation goes to the
        fallback queue if it is live, else to the default queue. The decision names the bot
        serving the chosen queue and the person whose facts it used. A rule that routes only
        during working hours is passed over while its queue is closed, `at` (default: now); a
        chosen queue closed then is said in `out_of_hours`."""
        at = at or utcnow()
        person = person_for_conversation(
            session,
            customer.identifier if customer else None,
            customer.type if customer else None,
            facts.get("message.from"),
        )
        facts = {**facts, **customer_facts(person)}
        current = self.current(session)
        skip = {queue_id: "target queue was deleted" for queue_id in current.deleted_queue_ids}
        skip.update(skip_queues or {})
        fallback = session.get(QueueRow, fallback_queue_id) if fallback_queue_id else None
        decision = evaluate(
            current.compiled,
            facts,
            default_queue_id=fallback.id
            if fallback is not None and fallback.deleted_at is None
            else current.default_queue_id,
            skip_queues=skip,
            closed_queues=closed_queues(session, current.compiled.queues_with_hours(), at),
        )
        queue = session.get(QueueRow, decision.queue_id)
        if queue is not None and queue.bot_id is not None:
            decision.bot_id = queue.bot_id
            decision.bot_timeout_seconds = queue.bot_timeout_seconds
        if queue is not None:
            decision.escalation = [EscalationStep.model_validate(step) for step in queue.escalation or []]
            decision.out_of_hours = out_of_hours_of(session, queue, at)
        decision.customer_id = person.id if person else None
        return decision


def closed_queues(session: Session, queue_ids: set[str], at: datetime) -> dict[str, str]:
    """Those of these queues that are outside their working hours at `at`, with why."""
    if not queue_ids:
        return {}
    closed = {}
    for queue in session.exec(select(QueueRow).where(col(QueueRow.id).in_(queue_ids))).all():
        hours = hours_of_queue(session, queue)
        if hours is not None and not is_open(hours, at):
            closed[queue.id] = f"queue closed: outside its working hours ({hours.timezone})"
    return closed
