"""/ccaas/1/conversations: each conversation is a ConversationWorkflow; reads come from SQL."""

from __future__ import annotations

import asyncio
import uuid
from enum import Enum

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.auth import Principal
from api.conversation_fields import DEFAULT_ORDER, MAX_TOPIC, Tag
from api.deps import DEADLINE_PASSED, PrincipalDep, SessionDep, TemporalDep, default_capacity, engine_of
from api.errors import ApiError, bad_request, not_found, unavailable
from api.paging import DEFAULT_LIMIT, order_by_param, parse_paging
from api.permissions import may_work, visible_queues
from api.query_params import AFTER, BEFORE, enum_list_schema, enum_values
from api.query_params import split_values as _split
from api.schemas import (
    ApiInput,
    ApiModel,
    IsoTime,
    Pagination,
    as_utc,
    pagination,
    read_only,
)
from api.skill_requirements import RequiredSkillsIn, requirements
from contract.conversations import ConversationOut, TraceOut
from domain.audience import audience_of, decision_for
from domain.conversation import (
    MAX_TAGS,
    ConversationStart,
    CustomerRef,
    NewConversation,
    workflow_id,
)
from domain.models import ActorType, Priority, Status, utcnow
from store import agents as agent_store
from store import conversations as conversation_store
from store import queues as queue_store
from store.routing import RoutingLoader
from store.tables import ConversationRow
from workflows import search_attributes as sa
from workflows.conversation import TASK_TIMEOUT, ConversationWorkflow

router = APIRouter(prefix="/ccaas/1/conversations", tags=["conversations"])

# Repeated POSTs with one externalId map to one id, hence to one workflow id: Temporal's
# workflow-id uniqueness then makes "never a second workflow" hold even for racing requests.
EXTERNAL_ID_NAMESPACE = uuid.UUID("6f1b8e0c-3c55-4b43-9d0e-5a4c1f0d2b7e")

class CustomerType(str, Enum):
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    EXTERNAL_ID = "EXTERNAL_ID"
    ID = "ID"


class CustomerIn(ApiInput):
    identifier: str = Field(min_length=1, max_length=255)
    type: CustomerType


class FirstMessageIn(ApiInput):
    content: str | None = Field(default=None, max_length=4096)


class ConversationIn(ApiInput):
    topic: str | None = Field(default=None, max_length=MAX_TOPIC)
    summary: str | None = Field(default=None, max_length=4096)
    priority: Priority | None = None
    channel: str | None = Field(default=None, max_length=64)
    from_: str | None = Field(default=None, max_length=255, alias="from")
    to: str | None = Field(default=None, max_length=255)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    external_id: str | None = Field(default=None, min_length=1, max_length=255)
    customer: CustomerIn | None = None
    message: FirstMessageIn | None = None
    queue_id: str | None = Field(default=None, max_length=36)
    # Infobip accepts both at creation: applied once the conversation is placed (the agent
    # assigned first, then the status).
    status: Status | None = None
    agent_id: str | None = Field(default=None, max_length=36)
    # Skills whoever takes it must hold; the routing rule that places it may add more.
    required_skills: RequiredSkillsIn = Field(default_factory=list)
    # Infobip's create body is its ConversationApiModel, answer fields included.
    id: str | None = read_only()
    created_at: IsoTime | None = read_only()
    updated_at: IsoTime | None = read_only()
    closed_at: IsoTime | None = read_only()


class ConversationListOut(ApiModel):
    conversations: list[ConversationOut]
    pagination: Pagination


