"""Stays: one conversation's time in one queue, from entering it to leaving it, read from its
timeline (SPEC "Service level"). Pure: the store reads the events and replies, this replays
them, so the same rules answer for one conversation and for a hundred thousand.

- A stay **begins** at a move into a queue (ROUTED, REROUTED, or an ESCALATED that moved; from
  another queue or none) while the conversation is OPEN or WAITING, or at a reopening (SOLVED
  to OPEN or WAITING) that leaves it unassigned, in the queue it is in. A reopening that gives
  it back to its agent starts none.
- It **ends** at the next move out (neither answered nor abandoned by that), at SOLVED or at
  CLOSED.
- It is **answered** at its first ASSIGNED to an agent (with offers, the accept's ASSIGNED),
  timed from the entry. An agent who comes along into the queue answers nothing: the stay is
  answered only by an ASSIGNED within it.
- It is **abandoned** when it ends by SOLVED or CLOSED while unassigned and was never answered,
  unless the queue's bot took it during the stay (a BOT_STARTED for the queue) or the close is
  an out-of-hours one (the CLOSED right after an OUT_OF_HOURS whose hours close conversations).
- Its **first agent reply** is the first agent reply (as the store reads them) from the entry
  until the stay ends, timed from the entry.
- **Offers** belong to the queue the conversation is in when each is made or answered; an
  accept is an ASSIGNED carrying `expires_at`, timed from the OFFERED before it.

An event recorded before STATUS_CHANGED carried its `status` says the new status only in its
default reason (the status's name); one with another reason is read as no change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.conversation import EventType
from domain.models import Status

MOVE_TYPES = frozenset({EventType.ROUTED.value, EventType.REROUTED.value, EventType.ESCALATED.value})
OFFER_ENDS = frozenset({
    EventType.OFFER_DECLINED.value, EventType.OFFER_EXPIRED.value, EventType.OFFER_WITHDRAWN.value,
})
# The event types a replay reads; the store fetches only these.
STAY_EVENT_TYPES = frozenset({
    *MOVE_TYPES, EventType.ASSIGNED.value, EventType.UNASSIGNED.value, EventType.BOT_STARTED.value,
    EventType.OUT_OF_HOURS.value, EventType.STATUS_CHANGED.value, EventType.CLOSED.value,
    EventType.OFFERED.value, *OFFER_ENDS,
})
STATUS_NAMES = frozenset(status.value for status in Status)
WAITING_STATUSES = (Status.OPEN.value, Status.WAITING.value)


@dataclass(frozen=True)
class StayEvent:
    """The parts of a timeline event a replay needs."""

    seq: int
    type: str
    at: datetime
    from_queue_id: str | None = None
    to_queue_id: str | None = None
    agent_id: str | None = None
    expires_at: datetime | None = None
    # STATUS_CHANGED: the new status, or the reason (older events carry only that).
    status: str | None = None
    # OUT_OF_HOURS: whether the hours close the conversation.
    closes: bool = False


# How a stay ended (None while it goes on).
MOVED = "MOVED"  # by a move out: neither answered nor abandoned by that
ABANDONED = "ABANDONED"  # SOLVED or CLOSED unassigned, never answered (as the SPEC counts it)
ENDED = "ENDED"  # SOLVED or CLOSED otherwise: answered, or an agent came along
BOT = "BOT"  # SOLVED or CLOSED unassigned and unanswered, but the queue's bot took it
OUT_OF_HOURS = "OUT_OF_HOURS"  # closed out of hours, unassigned and unanswered
# Staffing's stays (store.staffing) end by SOLVED or CLOSED as HANDLED (answered, an agent
# still on it), ENDED (answered, no agent by then), ABANDONED or OUT_OF_HOURS.
HANDLED = "HANDLED"
# Staffing counts a stay from each ROUTED or REROUTED into the queue (not ESCALATED), in any
# status, answered at once when an agent comes along, and no reopening (store.staffing).
STAFFING_MOVES = frozenset({EventType.ROUTED.value, EventType.REROUTED.value})
STAFFING_TYPES = frozenset({
    *STAFFING_MOVES, EventType.ASSIGNED.value, EventType.UNASSIGNED.value, EventType.CLOSED.value,
    EventType.STATUS_CHANGED.value, EventType.OUT_OF_HOURS.value,
})


@dataclass
class Stay:
    conversation_id: str
    queue_id: str
    entered_at: datetime
    answered_at: datetime | None = None
    abandoned_at: datetime | None = None
    ended_at: datetime | None = None
    first_reply_at: datetime | None = None
    with_bot: bool = False
    seq: int = 0  # the event that began it
    ended_by: str | None = None


@dataclass
class StaffingStay:
    """A stay as staffing reads it: from a ROUTED or REROUTED into the queue to the next
    one out of it, SOLVED or CLOSED; `waited_until` the first of its answer and its end."""

    conversation_id: str
    queue_id: str
    entered_at: datetime
    seq: int
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None

    @property
    def waited_until(self) -> datetime | None:
        return self.answered_at or self.ended_at


@dataclass(frozen=True)
class Move:
    """A ROUTED or REROUTED from one queue (or none) to another (or none), as the last hour's
    routed in and out count it; `from_entered_at`: the latest such move into the queue it
    leaves before it (None: none, or it left no queue)."""

    seq: int
    at: datetime
    from_queue_id: str | None
    to_queue_id: str | None
    from_entered_at: datetime | None


@dataclass(frozen=True)
class OfferEvent:
    """An OFFERED, an offer's end, or an accept (ASSIGNED; `waited` from its OFFERED)."""

    queue_id: str
    type: str
    at: datetime
    accept_seconds: float | None = None
    seq: int = 0


