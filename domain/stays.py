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


@dataclass(frozen=True)
class OfferEvent:
    """An OFFERED, an offer's end, or an accept (ASSIGNED; `waited` from its OFFERED)."""

    queue_id: str
    type: str
    at: datetime
    accept_seconds: float | None = None


@dataclass
class Replay:
    stays: list[Stay] = field(default_factory=list)
    offers: list[OfferEvent] = field(default_factory=list)


def replay(conversation_id: str, events: Iterable[StayEvent], replies: Iterable[datetime] = ()) -> Replay:
    """The stays and offers of one conversation, from its events in seq order (of the types
    in STAY_EVENT_TYPES; others are ignored) and its agent replies' times."""
    out = Replay()
    queue: str | None = None
    agent: str | None = None
    status = Status.OPEN.value
    stay: Stay | None = None
    offered_at: datetime | None = None
    closes_now = False

    def end(at: datetime, by_status: bool, out_of_hours: bool = False) -> None:
        nonlocal stay
        if stay is None:
            return
        stay.ended_at = at
        if by_status and agent is None and stay.answered_at is None and not stay.with_bot and not out_of_hours:
            stay.abandoned_at = at
        stay = None

    for event in sorted(events, key=lambda e: e.seq):
        kind = event.type
        out_of_hours, closes_now = closes_now, False
        if kind in MOVE_TYPES:
            if event.to_queue_id is None or event.from_queue_id == event.to_queue_id:
                continue  # priority only, or routing kept the queue: no move
            end(event.at, by_status=False)
            queue = event.to_queue_id
            if status in WAITING_STATUSES:
                stay = Stay(conversation_id, queue, event.at)
                out.stays.append(stay)
        elif kind == EventType.ASSIGNED.value and event.agent_id is not None:
            agent = event.agent_id
            if stay is not None and stay.answered_at is None:
                stay.answered_at = event.at
            if event.expires_at is not None and queue is not None:
                waited = (event.at - offered_at).total_seconds() if offered_at is not None else None
                out.offers.append(OfferEvent(queue, kind, event.at, waited))
                offered_at = None
        elif kind in (EventType.ASSIGNED.value, EventType.UNASSIGNED.value):
            agent = None  # an ASSIGNED without an agent: an unassignment recorded before UNASSIGNED
        elif kind == EventType.BOT_STARTED.value:
            if stay is not None and event.to_queue_id == stay.queue_id:
                stay.with_bot = True
        elif kind == EventType.OUT_OF_HOURS.value:
            closes_now = event.closes
        elif kind == EventType.STATUS_CHANGED.value:
            new = event.status if event.status in STATUS_NAMES else None
            if new is None or new == status:
                continue
            if new == Status.SOLVED.value:
                end(event.at, by_status=True)
            elif status == Status.SOLVED.value and agent is None and queue is not None and stay is None:
                stay = Stay(conversation_id, queue, event.at)
                out.stays.append(stay)
            status = new
        elif kind == EventType.CLOSED.value:
            end(event.at, by_status=True, out_of_hours=out_of_hours)
            status = Status.CLOSED.value
        elif kind == EventType.OFFERED.value and queue is not None:
            offered_at = event.at
            out.offers.append(OfferEvent(queue, kind, event.at))
        elif kind in OFFER_ENDS and queue is not None:
            offered_at = None
            out.offers.append(OfferEvent(queue, kind, event.at))

    _first_replies(out.stays, sorted(replies))
    return out


def _first_replies(stays: list[Stay], replies: list[datetime]) -> None:
    for stay in stays:
        for at in replies:
            if at >= stay.entered_at and (stay.ended_at is None or at < stay.ended_at):
                stay.first_reply_at = at
                break
