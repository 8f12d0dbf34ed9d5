"""Changes to a conversation, each carried out by its workflow through one update per intent,
and the timeline read from the store: PATCH/PUT, route again, the bot's report, tags, events."""

from __future__ import annotations

from enum import Enum
from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field
from pydantic.alias_generators import to_camel
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Principal
from api.conversation_fields import DEFAULT_ORDER, MAX_TOPIC, Tag
from api.deps import PrincipalDep, SessionDep, TemporalDep, engine_of
from api.errors import bad_request, not_found
from api.hand_assignment import assignment_by_hand
from api.schemas import (
    READ_ONLY,
    ApiInput,
    ApiModel,
    Echoed,
    IsoTime,
    Pagination,
    StatusCodeOut,
    not_nullable,
    pagination,
    read_only,
    with_status,
)
from api.skill_requirements import RequiredSkillsIn, requirements
from api.workflow_updates import run_update
from contract.conversations import ConversationOut, EventOut, event_out
from domain.audience import audience_of
from domain.conversation import (
    Agent,
    Assignment,
    AuthenticationReport,
    ConversationEvent,
    Edit,
    PriorityChange,
    Reroute,
    RouteAgain,
    StatusChange,
    TagChange,
    Text,
    workflow_id,
)
from domain.models import Priority, Status
from store import conversations as conversation_store
from store import queues as queue_store
from workflows.conversation import ConversationWorkflow

router = APIRouter(prefix="/ccaas/1/conversations", tags=["conversations"])



class ConversationChangeIn(ApiInput):
    topic: str | None = Field(default=None, max_length=MAX_TOPIC)
    summary: str | None = Field(default=None, max_length=4096)
    # Left out keeps them; null is refused (the document says so).
    status: Status | None = Field(default=None, json_schema_extra=not_nullable)
    priority: Priority | None = Field(default=None, json_schema_extra=not_nullable)
    queue_id: str | None = Field(default=None, max_length=36, json_schema_extra=not_nullable)
    agent_id: str | None = Field(default=None, max_length=36)
    reason: str | None = Field(default=None, max_length=1024)
    # The whole list, replacing the one it has ([] to require none); null is refused.
    required_skills: RequiredSkillsIn | None = Field(default=None, json_schema_extra=not_nullable)
    # A fetched conversation sent back (Infobip's PUT body is its ConversationApiModel): the
    # answer's other fields are tolerated and ignored. Tags change through /tags, the queue
    # position and routing by routing, the SLA clocks by the conversation's workflow.
    id: str | None = read_only()
    external_id: Echoed = read_only()
    channel: Echoed = read_only()
    from_: Echoed = Field(default=None, exclude=True, alias="from", description=READ_ONLY)
    to: Echoed = read_only()
    tags: Echoed = read_only()
    customer_id: Echoed = read_only()
    authentication: Echoed = read_only()
    routed_by: Echoed = read_only()
    queue_position: Echoed = read_only()
    estimated_wait_seconds: Echoed = read_only()
    sla: Echoed = read_only()
    created_at: IsoTime | None = read_only()
    updated_at: IsoTime | None = read_only()
    closed_at: IsoTime | None = read_only()


class ConversationTagIn(ApiInput):
    tag_name: Tag