# The answer is built by hand (201 or 200): response_model documents it.
@router.post("", status_code=201, response_model=ConversationOut, responses={
    200: {"model": ConversationOut,
          "description": "The conversation made before with the same externalId (nothing changes)"}
})
async def create_conversation(
    body: ConversationIn,
    request: Request,
    principal: PrincipalDep,
    client: TemporalDep,
):
    engine = engine_of(request)
    queue = None
    if body.queue_id is not None:
        queue = await run_in_threadpool(queue_store.queue_ref, engine, body.queue_id)
        if queue is None:
            raise bad_request("queueId", "unknown or deleted queue")
    if body.agent_id is not None:
        # As by hand: a bot assigns nobody, an agent only itself.
        if principal.actor.type == ActorType.BOT:
            raise ApiError(403, "A bot may not assign a conversation")
        if principal.actor.type == ActorType.AGENT and body.agent_id != principal.actor.id:
            raise ApiError(403, "An agent may only take a conversation for itself")
        if not await run_in_threadpool(agent_store.is_enabled, engine, body.agent_id):
            raise bad_request("agentId", "unknown or disabled agent")
    if body.external_id is not None:
        existing = await run_in_threadpool(conversation_store.read_by_external_id, engine, body.external_id)
        if existing is not None:
            return await _found(engine, principal, existing)
        conversation_id = str(uuid.uuid5(EXTERNAL_ID_NAMESPACE, body.external_id))
    else:
        conversation_id = str(uuid.uuid4())

    request_id = str(uuid.uuid4())
    new = NewConversation(
        id=conversation_id,
        request_id=request_id,
        actor=principal.actor,
        created_at=utcnow(),
        external_id=body.external_id,
        topic=body.topic,
        summary=body.summary,
        priority=body.priority,
        channel=body.channel,
        from_=body.from_,
        to=body.to,
        tags=list(dict.fromkeys(body.tags)),
        customer=CustomerRef(**body.customer.model_dump(mode="json")) if body.customer else None,
        message_content=body.message.content if body.message else None,
        queue=queue,
        status=body.status,
        agent_id=body.agent_id,
        required_skills=requirements(body.required_skills),
    )
    start = WithStartWorkflowOperation(
        ConversationWorkflow.run,
        ConversationStart(new=new),
        id=workflow_id(conversation_id),
        task_queue=request.app.state.task_queue,
        task_timeout=TASK_TIMEOUT,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # A conversation whose workflow failed may be created again; an ended one may not.
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.STATUS, Status.OPEN.value),
                SearchAttributePair(sa.PRIORITY, (body.priority or Priority.NORMAL).value),
            ]
        ),
    )
    try:
        result = await asyncio.wait_for(
            client.execute_update_with_start_workflow(
                ConversationWorkflow.created, request_id, start_workflow_operation=start
            ),
            request.app.state.update_deadline,
        )
        created = result.created
    except WorkflowAlreadyStartedError:
        # The conversation with this externalId exists and its workflow has ended.
        created = False
    except DEADLINE_PASSED:
        raise unavailable(
            f"Conversation {conversation_id} was accepted but not routed in time; "
            "it will be routed when a worker is available",
        ) from None
    if not created:
        row = await run_in_threadpool(conversation_store.read, engine, conversation_id)
        if row is None:
            raise not_found("Conversation")
        return await _found(engine, principal, row)
    # One read for a new conversation: its answer is all the response needs.
    answer = await run_in_threadpool(conversation_store.read_answer, engine, conversation_id, default_capacity(request))
    if answer is None:
        raise not_found("Conversation")
    return JSONResponse(answer, status_code=201)


async def _found(engine: Engine, principal: Principal, row: ConversationRow) -> JSONResponse:
    """A repeated externalId: the conversation, to those who may read it; to others only
    that it exists (a repeat must not be a way around the read rights)."""
    if principal.is_supervisor or await run_in_threadpool(may_work, engine, principal, row.id):
        return JSONResponse(await run_in_threadpool(conversation_store.read_answer, engine, row.id), status_code=200)
    raise ApiError(409, f"Conversation {row.id} already has this externalId")


STATUS_LIST = enum_list_schema(Status)
PRIORITY_LIST = enum_list_schema(Priority)


