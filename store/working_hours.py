"""Working-hours queries, which hours a queue keeps, and their stored status.

A queue's hours are those its `working_hours_id` names if that row exists and is enabled,
else the enabled default's, else none: the queue is always open.

Each row stores whether it is open (`is_open`, since `status_changed_at`), which is what
auto-assignment reads: a save decides it at once (`decide_status`), and the working-hours
clock (workflows/working_hours_clock.py) decides every row's again at each opening and
closing (`refresh_statuses`), under the same change lock, so the two take turns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, text, update
from sqlmodel import Session, col, select

from domain.models import as_utc
from domain.working_hours import Hours, is_open, next_boundary
from store.db import take_write_lock
from store.tables import QueueRow, WorkingHoursRow

# The advisory lock that writes of working hours take turns by (a fixed key of ours).
HOURS_LOCK = 0x5B_0D_14_DE_FA_17


def hours_of(row: WorkingHoursRow) -> Hours:
    """The stored week and holidays, as domain.working_hours decides with them."""
    return Hours.model_validate(
        {"timezone": row.timezone, "work_week": row.work_week, "holidays": row.holidays}
    )


def default_working_hours(session: Session) -> WorkingHoursRow | None:
    """The default row (enabled or not); at most one exists (ux_working_hours_default)."""
    return session.exec(select(WorkingHoursRow).where(col(WorkingHoursRow.is_default).is_(True))).first()


def working_hours_of_queue(session: Session, queue: QueueRow) -> WorkingHoursRow | None:
    """The row of the hours in force for `queue`, or None: always open."""
    if queue.working_hours_id is not None:
        own = session.get(WorkingHoursRow, queue.working_hours_id)
        if own is not None and own.enabled:
            return own
    default = default_working_hours(session)
    if default is not None and default.enabled:
        return default
    return None


def hours_of_queue(session: Session, queue: QueueRow) -> Hours | None:
    """The hours in force for `queue`, or None: always open."""
    row = working_hours_of_queue(session, queue)
    return hours_of(row) if row is not None else None


def decide_status(row: WorkingHoursRow, at: datetime) -> bool:
    """A save's part: sets the row's stored status to what its hours say at `at` (a change,
    or a first decision, dated `at`). Whether it opened or closed."""
    now_open = is_open(hours_of(row), at)
    changed = now_open != row.is_open
    if changed or row.status_changed_at is None:
        row.is_open, row.status_changed_at = now_open, as_utc(at)  # SQLite keeps wall times: UTC ones
    return changed


# How far back the clock looks for the instant a status changed: a clock stopped for longer
# (every worker down) dates the change when it finds it.
BOUNDARY_LOOK_BACK = timedelta(days=7)


def last_boundary(hours: Hours, since: datetime | None, at: datetime) -> datetime:
    """The instant the status `hours` have at `at` began, if after `since` and within
    BOUNDARY_LOOK_BACK: the opening at 09:00 for a clock that woke a moment later; else `at`."""
    moment = at - BOUNDARY_LOOK_BACK if since is None else max(as_utc(since), at - BOUNDARY_LOOK_BACK)
    began = at
    while (boundary := next_boundary(hours, moment)) is not None and boundary <= at:
        began = moment = boundary
    return began


@dataclass
class StatusRefresh:
    """What one refresh changed, and when the next boundary of any working hours is due."""

    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    next_boundary_at: datetime | None = None


def refresh_statuses(session: Session, at: datetime) -> StatusRefresh:
    """Decides every working hours' status at `at` (enabled or not, so that enabling needs
    no clock), writes those that changed, and finds the earliest next boundary among them."""
    take_hours_lock(session)
    refresh = StatusRefresh()
    for row in session.exec(select(WorkingHoursRow).order_by(col(WorkingHoursRow.id))).all():
        hours = hours_of(row)
        now_open = is_open(hours, at)
        if now_open != row.is_open or row.status_changed_at is None:
            if now_open != row.is_open:
                (refresh.opened if now_open else refresh.closed).append(row.id)
            row.is_open, row.status_changed_at = now_open, as_utc(last_boundary(hours, row.status_changed_at, at))
        upcoming = next_boundary(hours, at)
        if upcoming is not None and (refresh.next_boundary_at is None or upcoming < refresh.next_boundary_at):
            refresh.next_boundary_at = upcoming
    return refresh


def take_hours_lock(session: Session) -> None:
    """Writes of working hours (a supervisor's rare edits, the clock's refresh) take turns:
    SQLite's write lock, PostgreSQL's advisory lock (transaction-scoped), taken as the
    transaction's first statement. So an edit reads rows no other write alters before it
    commits, and of two made the default at once the second sees the first's default and
    clears it."""
    take_write_lock(session)
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": HOURS_LOCK})


def clear_default(session: Session, keep_id: str, now: datetime) -> None:
    """Makes every row but `keep_id` not the default, under take_hours_lock: run it before
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
