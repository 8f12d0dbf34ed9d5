"""Offers (SPEC "Offers"): an agent's pending offer, and its answer. Where a queue makes
offers, auto-assignment offers a conversation to the agent it chose, who accepts (ASSIGNED) or
declines (OFFER_DECLINED) before it lapses (OFFER_EXPIRED, a timer in the conversation's
workflow). Only the offered agent answers: the workflow refuses anyone else (403) and an
answer to no pending offer (409)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import Field

from api.deps import PrincipalDep, SessionDep, TemporalDep
from api.errors import not_found
from api.schemas import ApiInput, ApiModel, UtcTime
from api.workflow_updates import run_update
from contract.conversations import ConversationOut
from domain.conversation import OfferAnswer
from store import assignment as assignment_store
from store.tables import AgentRow
from workflows.conversation import ConversationWorkflow

router = APIRouter(prefix="/ccaas/1", tags=["offers"])


class OfferOut(ApiModel):
    conversation_id: str
    queue_id: str | None
    offered_at: UtcTime
    expires_at: UtcTime | None
    # Why auto-assignment chose this agent, as the OFFERED event says.
    reason: str | None


class OffersOut(ApiModel):
    """At most one: an agent has one pending offer at a time."""

    offers: list[OfferOut]


class DeclineIn(ApiInput):
    reason: str | None = Field(default=None, max_length=1024)


@router.get("/agents/{agent_id}/offers", response_model=OffersOut)
def agent_offers(agent_id: str, session: SessionDep) -> OffersOut:
    if session.get(AgentRow, agent_id) is None:
        raise not_found("Agent")
    rows = assignment_store.pending_offers(session, agent_id)
    return OffersOut(offers=[
        OfferOut(conversation_id=row.conversation_id, queue_id=row.queue_id, offered_at=row.at,
                 expires_at=row.expires_at, reason=row.reason)
        for row in rows
    ])


@router.post("/conversations/{conversation_id}/offer/accept", response_model=ConversationOut)
async def accept_offer(conversation_id: str, request: Request, principal: PrincipalDep, client: TemporalDep):
    """The offered agent takes the conversation: ASSIGNED, with the offer's reason."""
    answer = OfferAnswer(actor=principal.actor, agent_id=principal.actor.id or "", accept=True)
    return await run_update(request, client, conversation_id, ConversationWorkflow.answer_offer, answer)


@router.post("/conversations/{conversation_id}/offer/decline", response_model=ConversationOut)
async def decline_offer(conversation_id: str, request: Request, principal: PrincipalDep, client: TemporalDep,
                        body: DeclineIn | None = None):
    """The offered agent passes: OFFER_DECLINED (with the reason given), and the conversation is
    offered to the next eligible agent within a second; not to this one again during this stay
    in the queue unless every eligible agent has passed it over."""
    answer = OfferAnswer(actor=principal.actor, agent_id=principal.actor.id or "", accept=False,
                         reason=body.reason if body is not None else None)
    return await run_update(request, client, conversation_id, ConversationWorkflow.answer_offer, answer)
