"""Working-hours queries, and which hours a queue keeps.

A queue's hours are those its `working_hours_id` names if that row exists and is enabled,
else the enabled default's, else none: the queue is always open."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, text, update
from sqlmodel import Session, col, select

from domain.working_hours import Hours
from store.db import take_write_lock
from store.tables import QueueRow, WorkingHoursRow

# The advisory lock that changes of working hours take turns by (a fixed key of ours).
CHANGE_LOCK = 0x5B_0D_14_DE_FA_17


def hours_of(row: WorkingHoursRow) -> Hours:
    """The stored week and holidays, as domain.working_hours decides with them."""
    return Hours.model_validate(
        {"timezone": row.timezone, "work_week": row.work_week, "holidays": row.holidays}
    )


def default_working_hours(session: Session) -> WorkingHoursRow | None:
    """The default row (enabled or not); at most one exists (ux_working_hours_default)."""
    return session.exec(select(WorkingHoursRow).where(col(WorkingHoursRow.is_default).is_(True))).first()


def hours_of_queue(session: Session, queue: QueueRow) -> Hours | None:
    """The hours in force for `queue`, or None: always open."""
    if queue.working_hours_id is not None:
        own = session.get(WorkingHoursRow, queue.working_hours_id)
        if own is not None and own.enabled:
            return hours_of(own)
    default = default_working_hours(session)
    if default is not None and default.enabled:
        return hours_of(default)
    return None


def take_change_lock(session: Session) -> None:
    """Changes of working hours take turns: SQLite's write lock, PostgreSQL's advisory lock
    (transaction-scoped), taken as the transaction's first statement. So a change reads rows
    no other change alters before it commits, and of two made the default at once the second
    sees the first's default and clears it. They are a supervisor's rare changes."""
    take_write_lock(session)
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOCK})


def clear_default(session: Session, keep_id: str, now: datetime) -> None:
    """Makes every row but `keep_id` not the default, under take_change_lock: run it before
    `keep_id` is flushed as the default, which the unique index allows only alone."""
    session.exec(
        update(WorkingHoursRow)
        .where(col(WorkingHoursRow.is_default).is_(True), col(WorkingHoursRow.id) != keep_id)
        .values(is_default=False, updated_at=now)
    )


def live_queues_using(session: Session, working_hours_id: str) -> int:
    """How many queues (not deleted) name these hours as theirs."""
    return session.exec(
        select(func.count()).select_from(QueueRow).where(
            QueueRow.working_hours_id == working_hours_id, col(QueueRow.deleted_at).is_(None)
        )
    ).one()