@dataclass
class Replay:
    stays: list[Stay] = field(default_factory=list)
    offers: list[OfferEvent] = field(default_factory=list)
    staffing: list[StaffingStay] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _text(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class Tracker:
    """One conversation's stays, event by event: what a replay folds over a whole timeline,
    and what the projection carries from one batch of events to the next (`state`, a JSON
    object; the stays still open come back from it, `restored`)."""

    def __init__(self, conversation_id: str, state: dict[str, Any] | None = None) -> None:
        self.conversation_id = conversation_id
        state = state or {}
        self.queue: str | None = state.get("queue")
        self.agent: str | None = state.get("agent")
        self.status: str = state.get("status", Status.OPEN.value)
        self.offered_at = _time(state.get("offered_at"))
        self.closes_now: bool = state.get("closes_now", False)
        self.staffing_out_of_hours: bool = state.get("staffing_out_of_hours", False)
        # The latest ROUTED or REROUTED into each queue it has been in (a move, not a stay: in
        # any status), and its first ASSIGNED (None: none yet, or the first had no agent).
        self.moved_in: dict[str, datetime] = {
            queue: datetime.fromisoformat(at) for queue, at in state.get("moved_in", {}).items()}
        self.assigned_seen: bool = state.get("assigned_seen", False)
        self.first_assigned_at = _time(state.get("first_assigned_at"))
        self.moves: list[Move] = []
        self.stays: list[Stay] = []
        self.staffing: list[StaffingStay] = []
        self.offers: list[OfferEvent] = []
        self.stay: Stay | None = None
        self.staffing_stay: StaffingStay | None = None
        if (open_ := state.get("stay")) is not None:
            self.stay = Stay(conversation_id, open_["queue"], _time(open_["entered_at"]),  # type: ignore[arg-type]
                             answered_at=_time(open_.get("answered_at")), with_bot=open_.get("with_bot", False),
                             seq=open_["seq"])
            self.stays.append(self.stay)
        if (open_ := state.get("staffing")) is not None:
            self.staffing_stay = StaffingStay(conversation_id, open_["queue"], _time(open_["entered_at"]),  # type: ignore[arg-type]
                                              open_["seq"], answered_at=_time(open_.get("answered_at")))
            self.staffing.append(self.staffing_stay)
        # The stays that were open before this tracker's events (already stored).
        self.restored = {id(stay) for stay in (self.stay, self.staffing_stay) if stay is not None}

    def state(self) -> dict[str, Any]:
        stay, staffing = self.stay, self.staffing_stay
        return {
            "queue": self.queue, "agent": self.agent, "status": self.status,
            "offered_at": _text(self.offered_at), "closes_now": self.closes_now,
            "staffing_out_of_hours": self.staffing_out_of_hours,
            "moved_in": {queue: at.isoformat() for queue, at in self.moved_in.items()},
            "assigned_seen": self.assigned_seen, "first_assigned_at": _text(self.first_assigned_at),
            "stay": None if stay is None else {
                "queue": stay.queue_id, "entered_at": _text(stay.entered_at), "seq": stay.seq,
                "answered_at": _text(stay.answered_at), "with_bot": stay.with_bot,
            },
            "staffing": None if staffing is None else {
                "queue": staffing.queue_id, "entered_at": _text(staffing.entered_at), "seq": staffing.seq,
                "answered_at": _text(staffing.answered_at),
            },
        }

    def _end(self, at: datetime, by_status: bool, out_of_hours: bool = False) -> None:
        stay = self.stay
        if stay is None:
            return
        stay.ended_at = at
        if not by_status:
            stay.ended_by = MOVED
        elif self.agent is not None or stay.answered_at is not None:
            stay.ended_by = ENDED
        elif stay.with_bot:
            stay.ended_by = BOT
        elif out_of_hours:
            stay.ended_by = OUT_OF_HOURS
        else:
            stay.ended_by = ABANDONED
            stay.abandoned_at = at
        self.stay = None

    def apply(self, event: StayEvent) -> None:
        """One event, in seq order; events of other types than STAY_EVENT_TYPES are ignored."""
        kind = event.type
        if kind not in STAY_EVENT_TYPES:
            return
        if kind in STAFFING_TYPES:
            self._staffing(event)
        if kind in STAFFING_MOVES and event.from_queue_id != event.to_queue_id:
            left = event.from_queue_id
            self.moves.append(Move(event.seq, event.at, left, event.to_queue_id,
                                   self.moved_in.get(left) if left is not None else None))
            if event.to_queue_id is not None:
                self.moved_in[event.to_queue_id] = event.at
        if kind == EventType.ASSIGNED.value and not self.assigned_seen:
            self.assigned_seen = True
            self.first_assigned_at = event.at if event.agent_id is not None else None
        out_of_hours, self.closes_now = self.closes_now, False
        if kind in MOVE_TYPES:
            if event.to_queue_id is None or event.from_queue_id == event.to_queue_id:
                return  # priority only, or routing kept the queue: no move
            self._end(event.at, by_status=False)
            self.queue = event.to_queue_id
            if self.status in WAITING_STATUSES:
                self.stay = Stay(self.conversation_id, self.queue, event.at, seq=event.seq)
                self.stays.append(self.stay)
        elif kind == EventType.ASSIGNED.value and event.agent_id is not None:
            self.agent = event.agent_id
            if self.stay is not None and self.stay.answered_at is None:
                self.stay.answered_at = event.at
            if event.expires_at is not None and self.queue is not None:
                offered_at = self.offered_at
                waited = (event.at - offered_at).total_seconds() if offered_at is not None else None
                self.offers.append(OfferEvent(self.queue, kind, event.at, waited, event.seq))
                self.offered_at = None
        elif kind in (EventType.ASSIGNED.value, EventType.UNASSIGNED.value):
            self.agent = None  # an ASSIGNED without an agent: an unassignment recorded before UNASSIGNED
        elif kind == EventType.BOT_STARTED.value:
            if self.stay is not None and event.to_queue_id == self.stay.queue_id:
                self.stay.with_bot = True
        elif kind == EventType.OUT_OF_HOURS.value:
            self.closes_now = event.closes
        elif kind == EventType.STATUS_CHANGED.value:
            new = event.status if event.status in STATUS_NAMES else None
            if new is None or new == self.status:
                return
            if new == Status.SOLVED.value:
                self._end(event.at, by_status=True)
            elif (self.status == Status.SOLVED.value and self.agent is None and self.queue is not None
                  and self.stay is None):
                self.stay = Stay(self.conversation_id, self.queue, event.at, seq=event.seq)
                self.stays.append(self.stay)
            self.status = new
        elif kind == EventType.CLOSED.value:
            self._end(event.at, by_status=True, out_of_hours=out_of_hours)
            self.status = Status.CLOSED.value
        elif kind == EventType.OFFERED.value and self.queue is not None:
            self.offered_at = event.at
            self.offers.append(OfferEvent(self.queue, kind, event.at, seq=event.seq))
        elif kind in OFFER_ENDS and self.queue is not None:
            self.offered_at = None
            self.offers.append(OfferEvent(self.queue, kind, event.at, seq=event.seq))

    def _staffing(self, event: StayEvent) -> None:
        """Staffing's reading (store.staffing): before the shared state moves on, since an
        ASSIGNED there answers a stay an agent came along into, and its agent is the same."""
        kind, stay = event.type, self.staffing_stay
        out_of_hours, self.staffing_out_of_hours = self.staffing_out_of_hours, False
        if kind in STAFFING_MOVES:
            if event.from_queue_id == event.to_queue_id:
                self.staffing_out_of_hours = out_of_hours
                return
            if stay is not None:
                stay.ended_at, stay.ended_by = event.at, MOVED
            self.staffing_stay = None
            if event.to_queue_id is not None:
                self.staffing_stay = StaffingStay(
                    self.conversation_id, event.to_queue_id, event.at, event.seq,
                    answered_at=event.at if self.agent is not None else None)
                self.staffing.append(self.staffing_stay)
        elif kind == EventType.ASSIGNED.value and event.agent_id is not None:
            if stay is not None and stay.answered_at is None:
                stay.answered_at = event.at
        elif kind == EventType.OUT_OF_HOURS.value:
            self.staffing_out_of_hours = True
        elif stay is not None and (kind == EventType.CLOSED.value or (
                kind == EventType.STATUS_CHANGED.value and event.status == Status.SOLVED.value)):
            stay.ended_at = event.at
            if stay.answered_at is None:
                stay.ended_by = OUT_OF_HOURS if kind == EventType.CLOSED.value and out_of_hours else ABANDONED
            else:
                stay.ended_by = HANDLED if self.agent is not None else ENDED
            self.staffing_stay = None


def replay(conversation_id: str, events: Iterable[StayEvent], replies: Iterable[datetime] = ()) -> Replay:
    """The stays and offers of one conversation, from its events in seq order (of the types
    in STAY_EVENT_TYPES; others are ignored) and its agent replies' times."""
    tracker = Tracker(conversation_id)
    for event in sorted(events, key=lambda e: e.seq):
        tracker.apply(event)
    first_replies(tracker.stays, sorted(replies))
    return Replay(tracker.stays, tracker.offers, tracker.staffing, tracker.moves)


def first_replies(stays: list[Stay], replies: list[datetime]) -> None:
    """Each stay's first reply among `replies` (in time order): entry <= it < the end."""
    for stay in stays:
        for at in replies:
            if at >= stay.entered_at and (stay.ended_at is None or at < stay.ended_at):
                stay.first_reply_at = at
                break