@router.get("", response_model=ConversationListOut)
def list_conversations(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    conversation_ids: list[str] | None = Query(default=None, alias="conversationIds"),
    queue_ids: list[str] | None = Query(default=None, alias="queueIds"),
    status: list[str] | None = Query(default=None, json_schema_extra=STATUS_LIST),
    priority: list[str] | None = Query(default=None, json_schema_extra=PRIORITY_LIST),
    agent_id: str | None = Query(default=None, alias="agentId", max_length=36),
    tag_names: list[str] | None = Query(default=None, alias="tagNames"),
    created_after: IsoTime | None = Query(default=None, alias="createdAfter", description=AFTER),
    created_before: IsoTime | None = Query(default=None, alias="createdBefore", description=BEFORE),
    updated_after: IsoTime | None = Query(default=None, alias="updatedAfter", description=AFTER),
    updated_before: IsoTime | None = Query(default=None, alias="updatedBefore", description=BEFORE),
    closed_after: IsoTime | None = Query(default=None, alias="closedAfter", description=AFTER),
    closed_before: IsoTime | None = Query(default=None, alias="closedBefore", description=BEFORE),
    page: int = 0,
    limit: int = DEFAULT_LIMIT,
    order_by: str | None = order_by_param(conversation_store.ORDERABLE),
):
    paging = parse_paging(page, limit, order_by, set(conversation_store.ORDERABLE), DEFAULT_ORDER)
    # Agents and bots list only the conversations they may work.
    visible = visible_queues(engine_of(request), principal)
    where = conversation_store.ConversationFilter(
        conversation_ids=_split(conversation_ids),
        queue_ids=_split(queue_ids),
        statuses=enum_values("status", _split(status), Status),
        priorities=enum_values("priority", _split(priority), Priority),
        agent_id=agent_id,
        tag_names=_split(tag_names),
        created_after=as_utc(created_after),
        created_before=as_utc(created_before),
        updated_after=as_utc(updated_after),
        updated_before=as_utc(updated_before),
        closed_after=as_utc(closed_after),
        closed_before=as_utc(closed_before),
        visible_queue_ids=visible[0] if visible else None,
        visible_agent_id=visible[1] if visible else None,
    )
    rows, total = conversation_store.list_conversations(
        session,
        where,
        order_field=paging.field,
        descending=paging.descending,
        offset=paging.offset,
        limit=paging.limit,
    )
    return {
        "conversations": conversation_store.conversations_out(session, rows, default_capacity(request)),
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }


@router.get("/{conversation_id}", response_model=ConversationOut)
def get_conversation(conversation_id: str, request: Request):
    answer = conversation_store.read_answer(engine_of(request), conversation_id, default_capacity(request))
    if answer is None:
        raise not_found("Conversation")
    return answer


class SimulationOut(ApiModel):
    id: str
    queue_id: str
    priority: Priority
    route_id: str | None
    routing_version: int
    trace: list[TraceOut]


@router.get("/{conversation_id}/simulate-routing", response_model=SimulationOut)
def simulate_routing(
    principal: PrincipalDep,
    session: SessionDep,
    conversation_id: str,
    request: Request,
    at: IsoTime | None = Query(default=None, description=(
        "When to route it (ISO-8601): rules that route only during working hours see their "
        "queues as they would be then. Default: now.")),
):
    """Where routing would put this conversation now (or `at`), and why, from its facts in the
    store; nothing is changed. The trace shows a person's values to supervisors only."""
    row = session.get(ConversationRow, conversation_id)
    if row is None:
        raise not_found("Conversation")
    loader: RoutingLoader = request.app.state.routing_loader
    decision = loader.decide(
        session, conversation_store.routing_facts_of(row), conversation_store.customer_of(row), at=as_utc(at)
    )
    decision = decision_for(decision, audience_of(principal.actor.type))
    return SimulationOut(
        id=conversation_id,
        queue_id=decision.queue_id,
        priority=decision.priority or Priority.NORMAL,
        route_id=decision.route_id,
        routing_version=decision.routing_version,
        trace=[TraceOut.of(entry) for entry in decision.trace],
    ).model_dump(by_alias=True)
