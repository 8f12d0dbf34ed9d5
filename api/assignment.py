"""Assignment by hand (Infobip's `PUT|DELETE /conversations/{id}/assignee`; PATCH with
`agentId` comes here too) and an agent's conversations (`GET /agents/{id}/conversations`).

Who may: a supervisor assigns any enabled agent, over capacity too (the event says so); an
agent takes an unassigned conversation of its queues for itself, or releases its own. The
conversation's workflow records it (ASSIGNED / UNASSIGNED); the projection then moves the
agent's hold, and the dispatcher hands a freed slot on.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import Field
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from api.auth import Principal
from api.conversations import ConversationListOut, ConversationOut, conversations_out, engine_of
from api.deps import PrincipalDep, TemporalDep
from api.errors import ApiError, bad_request, not_found
from api.paging import DEFAULT_LIMIT, order_by_param, parse_paging
from api.schemas import ApiInput, pagination
from api.workflow_updates import run_update
from domain.conversation import Assignment, QueueRef
from domain.models import ActorType
from store import agents as agent_store
from store import assignment as assignment_store
from store import conversations as conversation_store
from store import queues as queue_store
from store.db import session_scope
from store.tables import AgentRow, ConversationRow
from workflows.conversation import ConversationWorkflow

router = APIRouter(tags=["assignment"])


class AssigneeIn(ApiInput):
    agent_id: str = Field(min_length=1, max_length=36)


def assignment_by_hand(
    engine: Engine, principal: Principal, conversation_id: str, agent_id: str | None,
    default_capacity: int,
) -> Assignment:
    """The assignment a caller asks for, checked against who may and what the agent can hold;
    the workflow still refuses a closed conversation (409)."""
    actor = principal.actor
    if actor.type == ActorType.BOT:
        raise ApiError(403, "A bot may not assign a conversation")
    with session_scope(engine) as session:
        row = session.get(ConversationRow, conversation_id)
        if row is None:
            raise not_found("Conversation")
        agent = session.get(AgentRow, agent_id) if agent_id is not None else None
        if agent_id is not None and (agent is None or not agent.enabled):
            raise bad_request("agentId", "unknown or disabled agent")
        load = assignment_store.loads_of(session, [agent_id]).get(agent_id, 0) if agent_id else 0
        member_of = agent_store.agent_queue_ids(session, actor.id or "") if actor.type == ActorType.AGENT else []
    if actor.type == ActorType.AGENT:
        return _by_agent(actor.id, row, agent_id, member_of, principal)
    if agent is None:
        return Assignment(actor=actor, agent_id=None, reason="unassigned by a supervisor")
    capacity = assignment_store.capacity_of(agent, default_capacity)
    over = "; over capacity" if row.agent_id != agent.id and load >= capacity else ""
    return Assignment(actor=actor, agent_id=agent.id,
                      reason=f"assigned by a supervisor; load {load}/{capacity}{over}")


def _by_agent(
    self_id: str | None, row: ConversationRow, agent_id: str | None, member_of: list[str],
    principal: Principal,
) -> Assignment:
    if agent_id is None:
        if row.agent_id != self_id:
            raise ApiError(403, "An agent may only release a conversation assigned to it")
        # Refused (409) if someone else has it by the time the workflow hears of it.
        return Assignment(actor=principal.actor, agent_id=None, reason="released by the agent",
                          from_agent_id=self_id)
    if agent_id != self_id:
        raise ApiError(403, "An agent may only take a conversation for itself")
    if row.queue_id not in member_of:
        raise ApiError(403, "An agent may only take a conversation of its queues")
    if row.agent_id not in (None, self_id):
        raise ApiError(409, "Conversation is assigned to another agent")
    # As an offer: refused (409) if someone has it meanwhile, or it moved to another queue.
    return Assignment(actor=principal.actor, agent_id=agent_id, reason="taken by the agent",
                      offered_in_queue_id=row.queue_id)


def reroute_target(
    engine: Engine, queue_id: str, conversation_id: str, new_agent_id: str | None
) -> QueueRef | None:
    """The live queue a conversation is moved to by hand, naming which of the agents concerned
    (its assignee, and one being assigned with the move) are members there: the others are
    unassigned by the move. None if there is no such queue."""
    with session_scope(engine) as session:
        queue = queue_store.live_queue(session, queue_id)
        if queue is None:
            return None
        row = session.get(ConversationRow, conversation_id)
        concerned = {agent for agent in (row.agent_id if row else None, new_agent_id) if agent}
        members = [agent for agent in sorted(concerned) if queue_id in agent_store.agent_queue_ids(session, agent)]
        return queue_store.queue_ref_of(session, queue, members)


async def assign_by_hand(
    request: Request, client: Client, principal: Principal, conversation_id: str, agent_id: str | None,
) -> dict:
    assignment = await run_in_threadpool(
        assignment_by_hand, engine_of(request), principal, conversation_id, agent_id,
        request.app.state.default_agent_capacity,
    )
    return await run_update(request, client, conversation_id, ConversationWorkflow.assign, assignment)


@router.put("/ccaas/1/conversations/{conversation_id}/assignee", response_model=ConversationOut)
async def put_assignee(
    conversation_id: str, body: AssigneeIn, request: Request,
    principal: PrincipalDep, client: TemporalDep,
):
    return await assign_by_hand(request, client, principal, conversation_id, body.agent_id)


@router.delete("/ccaas/1/conversations/{conversation_id}/assignee", response_model=ConversationOut)
async def delete_assignee(
    conversation_id: str, request: Request,
    principal: PrincipalDep, client: TemporalDep,
):
    return await assign_by_hand(request, client, principal, conversation_id, None)


@router.get("/ccaas/1/agents/{agent_id}/conversations", response_model=ConversationListOut)
def agent_conversations(
    agent_id: str, request: Request, page: int = 0, limit: int = DEFAULT_LIMIT,
    order_by: str | None = order_by_param(conversation_store.ORDERABLE),
):
    """The conversations assigned to the agent, any status, newest first by default."""
    paging = parse_paging(page, limit, order_by, set(conversation_store.ORDERABLE), "createdAt:desc")
    with session_scope(engine_of(request)) as session:
        if session.get(AgentRow, agent_id) is None:
            raise not_found("Agent")
        rows, total = conversation_store.list_conversations(
            session, conversation_store.ConversationFilter(agent_id=agent_id),
            order_field=paging.field, descending=paging.descending,
            offset=paging.offset, limit=paging.limit,
        )
        answers = conversations_out(session, rows)
    return {
        "conversations": answers,
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }
