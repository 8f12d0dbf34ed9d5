"""Assignment by hand, decided before the conversation's workflow hears of it: who may assign
whom, and the reason its event carries (the agent's load, over capacity). Asked for by
`PUT|DELETE /conversations/{id}/assignee` and by a PATCH naming `agentId`."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from api.auth import Principal
from api.errors import ApiError, bad_request, not_found
from domain.conversation import Assignment
from domain.models import ActorType
from store import assignment as assignment_store
from store.tables import ConversationRow


def assignment_by_hand(
    engine: Engine, principal: Principal, conversation_id: str, agent_id: str | None,
    default_capacity: int,
) -> Assignment:
    """The assignment a caller asks for, checked against who may and what the agent can hold;
    the workflow still refuses a closed conversation (409)."""
    actor = principal.actor
    if actor.type == ActorType.BOT:
        raise ApiError(403, "A bot may not assign a conversation")
    asking_agent_id = (actor.id or "") if actor.type == ActorType.AGENT else None
    facts = assignment_store.by_hand(engine, conversation_id, agent_id, asking_agent_id)
    row, agent, load = facts.conversation, facts.agent, facts.load
    if row is None:
        raise not_found("Conversation")
    if agent_id is not None and (agent is None or not agent.enabled):
        raise bad_request("agentId", "unknown or disabled agent")
    if actor.type == ActorType.AGENT:
        return _by_agent(actor.id, row, agent_id, facts.member_of, principal)
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
    # As the dispatcher's claim: refused (409) if someone has it meanwhile, or it moved to another queue.
    return Assignment(actor=principal.actor, agent_id=agent_id, reason="taken by the agent",
                      offered_in_queue_id=row.queue_id)
