"""A conversation's SLA clocks (SPEC "Service level"): first response and resolution, counted
in the business time of the policy matched when the conversation was first placed.

The policy's terms are copied into the conversation then (`SlaTerms`, with its working hours),
so an edit to the policy applies only to clocks started after it, and the workflow computes
every due moment from its own state: deterministic on replay, with no read of the store. A
clock's moments are absolute (`due_at`, `warn_at`); pausing keeps the open seconds left and
resuming counts them again from the resume. Pure: the caller passes the time.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel

from domain.business_time import add_working_seconds, working_seconds_between
from domain.sla import OnBreach
from domain.working_hours import Hours

FIRST_RESPONSE = "firstResponse"
RESOLUTION = "resolution"


class ClockStatus(str, Enum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    MET = "MET"
    BREACHED = "BREACHED"


class SlaTerms(BaseModel):
    """What the conversation keeps of its policy when its clocks start."""

    policy_id: str
    first_response_seconds: int | None = None
    resolution_seconds: int | None = None
    warn_before_seconds: int | None = None
    on_breach: OnBreach | None = None
    hours: Hours | None = None  # None: calendar time


class SlaClock(BaseModel):
    name: str
    status: ClockStatus = ClockStatus.ACTIVE
    due_at: datetime | None = None  # None while PAUSED
    remaining_seconds: float | None = None  # open seconds left, while PAUSED
    warn_at: datetime | None = None  # the warning's moment, while one is still to come
    warned: bool = False


class Sla(BaseModel):
    terms: SlaTerms
    first_response: SlaClock | None = None
    resolution: SlaClock | None = None

    def clocks(self) -> list[SlaClock]:
        return [clock for clock in (self.first_response, self.resolution) if clock is not None]

    def clock(self, name: str) -> SlaClock:
        [clock] = [clock for clock in self.clocks() if clock.name == name]
        return clock


def started(terms: SlaTerms, at: datetime) -> Sla:
    """Both clocks the terms name, running from `at`."""

    def clock(name: str, seconds: int | None) -> SlaClock | None:
        return _running(terms, SlaClock(name=name), at, seconds) if seconds is not None else None

    return Sla(terms=terms, first_response=clock(FIRST_RESPONSE, terms.first_response_seconds),
               resolution=clock(RESOLUTION, terms.resolution_seconds))


def _running(terms: SlaTerms, clock: SlaClock, at: datetime, seconds: float) -> SlaClock:
    """`clock` ACTIVE from `at` with `seconds` of open time left; its warning (if still to
    come) `warnBeforeSeconds` of open time before the due moment, or at once when less than
    that is left (a clock resumed late in its run)."""
    clock.status, clock.remaining_seconds = ClockStatus.ACTIVE, None
    clock.due_at = add_working_seconds(terms.hours, at, seconds)
    warn_before = terms.warn_before_seconds
    if warn_before is None or clock.warned:
        clock.warn_at = None
    else:
        clock.warn_at = add_working_seconds(terms.hours, at, max(seconds - warn_before, 0))
    return clock


def pause(terms: SlaTerms, clock: SlaClock, at: datetime) -> bool:
    """An ACTIVE clock stops at `at`, keeping the open seconds left; False if it was not ACTIVE."""
    if clock.status != ClockStatus.ACTIVE or clock.due_at is None:
        return False
    clock.remaining_seconds = working_seconds_between(terms.hours, at, clock.due_at)
    clock.status, clock.due_at, clock.warn_at = ClockStatus.PAUSED, None, None
    return True


def resume(terms: SlaTerms, clock: SlaClock, at: datetime) -> bool:
    """A PAUSED clock runs again from `at` with the open seconds it had left."""
    if clock.status != ClockStatus.PAUSED:
        return False
    _running(terms, clock, at, clock.remaining_seconds or 0)
    return True


def next_moment(sla: Sla) -> tuple[datetime, SlaClock, bool] | None:
    """The earliest moment of a running clock: (when, which clock, whether it is the
    warning); on a tie the warning first, then first response before resolution."""
    moments = []
    for clock in sla.clocks():
        if clock.status != ClockStatus.ACTIVE or clock.due_at is None:
            continue
        if clock.warn_at is not None and not clock.warned:
            moments.append((clock.warn_at, 0, clock, True))
        else:
            moments.append((clock.due_at, 1, clock, False))
    if not moments:
        return None
    at, _, clock, warning = min(moments, key=lambda moment: (moment[0], moment[1]))
    return at, clock, warning
