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
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from api.auth import Principal
from api.conversations import ConversationListOut
from api.deps import PrincipalDep, SessionDep, TemporalDep, engine_of
from api.errors import not_found
from api.hand_assignment import assignment_by_hand
from api.paging import DEFAULT_LIMIT, order_by_param, parse_paging
from api.schemas import ApiInput, pagination
from api.workflow_updates import run_update
from contract.conversations import ConversationOut
from store import conversations as conversation_store
from store.tables import AgentRow
from workflows.conversation import ConversationWorkflow

router = APIRouter(tags=["assignment"])


class AssigneeIn(ApiInput):
    agent_id: str = Field(min_length=1, max_length=36)


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
    agent_id: str, session: SessionDep, page: int = 0, limit: int = DEFAULT_LIMIT,
    order_by: str | None = order_by_param(conversation_store.ORDERABLE),
):
    """The conversations assigned to the agent, any status, newest first by default."""
    paging = parse_paging(page, limit, order_by, set(conversation_store.ORDERABLE), "createdAt:desc")
    if session.get(AgentRow, agent_id) is None:
        raise not_found("Agent")
    rows, total = conversation_store.list_conversations(
        session, conversation_store.ConversationFilter(agent_id=agent_id),
        order_field=paging.field, descending=paging.descending,
        offset=paging.offset, limit=paging.limit,
    )
    return {
        "conversations": conversation_store.conversations_out(session, rows),
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }
