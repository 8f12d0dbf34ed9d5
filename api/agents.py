"""/ccaas/1/agents: the people who work conversations (AGENT) or run the service
(SUPERVISOR), their status, their queues, and their API keys (shown once)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field, StrictBool
from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.deps import SessionDep, default_capacity
from api.errors import ApiError, bad_request, not_found
from api.paging import DEFAULT_LIMIT, order_by_param, page_of, parse_paging
from api.query_params import AFTER, BEFORE, QueryBool, split_values, within_times
from api.schemas import (
    ApiInput,
    ApiKeyOut,
    ApiModel,
    Echoed,
    IsoTime,
    Pagination,
    StatusCodeOut,
    pagination,
    read_only,
    with_status,
)
from contract.agents import AgentOut
from contract.agents import agent_out as contract_agent_out
from domain.assignment import MAX_AGENT_CAPACITY
from domain.models import AgentStatus, Role, utcnow
from store import agents as agent_store
from store import assignment as assignment_store
from store import events_out, keys
from store import queues as queue_store
from store.tables import AgentQueueRow, AgentRow

router = APIRouter(prefix="/ccaas/1/agents", tags=["agents"])

# Agents' keys: their role is read from the agent at every request, so a change of role or
# a disabled agent takes effect at once.
AGENT_KEY = "AGENT"
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"


class AgentIn(ApiInput):
    """Infobip's AgentRequest (displayName, status, role, enabled) and ours: `email` (optional,
    unique when given) and `title`. A fetched agent sent back is accepted:
    its answer-only fields are ignored, and `availability` is its status."""

    display_name: str = Field(min_length=1, max_length=255)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    title: str | None = Field(default=None, max_length=255)
    role: Role = Role.AGENT
    status: AgentStatus | None = None
    availability: AgentStatus | None = Field(default=None, exclude=True, description="The same as status")
    enabled: StrictBool = True
    # Conversations it holds at once (OPEN or WAITING); null: the installation's default.
    # Ours, as Infobip's AgentRequest lacks it: kept by a PUT that leaves it out.
    max_conversations: int | None = Field(default=None, ge=0, le=MAX_AGENT_CAPACITY)
    id: str | None = read_only()
    load: Echoed = read_only()
    created_at: IsoTime | None = read_only()
    updated_at: IsoTime | None = read_only()

    def chosen_status(self) -> AgentStatus | None:
        if self.status is not None and self.availability not in (None, self.status):
            raise bad_request("availability", "differs from status (they are the same thing)")
        return self.status or self.availability


class StatusIn(ApiInput):
    status: AgentStatus


class MembershipIn(ApiInput):
    queue_id: str = Field(min_length=1, max_length=36)


class AgentWithKey(AgentOut):
    api_key: str


class AgentListOut(ApiModel):
    agents: list[AgentOut]
    pagination: Pagination


class AgentQueueOut(ApiModel):
    id: str
    name: str


class AgentQueuesOut(ApiModel):
    """The live queues an agent is a member of."""

    queues: list[AgentQueueOut]


class AgentQueuesWithStatus(StatusCodeOut, AgentQueuesOut):
    """The agent's queues after joining or leaving one, with Infobip's StatusCodeResponse fields."""


def agents_out(session: Session, rows: list[AgentRow], default_capacity: int) -> list[AgentOut]:
    loads = assignment_store.loads_of(session, [row.id for row in rows])
    return [
        contract_agent_out(row, loads.get(row.id, 0), assignment_store.capacity_of(row, default_capacity))
        for row in rows
    ]


def agent_out(session: Session, row: AgentRow, default_capacity: int) -> AgentOut:
    return agents_out(session, [row], default_capacity)[0]


def _agent(session: Session, agent_id: str) -> AgentRow:
    row = session.get(AgentRow, agent_id)
    if row is None:
        raise not_found("Agent")
    return row


def _commit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise ApiError(409, "An agent with this email already exists", {"email": ["already in use"]}) from error


def _email_free(session: Session, email: str, except_id: str | None = None) -> None:
    other = agent_store.by_email(session, email.lower())
    if other is not None and other.id != except_id:
        raise ApiError(409, "An agent with this email already exists", {"email": ["already in use"]})


def _new_key(session: Session, agent: AgentRow) -> str:
    key = keys.new_key()
    keys.store_key(session, key, principal_type=AGENT_KEY, principal_id=agent.id, name=agent.display_name)
    return key


def _queues(session: Session, agent_id: str) -> dict[str, Any]:
    ids = agent_store.agent_queue_ids(session, agent_id)
    names = queue_store.live_queue_names(session, set(ids))
    return {"queues": [{"id": queue_id, "name": names[queue_id]} for queue_id in ids if queue_id in names]}


@router.get("", response_model=AgentListOut)
def list_agents(
    session: SessionDep,
    agent_ids: list[str] | None = Query(
        default=None, alias="agentIds", description="Repeatable, or comma-separated"
    ),
    queue_ids: list[str] | None = Query(
        default=None, alias="queueIds", description="Members of any of these queues; repeatable, or comma-separated"
    ),
    display_name: str | None = Query(
        default=None, alias="displayName", max_length=255, description="Part of the display name, any case"
    ),
    email: str | None = Query(default=None, max_length=254, description="The whole email, any case"),
    status: AgentStatus | None = None,
    availability: AgentStatus | None = Query(default=None, description="The same as status here"),
    role: Role | None = None,
    enabled: QueryBool = None,
    created_after: IsoTime | None = Query(default=None, alias="createdAfter", description=AFTER),
    created_before: IsoTime | None = Query(default=None, alias="createdBefore", description=BEFORE),
    updated_after: IsoTime | None = Query(default=None, alias="updatedAfter", description=AFTER),
    updated_before: IsoTime | None = Query(default=None, alias="updatedBefore", description=BEFORE),
    # Ours, kept from before the Infobip names: one queue, and `name` for displayName.
    queue_id: str | None = Query(default=None, alias="queueId", max_length=36),
    name: str | None = Query(default=None, max_length=255),
    page: int = 0,
    limit: int = DEFAULT_LIMIT,
    order_by: str | None = order_by_param(["id", "displayName", "createdAt", "updatedAt"]),
    capacity: int = Depends(default_capacity),
):
    orderable = {
        "id": AgentRow.id, "displayName": AgentRow.display_name,
        "createdAt": AgentRow.created_at, "updatedAt": AgentRow.updated_at,
    }
    paging = parse_paging(page, limit, order_by, set(orderable), "createdAt:asc")
    query = select(AgentRow)
    if ids := split_values(agent_ids):
        query = query.where(col(AgentRow.id).in_(ids))
    if role is not None:
        query = query.where(AgentRow.role == role.value)
    # Infobip's availability is its status; both given must both hold.
    for wanted in (status, availability):
        if wanted is not None:
            query = query.where(AgentRow.status == wanted.value)
    if enabled is not None:
        query = query.where(AgentRow.enabled == enabled)
    for member_of in filter(None, [split_values(queue_ids), [queue_id] if queue_id else None]):
        members = select(AgentQueueRow.agent_id).where(col(AgentQueueRow.queue_id).in_(member_of))
        query = query.where(col(AgentRow.id).in_(members))
    for part in filter(None, [display_name, name]):
        query = query.where(func.lower(AgentRow.display_name).contains(part.lower(), autoescape=True))
    if email:
        query = query.where(AgentRow.email == email.lower())
    query = within_times(query, [
        (AgentRow.created_at, created_after, created_before),
        (AgentRow.updated_at, updated_after, updated_before),
    ])
    rows, total = page_of(session, query, paging, orderable[paging.field], AgentRow.id)
    return {
        "agents": [agent.model_dump(by_alias=True) for agent in agents_out(session, list(rows), capacity)],
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }


@router.post("", status_code=201, response_model=AgentWithKey)
def create_agent(
    body: AgentIn, session: SessionDep, capacity: int = Depends(default_capacity)
) -> AgentWithKey:
    status = body.chosen_status() or AgentStatus.ACTIVE
    email = body.email.lower() if body.email is not None else None
    if email is not None:
        _email_free(session, email)
    now = utcnow()
    row = AgentRow(
        id=str(uuid.uuid4()), created_at=now, updated_at=now,
        **body.model_dump(mode="json", exclude={"email", "status", "load"}), email=email, status=status.value,
    )
    session.add(row)
    key = _new_key(session, row)
    # A racing create of the same email loses here, at the unique index: 409, not 500.
    _commit(session)
    return AgentWithKey(**agent_out(session, row, capacity).model_dump(), api_key=key)


@router.get("/{agent_id}", response_model=AgentOut)
def get_agent(
    agent_id: str, session: SessionDep, capacity: int = Depends(default_capacity)
) -> AgentOut:
    return agent_out(session, _agent(session, agent_id), capacity)


@router.put("/{agent_id}", response_model=AgentOut)
def update_agent(
    agent_id: str, body: AgentIn, session: SessionDep, capacity: int = Depends(default_capacity)
) -> AgentOut:
    """Replaces Infobip's AgentRequest fields (`displayName`, `status`, `role`, `enabled`; those
    not given are back at their defaults). `email`, `title` and `maxConversations`, which
    Infobip's request lacks, keep their value unless given (null clears them)."""
    row = _agent(session, agent_id)
    status = body.chosen_status() or AgentStatus.ACTIVE
    status_changed = row.status != status.value
    given = body.model_fields_set
    if "email" in given and body.email is not None:
        _email_free(session, body.email.lower(), except_id=agent_id)
    changes = body.model_dump(mode="json", exclude={"email", "title", "status", "max_conversations", "load"})
    for key, value in changes.items():
        setattr(row, key, value)
    row.status = status.value
    if "email" in given:
        row.email = body.email.lower() if body.email is not None else None
    if "title" in given:
        row.title = body.title
    if "max_conversations" in given:
        row.max_conversations = body.max_conversations
    row.updated_at = utcnow()
    session.add(row)
    if status_changed:
        _tell_status(session, row, capacity)
    _commit(session)
    return agent_out(session, row, capacity)


