"""GET /ccaas/1/queues/{queueId}/staffing: the agents a queue needs to meet its service-level
target, from its own traffic over a window (store.staffing) or from figures given, by Erlang C,
or Erlang A when its customers abandon (domain.staffing); what today's staffing would give, and
the gap. Who may ask is api.permissions' (supervisors any queue, an agent its own, bots not)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request

from api import service_level_today
from api.deps import SessionDep, default_capacity
from api.errors import bad_request, not_found
from api.schemas import ApiModel, UtcTime
from domain import staffing
from store import staffing as staffing_store
from store.tables import QueueRow

router = APIRouter(prefix="/ccaas/1/queues", tags=["queues"])
# The wallboard's service level today: a queue's figures read by the same people as its staffing.
router.add_api_route(service_level_today.PATH, service_level_today.queue_service_level_today, methods=["GET"],
                     response_model=service_level_today.ServiceLevelTodayOut)

MAX_WINDOW = timedelta(days=31)
# Beyond this load (Erlangs) the answer would take long to compute; no queue here is that big.
MAX_LOAD = 10_000.0
_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?"
)
# Its form, for the document (any case, surrounding blanks allowed; `parse_window` reads it).
WINDOW_PATTERN = (r"^\s*[Pp](?:\d+[Ww])?(?:\d+[Dd])?"
                  r"(?:[Tt](?:\d+[Hh])?(?:\d+[Mm])?(?:\d+(?:\.\d+)?[Ss])?)?\s*$")
WINDOW_FORM = "an ISO-8601 duration of weeks, days, hours, minutes, seconds (PT1H, PT30M, P1D), at most P31D"


def parse_window(text: str) -> timedelta:
    match = _DURATION.fullmatch(text.strip().upper())
    if match is None or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise bad_request("window", f"must be {WINDOW_FORM}")
    try:
        window = timedelta(**{unit: float(value) for unit, value in match.groupdict().items() if value})
    except OverflowError:
        window = MAX_WINDOW * 2
    if not timedelta(0) < window <= MAX_WINDOW:
        raise bad_request("window", f"must be more than nothing and at most P31D ({WINDOW_FORM})")
    return window


class StaffingInputOut(ApiModel):
    # null: not observed (nothing in the window to measure it by) and not given.
    value: float | None
    source: Literal["OBSERVED", "GIVEN"]


class StaffingInputsOut(ApiModel):
    arrivals_per_hour: StaffingInputOut
    # Answer to SOLVED or CLOSED.
    handle_seconds: StaffingInputOut
    # Mean patience of the waiting (Erlang A); null: nobody abandoned, Erlang C.
    patience_seconds: StaffingInputOut
    # Conversations an agent holds at once, on average over the queue's enabled members.
    capacity: StaffingInputOut


class StaffingObservedOut(ApiModel):
    """What the window held (the observed inputs come from these)."""

    stays_entered: int
    # Stays answered whose handling ended (SOLVED or CLOSED) in the window.
    handled: int
    abandoned: int
    waiting_seconds: float
    enabled_members: int


class StaffingFiguresOut(ApiModel):
    # Conversations held at once (servers of the queueing model).
    servers: int
    # answered within the target / (answered + abandoned after it), a fraction.
    service_level: float
    # Of the answered: time to answer.
    average_wait_seconds: float | None
    occupancy: float | None
    probability_of_waiting: float
    # The fraction of arrivals that abandon (Erlang A; null with Erlang C).
    abandon_fraction: float | None


class StaffingNeededOut(StaffingFiguresOut):
    # ⌈servers ÷ capacity⌉, then ⌈÷ (1 - shrinkage)⌉.
    agents: int


class StaffingNowOut(ApiModel):
    # Enabled members whose status is ACTIVE now.
    agents_available: int
    # ⌊agents available × capacity⌋.
    servers: int
    # false, and `figures` null: no more servers than the load, the queue would grow without
    # bound (Erlang C), or more than 100,000 would wait (Erlang A); null when an input is missing.
    carries_load: bool | None
    meets_target: bool
    figures: StaffingFiguresOut | None


class StaffingOut(ApiModel):
    queue_id: str
    queue_name: str
    window: str
    window_start: UtcTime
    window_end: UtcTime
    service_level_percent: float
    target_seconds: int
    shrinkage: float
    inputs: StaffingInputsOut
    observed: StaffingObservedOut
    model: Literal["ERLANG_C", "ERLANG_A"]
    # arrivals per second × handle time.
    load_erlangs: float | None
    # Inputs the answer needs but has neither observed nor been given: then `needed` and the
    # current figures are null.
    missing: list[str]
    needed: StaffingNeededOut | None
    at_current_staffing: StaffingNowOut
    # Agents needed - agents available (negative: more than enough).
    gap: int | None


def _input(observed: float | None, given: float | None) -> StaffingInputOut:
    if given is not None:
        return StaffingInputOut(value=given, source="GIVEN")
    return StaffingInputOut(value=observed, source="OBSERVED")


def _figures(figures: staffing.Figures) -> StaffingFiguresOut | None:
    if figures.service_level is None or figures.probability_of_waiting is None:
        return None
    return StaffingFiguresOut(
        servers=figures.servers,
        service_level=round(figures.service_level, 6),
        average_wait_seconds=_round(figures.average_wait_seconds, 3),
        occupancy=_round(figures.occupancy, 6),
        probability_of_waiting=round(figures.probability_of_waiting, 6),
        abandon_fraction=_round(figures.abandon_fraction, 6),
    )


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@router.get("/{queue_id}/staffing", response_model=StaffingOut)
def queue_staffing(
    queue_id: str,
    request: Request,
    session: SessionDep,
    default: int = Depends(default_capacity),
    service_level_percent: float | None = Query(
        default=None, alias="serviceLevelPercent", ge=1, le=100, allow_inf_nan=False,
        description="The target's percent (default: the queue's serviceLevelTargetPercent)"),
    target_seconds: int | None = Query(
        default=None, alias="targetSeconds", ge=0, le=86400,
        description="Answered within this many seconds (default: the queue's serviceLevelTargetSeconds)"),
    window: str = Query(default="PT1H", max_length=32, pattern=WINDOW_PATTERN,
                        description=f"The traffic observed: {WINDOW_FORM}"),
    shrinkage: float = Query(default=0.0, ge=0, le=0.9, allow_inf_nan=False,
                             description="The fraction of paid time agents are not available"),
    arrivals_per_hour: float | None = Query(
        default=None, alias="arrivalsPerHour", ge=0, le=1_000_000, allow_inf_nan=False,
        description="Instead of the observed"),
    handle_seconds: float | None = Query(
        default=None, alias="handleSeconds", ge=1, le=86400, allow_inf_nan=False,
        description="Instead of the observed"),
    patience_seconds: float | None = Query(
        default=None, alias="patienceSeconds", ge=1, le=86400, allow_inf_nan=False,
        description="Instead of the observed (Erlang A)"),
    capacity: float | None = Query(
        default=None, ge=0.1, le=1000, allow_inf_nan=False, description="Instead of the members' average"),
) -> StaffingOut:
    """The agents needed to answer the target share of conversations within the target time,
    the figures that staffing gives, those today's available agents would give, and the gap.
    Observed inputs come from the queue's stays in the window; each given one replaces its
    observed figure. Erlang A when customers abandon (a patience observed or given), else
    Erlang C. No traffic needs no agents."""
    span = parse_window(window)
    queue = session.get(QueueRow, queue_id)
    if queue is None:
        raise not_found("Queue")
    percent = service_level_percent if service_level_percent is not None else queue.service_level_target_percent
    target_time = target_seconds if target_seconds is not None else queue.service_level_target_seconds
    now = request.app.state.clock()
    seen = staffing_store.observed(session, queue, now, span, default)
    inputs = StaffingInputsOut(
        arrivals_per_hour=_input(seen.arrivals_per_hour, arrivals_per_hour),
        handle_seconds=_input(seen.handle_seconds, handle_seconds),
        patience_seconds=_input(seen.patience_seconds, patience_seconds),
        capacity=_input(seen.capacity, capacity),
    )
    arrivals = inputs.arrivals_per_hour.value or 0.0
    handle = inputs.handle_seconds.value
    patience = inputs.patience_seconds.value
    per_agent = inputs.capacity.value or 1.0
    missing = ["handleSeconds"] if handle is None and arrivals > 0 else []
    load = staffing.load_erlangs(arrivals, handle or 1.0) if not missing else None
    if load is not None and load > MAX_LOAD:
        raise bad_request("arrivalsPerHour" if arrivals_per_hour is not None else "handleSeconds",
                          f"the load (arrivals per second × handle time) must be at most {MAX_LOAD:.0f} Erlangs")
    target = percent / 100
    servers_now = staffing.servers_of(seen.agents_available, per_agent)
    needed: StaffingNeededOut | None = None
    now_figures: staffing.Figures | None = None
    if load is not None:
        assert handle is not None or load == 0
        aht = handle or 1.0
        if patience is None:
            best = staffing.servers_erlang_c(load, aht, target_time, target)
            now_figures = staffing.erlang_c(servers_now, load, aht, target_time)
        else:
            best = staffing.servers_erlang_a(load, aht, target_time, target, patience)
            now_figures = staffing.erlang_a(servers_now, load, aht, target_time, patience)
        shown = _figures(best)
        assert shown is not None  # the servers needed always carry the load
        needed = StaffingNeededOut(
            **shown.model_dump(), agents=staffing.agents_for(best.servers, per_agent, shrinkage))
    current = _figures(now_figures) if now_figures is not None else None
    return StaffingOut(
        queue_id=queue.id,
        queue_name=queue.name,
        window=window.strip().upper(),
        window_start=now - span,
        window_end=now,
        service_level_percent=percent,
        target_seconds=target_time,
        shrinkage=shrinkage,
        inputs=inputs,
        observed=StaffingObservedOut(
            stays_entered=seen.stays_entered, handled=seen.handled, abandoned=seen.abandoned,
            waiting_seconds=seen.waiting_seconds, enabled_members=seen.enabled_members,
        ),
        model="ERLANG_C" if patience is None else "ERLANG_A",
        load_erlangs=None if load is None else round(load, 6),
        missing=missing,
        needed=needed,
        at_current_staffing=StaffingNowOut(
            agents_available=seen.agents_available,
            servers=servers_now,
            carries_load=None if load is None else current is not None,
            meets_target=current is not None and current.service_level >= target - staffing.TOLERANCE,
            figures=current,
        ),
        gap=None if needed is None else needed.agents - seen.agents_available,
    )
