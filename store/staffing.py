"""A queue's observed traffic for staffing (SPEC "Service level", Staffing), over a window
ending at `now` (a parameter).

Staffing's stays are rows (store.stays: `staffing_stays`, written by the projection with
the events, by domain.stays' `Tracker`): a stay begins at a move into the queue (a ROUTED or
REROUTED event whose from and to differ; not ESCALATED, in any status) and ends at the next
such move out, SOLVED or CLOSED. Over the window:

- **arrivals per hour**: stays entered in the window ÷ the window in hours;
- **handle time**: for stays answered (their first ASSIGNED with an agent, or at the entry
  when an agent came along) whose handling ended in the window by SOLVED or CLOSED while
  still assigned (`HANDLED`), the mean of answer → end;
- **patience** (Erlang A): the standard estimate for exponential patience, total waiting time
  in the window ÷ stays abandoned in the window. Waiting is from the entry to the answer, the
  end, the move out or `now` (`waited_until`, null while waiting), each clipped to the window
  (the answered and the still waiting are censored observations). None when none was
  abandoned (then Erlang C), and always in a bot's queue, where the SPEC counts no stay
  abandoned. An out-of-hours close (a CLOSED right after an OUT_OF_HOURS) is no abandon.
- **average capacity**: the mean capacity of the queue's enabled members (1 with none, or
  when none may hold any);
  **agents available**: enabled members whose status is ACTIVE.

SOLVED is a STATUS_CHANGED event carrying the status taken; in timelines from before events kept
it, its reason, which is the status' name unless the change gave one (there a SOLVED with a
reason of its own is not seen: its stay ends at CLOSED instead). A reopening is not read as a
new stay.

Cost: aggregates over the queue's staffing stays through their indexes by (queue, moment):
entries by `entered_at`, handled and abandoned by `ended_at`, waiting by `waited_until`
(those still waiting, and those whose wait ended in the window or after); summed in SQL on
PostgreSQL, the two columns read on SQLite. Then the members.
On PostgreSQL the pass is planned for the window's bounds (`store.stays.plan_for_these_values`:
a generic plan took the still-waiting branch as every stay entered before now, through
`ix_staffing_stays_queue_entered`, the queue's whole history). At 100,000 stays in the window
it reads them all in order; their pages are new or just updated, so no index-only scan helps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from domain.models import AgentStatus, as_utc
from domain.stays import ABANDONED, HANDLED
from store.assignment import capacity_of
from store.stays import STAFFING_STAYS as STAFFING
from store.stays import on_postgresql, plan_for_these_values, seconds_between
from store.tables import AgentQueueRow, AgentRow, QueueRow


@dataclass(frozen=True)
class Observed:
    stays_entered: int
    arrivals_per_hour: float
    handled: int  # stays whose handling ended in the window
    handle_seconds: float | None
    abandoned: int
    waiting_seconds: float
    patience_seconds: float | None
    capacity: float
    enabled_members: int
    agents_available: int


def observed(session: Session, queue: QueueRow, now: datetime, window: timedelta, default_capacity: int) -> Observed:
    now = as_utc(now)
    start = now - window
    if on_postgresql(session):
        plan_for_these_values(session)
        entered, abandoned, handled, handle, waiting = _figures_in_one(session, queue.id, start, now)
    else:
        entered, abandoned, handled, handle, waiting = _figures(session, queue.id, start, now)
    members = session.exec(
        select(AgentRow).join(AgentQueueRow, col(AgentQueueRow.agent_id) == AgentRow.id)
        .where(AgentQueueRow.queue_id == queue.id, col(AgentRow.enabled))
    ).all()
    capacities = [capacity_of(agent, default_capacity) for agent in members]
    patience = None
    if abandoned and queue.bot_id is None:
        patience = round(waiting / abandoned, 3)
    return Observed(
        stays_entered=entered,
        arrivals_per_hour=round(entered / (window.total_seconds() / 3600), 6),
        handled=handled,
        handle_seconds=round(handle / handled, 3) if handled else None,
        abandoned=abandoned if queue.bot_id is None else 0,
        waiting_seconds=round(waiting, 3),
        patience_seconds=patience,
        # Members who may hold nothing (capacity 0) only: as with none.
        capacity=sum(capacities) / len(capacities) if sum(capacities) else 1.0,
        enabled_members=len(members),
        agents_available=sum(1 for agent in members if agent.status == AgentStatus.ACTIVE.value),
    )


def _figures_in_one(
    session: Session, queue_id: str, start: datetime, now: datetime,
) -> tuple[int, int, int, float, float]:
    """PostgreSQL: entered, abandoned, handled, handle seconds and waiting seconds in one pass
    over the stays with a moment in the window or still waiting (the union of the indexes'
    ranges)."""
    entered = STAFFING.c.entered_at.between(start, now)
    ended = STAFFING.c.ended_at.between(start, now)
    handled = ended & (STAFFING.c.ended_by == HANDLED)
    waits = (STAFFING.c.entered_at <= now) & or_(STAFFING.c.waited_until.is_(None), STAFFING.c.waited_until >= start)
    until = func.least(func.coalesce(STAFFING.c.waited_until, now), now)
    waited = func.greatest(seconds_between(func.greatest(STAFFING.c.entered_at, start), until), 0)
    row = session.connection().execute(select_columns(
        func.count().filter(entered), func.count().filter(ended & (STAFFING.c.ended_by == ABANDONED)),
        func.count().filter(handled),
        func.sum(seconds_between(STAFFING.c.answered_at, STAFFING.c.ended_at)).filter(handled),
        func.sum(waited).filter(waits),
    ).where(STAFFING.c.queue_id == queue_id, or_(entered, ended, waits))).one()
    return row[0], row[1], row[2], float(row[3] or 0), float(row[4] or 0)


def _figures(
    session: Session, queue_id: str, start: datetime, now: datetime,
) -> tuple[int, int, int, float, float]:
    """SQLite: the same, the handled and waiting stays' moments read and summed here."""
    connection = session.connection()
    mine = STAFFING.c.queue_id == queue_id
    entered = connection.execute(
        select_columns(func.count()).where(mine, STAFFING.c.entered_at.between(start, now))).scalar_one()
    ended = (mine, STAFFING.c.ended_at.between(start, now))
    abandoned = connection.execute(
        select_columns(func.count()).where(*ended, STAFFING.c.ended_by == ABANDONED)).scalar_one()
    rows = connection.execute(select_columns(STAFFING.c.answered_at, STAFFING.c.ended_at).where(
        *ended, STAFFING.c.ended_by == HANDLED)).all()
    handle = sum((as_utc(end) - as_utc(answered)).total_seconds() for answered, end in rows)
    waits = connection.execute(select_columns(STAFFING.c.entered_at, STAFFING.c.waited_until).where(
        mine, STAFFING.c.entered_at <= now,
        or_(STAFFING.c.waited_until.is_(None), STAFFING.c.waited_until >= start))).all()
    waiting = sum(
        max(0.0, (min(as_utc(until) if until is not None else now, now) - max(as_utc(began), start)).total_seconds())
        for began, until in waits)
    return entered, abandoned, len(rows), handle, waiting