@router.put("/{agent_id}/status", response_model=AgentOut)
def set_status(
    agent_id: str, body: StatusIn, session: SessionDep, capacity: int = Depends(default_capacity)
) -> AgentOut:
    row = _agent(session, agent_id)
    changed = row.status != body.status.value
    row.status, row.updated_at = body.status.value, utcnow()
    session.add(row)
    if changed:
        _tell_status(session, row, capacity)
    session.commit()
    return agent_out(session, row, capacity)


def _tell_status(session: Session, row: AgentRow, capacity: int) -> None:
    """agent.status_changed, committed with the change."""
    events_out.publish(session, [events_out.agent_status_changed(agent_out(session, row, capacity), row.updated_at)])


@router.post("/{agent_id}/api-key", response_model=ApiKeyOut)
def rotate_agent_key(agent_id: str, session: SessionDep) -> ApiKeyOut:
    """A new key; every earlier key of this agent stops working at once."""
    row = _agent(session, agent_id)
    keys.disable_keys(session, AGENT_KEY, agent_id)
    key = _new_key(session, row)
    session.commit()
    return ApiKeyOut(api_key=key)


@router.get("/{agent_id}/queues", response_model=AgentQueuesOut)
def list_agent_queues(agent_id: str, session: SessionDep):
    _agent(session, agent_id)
    return _queues(session, agent_id)


@router.post("/{agent_id}/queues", response_model=AgentQueuesWithStatus)
def add_agent_queue(agent_id: str, body: MembershipIn, session: SessionDep):
    _agent(session, agent_id)
    if queue_store.live_queue(session, body.queue_id) is None:
        raise bad_request("queueId", "unknown or deleted queue")
    if session.get(AgentQueueRow, (agent_id, body.queue_id)) is None:
        session.add(AgentQueueRow(agent_id=agent_id, queue_id=body.queue_id, created_at=utcnow()))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # a racing request added the same membership: same outcome
    return with_status(_queues(session, agent_id), "Agent added to queue")


@router.delete("/{agent_id}/queues/{queue_id}", response_model=AgentQueuesWithStatus)
def remove_agent_queue(agent_id: str, queue_id: str, session: SessionDep):
    _agent(session, agent_id)
    if session.get(AgentQueueRow, (agent_id, queue_id)) is None:
        raise not_found("Membership")
    session.exec(delete(AgentQueueRow).where(
        col(AgentQueueRow.agent_id) == agent_id, col(AgentQueueRow.queue_id) == queue_id
    ))
    session.commit()
    return with_status(_queues(session, agent_id), "Agent removed from queue")
