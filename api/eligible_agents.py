"""GET /ccaas/1/conversations/{id}/eligible-agents: a dry run of auto-assignment for one
conversation. Which members of its queue may take it now and why the others may not, and how
that changes at each coming relaxation of its required skills (store.eligibility). Nothing is
changed; who may ask is api.permissions' (supervisors, and an agent for a conversation in its
queues or assigned to it)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import SessionDep, default_capacity
from api.errors import not_found
from api.schemas import ApiModel, UtcTime
from store import eligibility
from store.tables import ConversationRow

router = APIRouter(prefix="/ccaas/1/conversations", tags=["conversations"])


class EligibleAgentOut(ApiModel):
    agent_id: str
    display_name: str
    # Conversations it holds or has been claimed for now.
    load: int
    # The sum of its levels in the conversation's required skills (relaxed ones too).
    score: int


class NotEligibleAgentOut(ApiModel):
    agent_id: str
    display_name: str
    # The first reason, as auto-assignment checks: disabled, not ACTIVE, full, a skill.
    why: str


class StandingOut(ApiModel):
    # Best first, by the queue's algorithm.
    eligible: list[EligibleAgentOut]
    not_eligible: list[NotEligibleAgentOut]


class RelaxationOut(StandingOut):
    """How the members would stand once the requirements due by `at` relax (loads as now)."""

    at: UtcTime


class EligibleAgentsOut(ApiModel):
    now: StandingOut
    relaxations: list[RelaxationOut]


def _standing(standing: eligibility.Standing) -> dict[str, list[EligibleAgentOut] | list[NotEligibleAgentOut]]:
    return {
        "eligible": [EligibleAgentOut.of(agent) for agent in standing.eligible],
        "not_eligible": [NotEligibleAgentOut.of(agent) for agent in standing.not_eligible],
    }


@router.get("/{conversation_id}/eligible-agents", response_model=EligibleAgentsOut)
def eligible_agents(
    conversation_id: str, session: SessionDep, capacity: int = Depends(default_capacity)
) -> EligibleAgentsOut:
    """The members of the conversation's queue: those who may take it now (enabled, ACTIVE,
    below capacity, holding every required skill not yet relaxed at its level) with their
    load and skill score, the others with why not; then, for each moment a required skill
    relaxes, the same as it would be then. A conversation in no queue has no members."""
    row = session.get(ConversationRow, conversation_id)
    if row is None:
        raise not_found("Conversation")
    dry_run = eligibility.eligible_agents(session, row, capacity)
    return EligibleAgentsOut(
        now=StandingOut(**_standing(dry_run.now)),
        relaxations=[RelaxationOut(at=relaxation.at, **_standing(relaxation.standing))
                     for relaxation in dry_run.relaxations],
    )
