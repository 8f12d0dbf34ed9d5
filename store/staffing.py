"""A queue's observed traffic for staffing (SPEC "Service level", Staffing), over a window
ending at `now` (a parameter).

Stays, moves and entries are read as in `store.statistics` (a move is a ROUTED or REROUTED
event whose from and to differ; a stay begins at a move into the queue). Over the window:

- **arrivals per hour**: stays entered in the window ÷ the window in hours;
- **handle time**: for stays answered (their first ASSIGNED with an agent) whose handling ended
  in the window by SOLVED or CLOSED while still assigned, the mean of answer → end;
- **patience** (Erlang A): the standard estimate for exponential patience, total waiting time
  in the window ÷ stays abandoned in the window. Waiting is from the entry to the answer, the
  end, the move out or `now`, each clipped to the window (the answered and the still waiting
  are censored observations). None when none was abandoned (then Erlang C), and always in a
  bot's queue, where the SPEC counts no stay abandoned. An out-of-hours close is no abandon.
- **average capacity**: the mean capacity of the queue's enabled members (1 with none, or
  when none may hold any);
  **agents available**: enabled members whose status is ACTIVE.

SOLVED is a STATUS_CHANGED event carrying the status taken; in timelines from before events kept
it, its reason, which is the status' name unless the change gave one (there a SOLVED with a
reason of its own is not seen: its stay ends at CLOSED instead). A reopening is not read as a
new stay.

Cost: one query for the conversations the window touches (the window's events through
`ix_conversation_events_type_at`, each checked for a move into the queue through the events'
primary key) plus those now waiting in the queue; one for their timelines' events of the kinds
read here; one for the members. The timelines are walked in Python, once each.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from domain.conversation import EventType
from domain.models import AgentStatus, Status, as_utc
from store.assignment import HOLDING, capacity_of
from store.statistics import EVENTS, MOVES, _from_queue, _to_queue
from store.tables import AgentQueueRow, AgentRow, ConversationRow, QueueRow

SOLVED = Status.SOLVED.value
ASSIGNED, UNASSIGNED = EventType.ASSIGNED.value, EventType.UNASSIGNED.value
CLOSED, STATUS_CHANGED = EventType.CLOSED.value, EventType.STATUS_CHANGED.value
OUT_OF_HOURS = EventType.OUT_OF_HOURS.value
READ = (*MOVES, ASSIGNED, UNASSIGNED, CLOSED, STATUS_CHANGED, OUT_OF_HOURS)


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


@dataclass
class _Stay:
    entered: datetime
    answered: datetime | None = None


@dataclass
class _Tally:
    entered: int = 0
    handle: float = 0.0
    handled: int = 0
    abandoned: int = 0
    waiting: float = 0.0


def observed(session: Session, queue: QueueRow, now: datetime, window: timedelta, default_capacity: int) -> Observed:
    now = as_utc(now)
    start = now - window
    tally = _Tally()
    for events in _timelines(session, queue.id, start, now).values():
        _walk(events, queue, start, now, tally)
    members = session.exec(
        select(AgentRow).join(AgentQueueRow, col(AgentQueueRow.agent_id) == AgentRow.id)
        .where(AgentQueueRow.queue_id == queue.id, col(AgentRow.enabled))
    ).all()
    capacities = [capacity_of(agent, default_capacity) for agent in members]
    patience = None
    if tally.abandoned and queue.bot_id is None:
        patience = round(tally.waiting / tally.abandoned, 3)
    return Observed(
        stays_entered=tally.entered,
        arrivals_per_hour=round(tally.entered / (window.total_seconds() / 3600), 6),
        handled=tally.handled,
        handle_seconds=round(tally.handle / tally.handled, 3) if tally.handled else None,
        abandoned=tally.abandoned if queue.bot_id is None else 0,
        waiting_seconds=round(tally.waiting, 3),
        patience_seconds=patience,
        # Members who may hold nothing (capacity 0) only: as with none.
        capacity=sum(capacities) / len(capacities) if sum(capacities) else 1.0,
        enabled_members=len(members),
        agents_available=sum(1 for agent in members if agent.status == AgentStatus.ACTIVE.value),
    )


def _timelines(session: Session, queue_id: str, start: datetime, now: datetime) -> dict[str, list[Any]]:
    """The events read here, by conversation in seq order, of the conversations that entered
    the queue and have such an event in the window, or wait in it now."""
    recent, into = EVENTS.alias("recent"), EVENTS.alias("into")
    touched = (
        select(recent.c.conversation_id)
        .where(
            recent.c.type.in_(READ), recent.c.at >= start, recent.c.at <= now,
            select(into.c.seq).where(
                into.c.conversation_id == recent.c.conversation_id, into.c.type.in_(MOVES),
                _to_queue(into) == queue_id,
            ).exists(),
        )
    )
    waiting = select(col(ConversationRow.id)).where(
        ConversationRow.queue_id == queue_id, col(ConversationRow.status).in_(HOLDING),
        col(ConversationRow.agent_id).is_(None),
    )
    rows = session.connection().execute(
        select_columns(EVENTS.c.conversation_id, EVENTS.c.type, EVENTS.c.at, _from_queue(EVENTS), _to_queue(EVENTS),
               EVENTS.c.body["agent_id"].as_string(), _status_taken(EVENTS))
        .where(EVENTS.c.type.in_(READ), EVENTS.c.at <= now,
               or_(EVENTS.c.conversation_id.in_(touched), EVENTS.c.conversation_id.in_(waiting)))
        .order_by(EVENTS.c.conversation_id, EVENTS.c.seq)
    ).all()
    timelines: defaultdict[str, list[Any]] = defaultdict(list)
    for row in rows:
        timelines[row[0]].append(row[1:])
    return timelines


def _status_taken(events: Any) -> Any:
    """A STATUS_CHANGED's status; in timelines from before events kept it, the reason."""
    return func.coalesce(events.c.body["status"].as_string(), events.c.body["reason"].as_string())


def _walk(events: list[Any], queue: QueueRow, start: datetime, now: datetime, tally: _Tally) -> None:
    """One conversation's stays in the queue, added to `tally`."""
    stay: _Stay | None = None
    agent: str | None = None
    out_of_hours = False

    def waited(until: datetime) -> None:
        assert stay is not None
        begin, end = max(stay.entered, start), min(until, now)
        tally.waiting += max(0.0, (end - begin).total_seconds())

    for type_, at, from_queue, to_queue, agent_id, status in events:
        at = as_utc(at)
        in_window = start <= at <= now
        if type_ in MOVES:
            if from_queue == to_queue:
                continue
            if stay is not None and stay.answered is None:
                waited(at)  # left unanswered by a move: neither answered nor abandoned
            stay = None
            if to_queue == queue.id:
                stay = _Stay(entered=at, answered=at if agent is not None else None)
                tally.entered += in_window
        elif type_ == ASSIGNED and agent_id is not None:
            agent = agent_id
            if stay is not None and stay.answered is None:
                waited(at)
                stay.answered = at
        elif type_ in (ASSIGNED, UNASSIGNED):
            agent = None
        elif type_ == OUT_OF_HOURS:
            out_of_hours = True
            continue
        elif (type_ == CLOSED or (type_ == STATUS_CHANGED and status == SOLVED)) and stay is not None:
            if stay.answered is None:
                waited(at)
                if in_window and not (type_ == CLOSED and out_of_hours):
                    tally.abandoned += 1
            elif agent is not None and in_window:
                tally.handled += 1
                tally.handle += (at - stay.answered).total_seconds()
            stay = None
        out_of_hours = False
    if stay is not None and stay.answered is None:
        waited(now)
