"""/ccaas/1/queues"""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field, StrictBool
from pydantic.alias_generators import to_camel
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.deps import SessionDep
from api.errors import ApiError, bad_request, not_found
from api.paging import DEFAULT_LIMIT, order_by_param, page_of, parse_paging
from api.query_params import split_values
from api.schemas import (
    ApiInput,
    ApiModel,
    Echoed,
    IsoTime,
    Pagination,
    StatusCodeOut,
    UtcTime,
    not_nullable,
    pagination,
    read_only,
)
from domain.assignment import AutoAssignmentAlgorithm
from domain.conversation import DEFAULT_BOT_TIMEOUT_SECONDS, Escalation, escalation_due
from domain.models import MAX_ESCALATION_AFTER_SECONDS, MAX_ESCALATION_STEPS, Priority, Status, utcnow
from store import agents as agent_store
from store import bots as bot_store
from store import queues as queue_store
from store import routing as routing_store
from store import sla_policies as policy_store
from store.tables import AgentQueueRow, ConversationRow, QueueRow

router = APIRouter(prefix="/ccaas/1/queues", tags=["queues"])


class EscalationStepIn(ApiInput):
    """A step of the escalation ladder: after `afterSeconds` in the queue (open, unassigned),
    raise the priority to `priority` (never lowered) and/or move to `queueId`."""

    # Each step does something: the document says so.
    model_config = ConfigDict(json_schema_extra=lambda schema: schema.update(anyOf=[
        {"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in ("priority", "queueId")
    ]))

    after_seconds: int = Field(ge=1, le=MAX_ESCALATION_AFTER_SECONDS)
    priority: Priority | None = None
    queue_id: str | None = Field(default=None, min_length=1, max_length=36)


ESCALATION_DESCRIPTION = (
    f"Ours: at most {MAX_ESCALATION_STEPS} steps in strictly increasing afterSeconds, each raising "
    "the priority (never lower than an earlier step's) and/or moving to another live queue"
)


class EscalationStepOut(ApiModel):
    after_seconds: int
    priority: Priority | None
    queue_id: str | None


# Offers (SPEC "Offers"): off by default, so a client ported from Infobip sees no change.
MIN_OFFER_TIMEOUT, MAX_OFFER_TIMEOUT, DEFAULT_MAX_MISSED_OFFERS = 5, 600, 3
OFFERS_DESCRIPTION = ("Seconds an agent has to accept or decline a conversation auto-assignment offers it; "
                      "null assigns directly.")
MISSED_DESCRIPTION = "Offers an agent may let lapse in a row before it is set AWAY (not responding)."
# Service level (SPEC "Service level"): what statistics, staffing and the wallboard measure against.
DEFAULT_TARGET_SECONDS, DEFAULT_TARGET_PERCENT, MAX_TARGET_SECONDS = 60, 80, 24 * 3600
TARGET_SECONDS_DESCRIPTION = "A conversation is answered within the service level when assigned within these seconds."
TARGET_PERCENT_DESCRIPTION = "The share of conversations, in percent, to answer within serviceLevelTargetSeconds."


class QueueAnswerFields(ApiInput):
    """A fetched queue sent back: its answer-only fields are tolerated and ignored."""

    id: str | None = read_only()
    created_at: IsoTime | None = read_only()
    updated_at: IsoTime | None = read_only()
    deleted_at: IsoTime | None = read_only()
    enabled_agents_count: Echoed = read_only()
    enabled_routes_count: Echoed = read_only()
    # Private queues are not offered: false, as every answer says, or left out.
    is_private: Literal[False] | None = Field(default=None, exclude=True)


class QueueIn(QueueAnswerFields):
    name: str = Field(min_length=1, max_length=255)
    external_id: str | None = Field(default=None, max_length=255)
    is_auto_assignment_enabled: StrictBool = False
    auto_assignment_algorithm: AutoAssignmentAlgorithm | None = None
    working_hours_id: str | None = Field(default=None, max_length=255)
    sticky_agent_timeout_days: int | None = Field(default=None, ge=1, le=365)
    is_sticky_auto_assignment_enabled: StrictBool = False
    is_auto_assignment_outside_of_working_hours_enabled: StrictBool = False
    is_restricted: StrictBool = False
    bot_id: str | None = Field(default=None, max_length=36)
    bot_timeout_seconds: int = Field(default=DEFAULT_BOT_TIMEOUT_SECONDS, ge=1, le=7 * 24 * 3600)
    escalation: list[EscalationStepIn] = Field(
        default_factory=list, max_length=MAX_ESCALATION_STEPS, description=ESCALATION_DESCRIPTION
    )
    offer_timeout_seconds: int | None = Field(default=None, ge=MIN_OFFER_TIMEOUT, le=MAX_OFFER_TIMEOUT,
                                              description=OFFERS_DESCRIPTION)
    max_missed_offers: int = Field(default=DEFAULT_MAX_MISSED_OFFERS, ge=1, le=100, description=MISSED_DESCRIPTION)
    service_level_target_seconds: int = Field(default=DEFAULT_TARGET_SECONDS, ge=1, le=MAX_TARGET_SECONDS,
                                              description=TARGET_SECONDS_DESCRIPTION)
    service_level_target_percent: int = Field(default=DEFAULT_TARGET_PERCENT, ge=1, le=100,
                                              description=TARGET_PERCENT_DESCRIPTION)


class QueueUpdateIn(QueueAnswerFields):
    """Infobip's UpdateQueueApiRequest has no required field: a field not given keeps its value."""

    # The NOT_NULLABLE fields may be left out but not given as null: the document says so.
    name: str | None = Field(default=None, min_length=1, max_length=255, json_schema_extra=not_nullable)
    external_id: str | None = Field(default=None, max_length=255)
    is_auto_assignment_enabled: StrictBool | None = Field(default=None, json_schema_extra=not_nullable)
    auto_assignment_algorithm: AutoAssignmentAlgorithm | None = None
    is_auto_assignment_outside_of_working_hours_enabled: StrictBool | None = Field(
        default=None, json_schema_extra=not_nullable
    )
    working_hours_id: str | None = Field(default=None, max_length=255)
    sticky_agent_timeout_days: int | None = Field(default=None, ge=1, le=365)
    is_sticky_auto_assignment_enabled: StrictBool | None = Field(default=None, json_schema_extra=not_nullable)
    is_restricted: StrictBool | None = Field(default=None, json_schema_extra=not_nullable)
    bot_id: str | None = Field(default=None, max_length=36)
    bot_timeout_seconds: int | None = Field(
        default=None, ge=1, le=7 * 24 * 3600, json_schema_extra=not_nullable
    )
    escalation: list[EscalationStepIn] | None = Field(
        default=None, max_length=MAX_ESCALATION_STEPS, description=ESCALATION_DESCRIPTION,
        json_schema_extra=not_nullable,
    )
    # null turns offers off (assigned directly again; pending offers are withdrawn).
    offer_timeout_seconds: int | None = Field(default=None, ge=MIN_OFFER_TIMEOUT, le=MAX_OFFER_TIMEOUT,
                                              description=OFFERS_DESCRIPTION)
    max_missed_offers: int | None = Field(default=None, ge=1, le=100, description=MISSED_DESCRIPTION,
                                          json_schema_extra=not_nullable)
    service_level_target_seconds: int | None = Field(default=None, ge=1, le=MAX_TARGET_SECONDS,
                                                     description=TARGET_SECONDS_DESCRIPTION,
                                                     json_schema_extra=not_nullable)
    service_level_target_percent: int | None = Field(default=None, ge=1, le=100,
                                                     description=TARGET_PERCENT_DESCRIPTION,
                                                     json_schema_extra=not_nullable)


# Given as null, these are refused rather than cleared: they have no "unset" value.
NOT_NULLABLE = ("name", "is_auto_assignment_enabled", "is_sticky_auto_assignment_enabled",
                "is_auto_assignment_outside_of_working_hours_enabled", "is_restricted",
                "bot_timeout_seconds", "escalation", "max_missed_offers", "service_level_target_seconds",
                "service_level_target_percent")


class QueueOut(ApiModel):
    id: str
    name: str
    external_id: str | None
    is_auto_assignment_enabled: bool
    auto_assignment_algorithm: AutoAssignmentAlgorithm | None
    working_hours_id: str | None
    sticky_agent_timeout_days: int | None
    is_sticky_auto_assignment_enabled: bool
    is_auto_assignment_outside_of_working_hours_enabled: bool
    is_restricted: bool
    is_private: bool
    bot_id: str | None
    bot_timeout_seconds: int
    escalation: list[EscalationStepOut]
    offer_timeout_seconds: int | None
    max_missed_offers: int
    service_level_target_seconds: int
    service_level_target_percent: int
    created_at: UtcTime
    updated_at: UtcTime
    deleted_at: UtcTime | None
    enabled_agents_count: int
    enabled_routes_count: int


def queue_out(session: Session, row: QueueRow) -> QueueOut:
    return queues_out(session, [row])[0]


def queues_out(session: Session, rows: list[QueueRow]) -> list[QueueOut]:
    routes = queue_store.enabled_routes_count(session)
    agents = agent_store.enabled_agents_count(session)
    return [
        QueueOut.of(
            row,
            # A deleted queue has no routes or agents that count.
            enabled_agents_count=0 if row.deleted_at else agents[row.id],
            enabled_routes_count=0 if row.deleted_at else routes[row.id],
        )
        for row in rows
    ]


class QueueListOut(ApiModel):
    queues: list[QueueOut]
    pagination: Pagination


def _check_bot(session: Session, body: QueueIn | QueueUpdateIn) -> None:
    if body.bot_id is not None and bot_store.live_bot(session, body.bot_id) is None:
        raise bad_request("botId", "unknown or deleted bot")


def _check_escalation(session: Session, steps: list[EscalationStepIn] | None, queue_id: str | None) -> None:
    """What a ladder must be beyond each step's bounds; 400 at the step's field, else nothing."""
    highest: Priority | None = None
    for index, step in enumerate(steps or []):
        at = f"escalation[{index}]"
        if step.priority is None and step.queue_id is None:
            raise bad_request(at, "a step raises the priority, moves to a queue, or both")
        if index and step.after_seconds <= (steps or [])[index - 1].after_seconds:
            raise bad_request(f"{at}.afterSeconds", "must be greater than the step before's")
        if step.priority is not None:
            if highest is not None and step.priority.rank < highest.rank:
                raise bad_request(f"{at}.priority", f"lower than {highest.value} of an earlier step")
            highest = step.priority
        if step.queue_id is not None:
            if step.queue_id == queue_id:
                raise bad_request(f"{at}.queueId", "a step cannot move into the queue itself")
            if queue_store.live_queue(session, step.queue_id) is None:
                raise bad_request(f"{at}.queueId", "unknown or deleted queue")


def _stored_escalation(steps: list[EscalationStepIn]) -> list[dict]:
    return [step.model_dump(mode="json") for step in steps]


def _name_taken(session: Session, name: str, except_id: str | None = None) -> bool:
    row = queue_store.live_queue_by_name(session, name)
    return row is not None and row.id != except_id


def _commit_or_conflict(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError as error:
        # Another request took the same name between our check and our write.
        session.rollback()
        raise ApiError(409, "A queue with this name already exists", {"name": ["already in use"]}) from error


@router.get("", response_model=QueueListOut)
def list_queues(
    session: SessionDep,
    queue_ids: list[str] | None = Query(
        default=None, alias="queueIds", description="Repeatable, or comma-separated"
    ),
    name: str | None = Query(default=None, max_length=255, description="Part of the name, any case"),
    agent_id: str | None = Query(default=None, alias="agentId", max_length=36),
    working_hours_id: str | None = Query(default=None, alias="workingHoursId", max_length=255),
    page: int = 0,
    limit: int = DEFAULT_LIMIT,
    order_by: str | None = order_by_param(["id", "name", "createdAt", "updatedAt"]),
):
    orderable = {
        "id": QueueRow.id, "name": QueueRow.name,
        "createdAt": QueueRow.created_at, "updatedAt": QueueRow.updated_at,
    }
    paging = parse_paging(page, limit, order_by, set(orderable), "createdAt:asc")
    query = select(QueueRow).where(col(QueueRow.deleted_at).is_(None))
    if ids := split_values(queue_ids):
        query = query.where(col(QueueRow.id).in_(ids))
    if name:
        query = query.where(func.lower(QueueRow.name).contains(name.lower(), autoescape=True))
    if agent_id:
        query = query.where(col(QueueRow.id).in_(
            select(AgentQueueRow.queue_id).where(AgentQueueRow.agent_id == agent_id)
        ))
    if working_hours_id:
        query = query.where(QueueRow.working_hours_id == working_hours_id)
    rows, total = page_of(session, query, paging, orderable[paging.field], QueueRow.id)
    return {
        "queues": [queue.model_dump(by_alias=True) for queue in queues_out(session, rows)],
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }


@router.post("", status_code=201, response_model=QueueOut)
def create_queue(body: QueueIn, session: SessionDep) -> QueueOut:
    _check_bot(session, body)
    _check_escalation(session, body.escalation, None)
    if _name_taken(session, body.name):
        raise ApiError(409, "A queue with this name already exists", {"name": ["already in use"]})
    now = utcnow()
    row = QueueRow(id=str(uuid.uuid4()), created_at=now, updated_at=now,
                   escalation=_stored_escalation(body.escalation), **body.model_dump(exclude={"escalation"}))
    session.add(row)
    _commit_or_conflict(session)
    return queue_out(session, row)


@router.get("/{queue_id}", response_model=QueueOut)
def get_queue(queue_id: str, session: SessionDep) -> QueueOut:
    # A deleted queue can still be read, so history that names it stays explicable.
    row = session.get(QueueRow, queue_id)
    if row is None:
        raise not_found("Queue")
    return queue_out(session, row)


@router.put("/{queue_id}", response_model=QueueOut)
def update_queue(queue_id: str, body: QueueUpdateIn, session: SessionDep) -> QueueOut:
    """Changes the fields given; the others keep their value."""
    row = queue_store.live_queue(session, queue_id)
    if row is None:
        raise not_found("Queue")
    changes = body.model_dump(include=body.model_fields_set)
    for field in NOT_NULLABLE:
        if field in changes and changes[field] is None:
            raise bad_request(to_camel(field), "cannot be null")
    _check_bot(session, body)
    _check_escalation(session, body.escalation, queue_id)
    if body.escalation is not None:
        changes["escalation"] = _stored_escalation(body.escalation)
    if body.bot_id is not None and routing_store.default_queue_id(session) == queue_id:
        raise ApiError(409, "The default queue cannot be served by a bot", {"botId": ["default queue"]})
    if body.name is not None and _name_taken(session, body.name, except_id=queue_id):
        raise ApiError(409, "A queue with this name already exists", {"name": ["already in use"]})
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.add(row)
    _commit_or_conflict(session)
    return queue_out(session, row)


def _ladders_into(session: Session, queue_id: str) -> list[str]:
    """The names of the live queues whose ladder moves conversations into this one (queues are
    few, and a ladder is a JSON list: read in full)."""
    live = session.exec(select(QueueRow).where(col(QueueRow.deleted_at).is_(None), QueueRow.id != queue_id))
    return sorted(row.name for row in live if any(step.get("queue_id") == queue_id for step in row.escalation))


class QueueDeletedOut(StatusCodeOut, QueueOut):
    """The deleted queue, with Infobip's StatusCodeResponse fields."""

    message: str = "Queue deleted"


@router.delete("/{queue_id}", response_model=QueueDeletedOut)
def delete_queue(queue_id: str, session: SessionDep) -> QueueDeletedOut:
    row = queue_store.live_queue(session, queue_id)
    if row is None:
        raise not_found("Queue")
    routes = queue_store.enabled_routes_count(session)[queue_id]
    if routes:
        raise ApiError(409, f"Queue is the target of {routes} enabled route(s)")
    if routing_store.default_queue_id(session) == queue_id:
        raise ApiError(409, "Queue is the default queue of routing settings")
    open_count = queue_store.open_conversations_count(session, queue_id)
    if open_count:
        raise ApiError(409, f"Queue has {open_count} open conversation(s)")
    if climbing := _ladders_into(session, queue_id):
        raise ApiError(409, f"Queue is a step of the escalation ladder of {', '.join(climbing)}")
    if breaching := policy_store.breaching_into(session, queue_id):
        raise ApiError(409, f"Queue is where the SLA policies {', '.join(breaching)} move breaches")
    row.deleted_at = row.updated_at = utcnow()
    session.add(row)
    session.commit()
    return QueueDeletedOut(**queue_out(session, row).model_dump())


class NextEscalationOut(ApiModel):
    """The step a waiting conversation takes next, and when."""

    index: int
    at: UtcTime
    after_seconds: int
    priority: Priority | None
    queue_id: str | None


class WaitingEscalationOut(ApiModel):
    conversation_id: str
    priority: Priority
    entered_queue_at: UtcTime | None
    # When its clock started: entering the queue, or its release by an agent or reopening.
    clock_since: UtcTime | None
    steps_taken: int
    next_step: NextEscalationOut | None
    # Why there is no next step, when there is none.
    why_none: str | None


class QueueEscalationsOut(ApiModel):
    queue_id: str
    escalation: list[EscalationStepOut]
    conversations: list[WaitingEscalationOut]


def _waiting_escalation(row: ConversationRow, queue: QueueRow) -> WaitingEscalationOut:
    ladder = Escalation.model_validate(row.escalation) if row.escalation else None
    due = escalation_due(ladder, queue_id=row.queue_id, status=Status(row.status), agent_id=row.agent_id,
                         in_bot_wait=queue.bot_id is not None)
    next_step = None
    why_none = None
    if ladder is not None and due is not None:
        step = ladder.steps[ladder.next_step]
        next_step = NextEscalationOut(index=ladder.next_step, at=due, after_seconds=step.after_seconds,
                                      priority=step.priority, queue_id=step.queue_id)
    elif ladder is None or ladder.queue_id != row.queue_id:
        why_none = "no ladder: the queue had none when the conversation entered it"
    elif queue.bot_id is not None:
        why_none = "waiting for the queue's bot"
    elif row.status == Status.SOLVED.value:
        why_none = "solved: the clock stands"
    else:
        why_none = "every step taken"
    return WaitingEscalationOut(
        conversation_id=row.id, priority=Priority(row.priority), entered_queue_at=row.queued_at,
        clock_since=ladder.since if ladder is not None else None,
        steps_taken=ladder.next_step if ladder is not None else 0,
        next_step=next_step, why_none=why_none,
    )


@router.get("/{queue_id}/escalations", response_model=QueueEscalationsOut)
def queue_escalations(
    session: SessionDep,
    queue_id: str,
    limit: int = Query(default=100, ge=1, le=999, description="At most this many conversations"),
) -> QueueEscalationsOut:
    """A dry run: for each open, unassigned conversation waiting in the queue (longest waiting
    first), the next step of the ladder in force for it and when it comes, as the store last
    heard from its workflow. The ladder is the one the queue had when the conversation entered
    it; `escalation` is the queue's ladder now."""
    queue = session.get(QueueRow, queue_id)
    if queue is None:
        raise not_found("Queue")
    rows = queue_store.unassigned_open_conversations(session, queue_id, limit)
    return QueueEscalationsOut(
        queue_id=queue.id,
        escalation=[EscalationStepOut.model_validate(step) for step in queue.escalation or []],
        conversations=[_waiting_escalation(row, queue) for row in rows],
    )