class AuthenticationStatus(str, Enum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class AuthenticationLevel(str, Enum):
    STRONG = "STRONG"


class AuthenticationIn(ApiInput):
    status: AuthenticationStatus
    level: AuthenticationLevel = AuthenticationLevel.STRONG


class EventListOut(ApiModel):
    """The timeline, oldest first (not paged: a conversation's events are few)."""

    events: list[EventOut]


class ConversationWithStatus(StatusCodeOut, ConversationOut):
    """The conversation after a tag change, with Infobip's StatusCodeResponse fields."""


class RoutedConversationOut(ConversationOut):
    """The conversation routed again, its fields at the top level as every change answers
    them, and also as Infobip documents the answer: a list of that one conversation."""

    conversations: list[ConversationOut]
    pagination: Pagination


class WorkflowHistoryOut(ApiModel):
    workflow_id: str
    run_id: str
    temporal_ui_url: str
    # Temporal's history JSON, as temporalio's `WorkflowHistory.from_json` takes it.
    history: dict[str, Any]


def _one_update(edit: Edit, assignment: Assignment | None):
    """The update a change is: the one for its intent when it has a single one, else `edit`,
    which applies several together. An assignee alone is the assignment its rules made."""
    named = [field for field in ("topic", "summary", "priority", "agent", "queue", "status")
             if getattr(edit, field) is not None]
    actor, reason = edit.actor, edit.reason
    if named == ["priority"]:
        return ConversationWorkflow.set_priority, PriorityChange(
            actor=actor, priority=edit.priority, reason=reason)
    if named == ["status"]:
        return ConversationWorkflow.set_status, StatusChange(
            actor=actor, status=edit.status, reason=reason)
    if named == ["queue"]:
        return ConversationWorkflow.reroute, Reroute(actor=actor, queue=edit.queue, reason=reason)
    if named == ["agent"]:
        assert assignment is not None
        return ConversationWorkflow.assign, assignment
    return ConversationWorkflow.edit, edit


async def _change(conversation_id: str, body: ConversationChangeIn, request: Request,
                  principal: Principal, client: Client):
    given = body.model_fields_set - {"reason"}
    engine = engine_of(request)
    for field in ("status", "priority", "queue_id", "required_skills"):
        if field in given and getattr(body, field) is None:
            raise bad_request(to_camel(field), "cannot be null")
    assignment = None
    if "agent_id" in given:
        # Who may assign whom, as PUT /assignee: 400 at agentId, 403, 404 or 409.
        assignment = await run_in_threadpool(
            assignment_by_hand, engine, principal, conversation_id, body.agent_id,
            request.app.state.default_agent_capacity,
        )
        if body.reason:
            assignment.reason = f"{assignment.reason}: {body.reason}"
    queue = None
    if body.queue_id is not None:
        queue = await run_in_threadpool(
            queue_store.reroute_target, engine, body.queue_id, conversation_id,
            body.agent_id if "agent_id" in given else None,
        )
        if queue is None:
            raise bad_request("queueId", "unknown or deleted queue")
    edit = Edit(
        actor=principal.actor,
        reason=body.reason,
        topic=Text(value=body.topic) if "topic" in given else None,
        summary=Text(value=body.summary) if "summary" in given else None,
        priority=body.priority,
        agent=Agent(agent_id=body.agent_id) if "agent_id" in given else None,
        queue=queue,
        status=body.status,
        assignment=assignment,
        required_skills=requirements(body.required_skills) if body.required_skills is not None else None,
    )
    update, argument = _one_update(edit, assignment)
    return await run_update(request, client, conversation_id, update, argument)


@router.patch("/{conversation_id}", response_model=ConversationOut)
async def patch_conversation(
    conversation_id: str, body: ConversationChangeIn, request: Request,
    principal: PrincipalDep, client: TemporalDep,
):
    """Changes the fields given; a new `queueId` is a manual reroute (with an optional `reason`)."""
    return await _change(conversation_id, body, request, principal, client)


@router.put("/{conversation_id}", response_model=ConversationOut)
async def put_conversation(
    conversation_id: str, body: ConversationChangeIn, request: Request,
    principal: PrincipalDep, client: TemporalDep,
):
    """As PATCH: only the fields given change (a conversation's other fields are not the
    client's to reset)."""
    return await _change(conversation_id, body, request, principal, client)


@router.post("/{conversation_id}/route", response_model=RoutedConversationOut)
async def route_again(
    conversation_id: str, request: Request,
    principal: PrincipalDep, client: TemporalDep,
):
    """Runs routing again now: unassigns (as Infobip does), then moves where routing decides.
    The decision is recorded as a ROUTED event with its rule, version and trace even when it
    keeps the queue and priority."""
    answer = await run_update(
        request, client, conversation_id, ConversationWorkflow.route, RouteAgain(actor=principal.actor)
    )
    return {**answer, "conversations": [answer], "pagination": pagination(1, 0, 1, DEFAULT_ORDER)}


@router.post("/{conversation_id}/authentication", response_model=ConversationOut)
async def report_authentication(
    conversation_id: str, body: AuthenticationIn, request: Request,
    principal: PrincipalDep, client: TemporalDep,
):
    """The bot serving the conversation's queue reports the result of strong authentication;
    routing then runs again by itself."""
    report = AuthenticationReport(
        actor=principal.actor,
        bot_id=principal.actor.id,
        succeeded=body.status == AuthenticationStatus.SUCCEEDED,
    )
    return await run_update(
        request, client, conversation_id, ConversationWorkflow.report_authentication, report
    )


@router.post("/{conversation_id}/tags", response_model=ConversationWithStatus)
async def add_tag(
    conversation_id: str, body: ConversationTagIn, request: Request,
    principal: PrincipalDep, client: TemporalDep,
):
    """Answers the conversation, with Infobip's StatusCodeResponse fields."""
    change = TagChange(actor=principal.actor, tag=body.tag_name, add=True)
    answer = await run_update(request, client, conversation_id, ConversationWorkflow.tag, change)
    return with_status(answer, "Tag added to conversation")


@router.delete("/{conversation_id}/tags/{tag_name}", response_model=ConversationWithStatus)
async def remove_tag(
    conversation_id: str, tag_name: str, request: Request,
    principal: PrincipalDep, client: TemporalDep,
):
    """Answers the conversation, with Infobip's StatusCodeResponse fields."""
    change = TagChange(actor=principal.actor, tag=tag_name, add=False)
    answer = await run_update(request, client, conversation_id, ConversationWorkflow.tag, change)
    return with_status(answer, "Tag removed from conversation")


@router.get("/{conversation_id}/workflow-history", response_model=WorkflowHistoryOut)
async def workflow_history(conversation_id: str, request: Request, client: TemporalDep):
    """The conversation's raw Temporal event history (its current run) as JSON that
    temporalio's Replayer accepts (`WorkflowHistory.from_json`), and where the Temporal Web
    UI shows it."""
    handle = client.get_workflow_handle(workflow_id(conversation_id))
    try:
        history = await handle.fetch_history()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise not_found("Conversation") from None
        raise
    ui = request.app.state.temporal_ui_url.rstrip("/")
    return {
        "workflowId": history.workflow_id,
        "runId": history.run_id,
        "temporalUiUrl": f"{ui}/namespaces/{client.namespace}/workflows/{history.workflow_id}"
                         f"/{history.run_id}/history",
        "history": history.to_json_dict(),
    }


@router.get("/{conversation_id}/events", response_model=EventListOut)
def conversation_events(conversation_id: str, principal: PrincipalDep, session: SessionDep):
    """The conversation's timeline, oldest first, from the store: readable with every worker
    down and after Temporal has dropped a closed conversation's history. A person's
    attributes (`customer.*` facts, and their values in the trace) are shown to supervisors only."""
    events = conversation_store.timeline(session, conversation_id)
    if events is None:
        raise not_found("Conversation")
    audience = audience_of(principal.actor.type)
    # Read as the workflow wrote them, then answered: a field the answer does not name is left out.
    return {"events": [event_out(ConversationEvent.model_validate(event), audience) for event in events]}
