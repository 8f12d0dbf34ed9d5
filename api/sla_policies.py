"""/ccaas/1/sla-policies (SPEC "Service level"): SLA policies, an ordered list edited one policy
at a time. A policy's `order` is its 1-based place, as a routing rule's is: given on POST it
inserts there (else last), on PUT it moves the policy there (else it stays); the others shift.

Every problem of a body is reported at once, 400 at its field, nothing saved: the expression as
routing checks one (`expression.$and[1]`), `workingHoursId` and `onBreach.queueId` naming what
exists, the clocks' seconds (domain.sla.clock_problems). The conversation clocks a policy will
start are not built yet (README, "SLA policies")."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field, JsonValue, StrictBool
from sqlmodel import Session

from api.deps import SessionDep
from api.errors import ApiError, not_found
from api.paging import MAX_LIMIT, parse_paging
from api.schemas import ApiInput, ApiModel, IsoTime, Pagination, StatusCodeOut, UtcTime, pagination, read_only
from domain.models import Priority, utcnow
from domain.sla import MAX_SECONDS, MIN_SECONDS, clock_problems, expression_problems
from store import queues as queue_store
from store import sla_policies as policy_store
from store.tables import SlaPolicyRow, WorkingHoursRow

router = APIRouter(prefix="/ccaas/1/sla-policies", tags=["sla policies"])

# The list comes back whole by default: one page of the largest limit holds it.
MAX_POLICIES = MAX_LIMIT

# A clock's seconds: 1 s to 365 days.
Seconds = Annotated[int, Field(ge=MIN_SECONDS, le=MAX_SECONDS)]


class OnBreachIn(ApiInput):
    """What a breach does, as an escalation step: raise the priority and/or move to a queue."""

    priority: Priority | None = None
    queue_id: str | None = Field(default=None, min_length=1, max_length=36)


class SlaPolicyIn(ApiInput):
    """POST and PUT: every field (one left out takes its default). A fetched policy sent back is
    accepted: its answer-only fields are ignored."""

    name: str = Field(min_length=1, max_length=255)
    expression: JsonValue = Field(description="The routing language, over the conversation's routing facts")
    first_response_seconds: Seconds | None = Field(
        default=None, description="Until the first agent reply; at least one of the two clocks")
    resolution_seconds: Seconds | None = Field(
        default=None, description="Until the conversation is closed; at least one of the two clocks")
    working_hours_id: str | None = Field(
        default=None, min_length=1, max_length=36, description="The hours the clocks count in; null: calendar time")
    warn_before_seconds: Seconds | None = Field(
        default=None, description="Less than the shorter clock; null: no warning")
    on_breach: OnBreachIn | None = None
    enabled: StrictBool = True
    order: int | None = Field(
        default=None, ge=1, le=MAX_POLICIES,
        description="The 1-based place; left out: last on POST, unchanged on PUT")
    id: str | None = read_only()
    created_at: IsoTime | None = read_only()
    updated_at: IsoTime | None = read_only()


class OnBreachOut(ApiModel):
    priority: Priority | None
    queue_id: str | None


class SlaPolicyOut(ApiModel):
    id: str
    order: int
    name: str
    expression: Any
    first_response_seconds: int | None
    resolution_seconds: int | None
    working_hours_id: str | None
    warn_before_seconds: int | None
    on_breach: OnBreachOut | None
    enabled: bool
    created_at: UtcTime
    updated_at: UtcTime


class SlaPolicyListOut(ApiModel):
    sla_policies: list[SlaPolicyOut]
    pagination: Pagination


def policy_out(row: SlaPolicyRow) -> SlaPolicyOut:
    return SlaPolicyOut.of(policy_store.policy_of(row))


def _checked(session: Session, body: SlaPolicyIn, places: int) -> dict[str, Any]:
    """The row's values from the body, every problem a 400 at its field. `places`: how many
    places `order` may name."""
    errors = expression_problems(body.expression)
    errors |= clock_problems(body.first_response_seconds, body.resolution_seconds, body.warn_before_seconds)
    if body.working_hours_id is not None and session.get(WorkingHoursRow, body.working_hours_id) is None:
        errors["workingHoursId"] = ["unknown working hours"]
    if body.on_breach is not None:
        if body.on_breach.priority is None and body.on_breach.queue_id is None:
            errors["onBreach"] = ["a breach raises the priority, moves to a queue, or both; null: neither"]
        if body.on_breach.queue_id is not None and queue_store.live_queue(session, body.on_breach.queue_id) is None:
            errors["onBreach.queueId"] = ["unknown or deleted queue"]
    if body.order is not None and body.order > places:
        errors["order"] = [f"must be between 1 and {places}"]
    if errors:
        raise ApiError(400, "SLA policy refused; nothing was saved", errors)
    values = body.model_dump(exclude={"order", "on_breach"})
    values["on_breach"] = body.on_breach.model_dump(mode="json") if body.on_breach is not None else None
    return values


def _row(session: Session, policy_id: str) -> SlaPolicyRow:
    row = session.get(SlaPolicyRow, policy_id)
    if row is None:
        raise not_found("SLA policy")
    return row


def _saved(session: Session, row: SlaPolicyRow, rows: list[SlaPolicyRow]) -> SlaPolicyOut:
    """Commits the row and the places of `rows`, the whole list in its new order."""
    session.add(row)
    policy_store.place(session, rows)
    session.commit()
    return policy_out(row)


@router.get("", response_model=SlaPolicyListOut)
def list_sla_policies(session: SessionDep, page: int = 0, limit: int = MAX_LIMIT):
    """In order; the whole list unless a page is asked for."""
    paging = parse_paging(page, limit, None, {"order"}, "order:asc")
    rows = policy_store.ordered(session)
    shown = rows[paging.offset: paging.offset + paging.limit]
    return {
        "slaPolicies": [policy_out(row).model_dump(by_alias=True, mode="json") for row in shown],
        "pagination": pagination(len(rows), paging.page, paging.limit, paging.order_by),
    }


@router.post("", status_code=201, response_model=SlaPolicyOut)
def create_sla_policy(body: SlaPolicyIn, session: SessionDep) -> SlaPolicyOut:
    policy_store.take_policies_lock(session)
    rows = policy_store.ordered(session)
    if len(rows) >= MAX_POLICIES:
        raise ApiError(409, f"There are already {MAX_POLICIES} SLA policies, the most there may be")
    values = _checked(session, body, len(rows) + 1)
    now = utcnow()
    row = SlaPolicyRow(id=str(uuid.uuid4()), position=len(rows), created_at=now, updated_at=now, **values)
    rows.insert((body.order or len(rows) + 1) - 1, row)
    return _saved(session, row, rows)


@router.get("/{sla_policy_id}", response_model=SlaPolicyOut)
def get_sla_policy(sla_policy_id: str, session: SessionDep) -> SlaPolicyOut:
    return policy_out(_row(session, sla_policy_id))


@router.put("/{sla_policy_id}", response_model=SlaPolicyOut)
def replace_sla_policy(sla_policy_id: str, body: SlaPolicyIn, session: SessionDep) -> SlaPolicyOut:
    """Every field (one left out takes its default); `order` moves it, left out it stays. An edit
    applies to clocks started after it."""
    policy_store.take_policies_lock(session)
    row = _row(session, sla_policy_id)
    rows = policy_store.ordered(session)
    values = _checked(session, body, len(rows))
    if body.order is not None:
        rows.remove(row)
        rows.insert(body.order - 1, row)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    return _saved(session, row, rows)


@router.delete("/{sla_policy_id}", response_model=StatusCodeOut)
def delete_sla_policy(sla_policy_id: str, session: SessionDep) -> StatusCodeOut:
    """The policies after it move up a place. Clocks it started are not built yet."""
    policy_store.take_policies_lock(session)
    row = _row(session, sla_policy_id)
    rows = [other for other in policy_store.ordered(session) if other.id != row.id]
    session.delete(row)
    policy_store.place(session, rows)
    session.commit()
    return StatusCodeOut(message="SLA policy deleted")
