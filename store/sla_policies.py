"""SLA policies as stored: an ordered list whose places (`position`, 0-based) stay dense, 0..n-1,
because every write takes the policies' lock first and renumbers what it moved.

Policies are few (a page of the largest limit at most), so a write reads them all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from domain.models import as_utc
from domain.sla import OnBreach, PolicyPredicates, SlaPolicy
from domain.sla_clocks import SlaTerms
from store.db import take_write_lock
from store.tables import SlaPolicyRow, WorkingHoursRow
from store.working_hours import hours_of

# The advisory lock that writes of SLA policies take turns by (a fixed key of ours).
POLICIES_LOCK = 0x5B_0D_5A_A9_01_1C


def take_policies_lock(session: Session) -> None:
    """SQLite's write lock, PostgreSQL's advisory lock (transaction-scoped), as the
    transaction's first statement: two writes never number places from the same reading."""
    take_write_lock(session)
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": POLICIES_LOCK})


def ordered(session: Session) -> list[SlaPolicyRow]:
    return list(session.exec(select(SlaPolicyRow).order_by(col(SlaPolicyRow.position), col(SlaPolicyRow.id))).all())


def count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(SlaPolicyRow)).one()


def place(session: Session, rows: list[SlaPolicyRow]) -> None:
    """Numbers `rows` 0..n-1 in their list order, writing only the rows whose place changed."""
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
            session.add(row)


def policy_of(row: SlaPolicyRow) -> SlaPolicy:
    return SlaPolicy(
        id=row.id, name=row.name, expression=row.expression, first_response_seconds=row.first_response_seconds,
        resolution_seconds=row.resolution_seconds, working_hours_id=row.working_hours_id,
        warn_before_seconds=row.warn_before_seconds,
        on_breach=OnBreach.model_validate(row.on_breach) if row.on_breach is not None else None,
        enabled=row.enabled, order=row.position + 1,
        created_at=as_utc(row.created_at), updated_at=as_utc(row.updated_at),  # SQLite's are naive
    )


def policies(session: Session) -> list[SlaPolicy]:
    """Every policy, in order: what domain.sla.matching_policy chooses among."""
    return [policy_of(row) for row in ordered(session)]


def terms_for(session: Session, facts: dict[str, Any], predicates: PolicyPredicates) -> SlaTerms | None:
    """The terms of the policy a conversation with these routing facts gets (None: none
    matches), with its working hours as they are now: the conversation keeps them. The
    policies' expressions are compiled by `predicates`, which keeps them between matches."""
    policy = predicates.matching(policies(session), facts)
    if policy is None:
        return None
    hours = session.get(WorkingHoursRow, policy.working_hours_id) if policy.working_hours_id else None
    return SlaTerms(policy_id=policy.id, first_response_seconds=policy.first_response_seconds,
                    resolution_seconds=policy.resolution_seconds, warn_before_seconds=policy.warn_before_seconds,
                    on_breach=policy.on_breach, hours=hours_of(hours) if hours is not None else None)


def naming_working_hours(session: Session, working_hours_id: str) -> list[str]:
    """The names of the policies that count in these working hours."""
    return list(session.exec(
        select(SlaPolicyRow.name).where(SlaPolicyRow.working_hours_id == working_hours_id)
        .order_by(col(SlaPolicyRow.position))).all())


def breaching_into(session: Session, queue_id: str) -> list[str]:
    """The names of the policies whose breach moves conversations into this queue (read in
    full: `on_breach` is JSON, and policies are few)."""
    return [row.name for row in ordered(session) if (row.on_breach or {}).get("queue_id") == queue_id]
