"""Who may do what: the spec's permission table, enforced for every route in this one place.

Every route of the API has an entry; a route without one is refused for everybody (and a
test fails), so a new route cannot be open by accident.
"""

from __future__ import annotations

from enum import Enum

from fastapi import Request
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.auth import PUBLIC_PATHS, Principal
from api.errors import ApiError, not_found
from domain.models import ActorType
from store import agents as agent_store
from store import bots as bot_store
from store.db import session_scope
from store.tables import ConversationRow, QueueRow


class Access(str, Enum):
    ALLOW = "allow"
    DENY = "deny"
    # Agent: a conversation in one of its queues or assigned to it. Bot: one in a queue it serves.
    OWN_CONVERSATION = "own conversation"
    # An agent acting on itself (e.g. its own status).
    SELF = "self"
    # Agent: a queue it is a member of.
    OWN_QUEUE = "own queue"


S, A, B = ActorType.SUPERVISOR, ActorType.AGENT, ActorType.BOT
ALLOW, DENY, OWN, SELF = Access.ALLOW, Access.DENY, Access.OWN_CONVERSATION, Access.SELF
OWN_QUEUE = Access.OWN_QUEUE

EVERYONE = {S: ALLOW, A: ALLOW, B: ALLOW}
SUPERVISORS = {S: ALLOW, A: DENY, B: DENY}
WORK = {S: ALLOW, A: OWN, B: OWN}
HISTORY = {S: ALLOW, A: OWN, B: DENY}
# Only a bot reports; whether it is the bot the conversation waits for is the workflow's to
# say (403 for another bot, 409 when no bot is waited for).
REPORT = {S: DENY, A: DENY, B: ALLOW}
# An agent acting on or reading itself (its status, its conversations); supervisors any.
ITSELF = {S: ALLOW, A: SELF, B: DENY}
# Assigning: an agent only takes for itself or releases its own (checked by api.assignment).
ASSIGN = {S: ALLOW, A: OWN, B: DENY}
# Answering an offer: agents only; whether it is the offered one is the workflow's to say.
ANSWER = {S: DENY, A: ALLOW, B: DENY}
# The spec's "staffing, eligible agents, wallboard" for a queue: any queue, an agent its own.
QUEUE_WORK = {S: ALLOW, A: OWN_QUEUE, B: DENY}

Q, R, C, G, P = "/ccaas/1/queues", "/ccaas/1/routing", "/ccaas/1/conversations", "/ccaas/1/agents", "/people/2/persons"
BOTS = "/ccaas/1/bots"
TAGS = "/ccaas/1/tags"
HOOKS = "/ccaas/1/webhooks"
HOURS = "/ccaas/1/working-hours"
SLA = "/ccaas/1/sla-policies"

PERMISSIONS: dict[tuple[str, str], dict[ActorType, Access]] = {
    ("GET", Q): EVERYONE,
    ("GET", f"{Q}/statistics"): EVERYONE,
    ("GET", f"{Q}/{{queue_id}}/statistics"): EVERYONE,
    ("GET", f"{Q}/{{queue_id}}/staffing"): QUEUE_WORK,
    ("GET", f"{Q}/{{queue_id}}/service-level-today"): QUEUE_WORK,
    ("POST", Q): SUPERVISORS,
    ("GET", f"{Q}/{{queue_id}}"): EVERYONE,
    ("PUT", f"{Q}/{{queue_id}}"): SUPERVISORS,
    ("DELETE", f"{Q}/{{queue_id}}"): SUPERVISORS,
    # A dry run of the queue's escalations: a supervisor's tool.
    ("GET", f"{Q}/{{queue_id}}/escalations"): SUPERVISORS,
    ("GET", R): EVERYONE,
    ("PUT", R): SUPERVISORS,
    ("DELETE", R): SUPERVISORS,
    ("GET", f"{R}/versions"): EVERYONE,
    ("GET", f"{R}/versions/{{number}}"): EVERYONE,
    ("GET", f"{R}/versions/{{a}}/diff/{{b}}"): EVERYONE,
    ("GET", f"{R}/settings"): EVERYONE,
    ("PUT", f"{R}/settings"): SUPERVISORS,
    # A dry run reads the facts of any conversation: a supervisor's tool.
    ("POST", f"{R}/simulate"): SUPERVISORS,
    ("GET", BOTS): EVERYONE,
    ("POST", BOTS): SUPERVISORS,
    ("GET", f"{BOTS}/{{bot_id}}"): EVERYONE,
    ("PUT", f"{BOTS}/{{bot_id}}"): SUPERVISORS,
    ("DELETE", f"{BOTS}/{{bot_id}}"): SUPERVISORS,
    ("POST", f"{BOTS}/{{bot_id}}/api-key"): SUPERVISORS,
    ("GET", G): EVERYONE,
    ("POST", G): SUPERVISORS,
    ("GET", f"{G}/{{agent_id}}"): EVERYONE,
    ("PUT", f"{G}/{{agent_id}}"): SUPERVISORS,
    ("PUT", f"{G}/{{agent_id}}/status"): ITSELF,
    ("POST", f"{G}/{{agent_id}}/api-key"): SUPERVISORS,
    ("GET", f"{G}/{{agent_id}}/queues"): EVERYONE,
    ("POST", f"{G}/{{agent_id}}/queues"): SUPERVISORS,
    ("DELETE", f"{G}/{{agent_id}}/queues/{{queue_id}}"): SUPERVISORS,
    ("GET", f"{G}/{{agent_id}}/conversations"): ITSELF,
    # Skills: the spec's "skills of agents" row, read by all, written by supervisors.
    ("GET", f"{G}/{{agent_id}}/offers"): ITSELF,
    ("GET", f"{G}/{{agent_id}}/skills"): EVERYONE,
    ("PUT", f"{G}/{{agent_id}}/skills"): SUPERVISORS,
    ("GET", "/ccaas/1/skills"): EVERYONE,
    # People are customers' personal data: the spec's table grants them to supervisors only.
    ("GET", P): SUPERVISORS,
    ("POST", P): SUPERVISORS,
    ("GET", f"{P}/{{person_id}}"): SUPERVISORS,
    ("PUT", f"{P}/{{person_id}}"): SUPERVISORS,
    ("PATCH", f"{P}/{{person_id}}"): SUPERVISORS,
    ("DELETE", f"{P}/{{person_id}}"): SUPERVISORS,
    # Creating is every role's (a channel integration uses a bot or supervisor key); the list
    # shows each caller only the conversations it may see (see `visible_queues`).
    ("POST", C): EVERYONE,
    ("GET", C): EVERYONE,
    ("GET", f"{C}/{{conversation_id}}"): WORK,
    ("PATCH", f"{C}/{{conversation_id}}"): WORK,
    ("PUT", f"{C}/{{conversation_id}}"): WORK,
    ("POST", f"{C}/{{conversation_id}}/route"): WORK,
    ("POST", f"{C}/{{conversation_id}}/tags"): WORK,
    ("DELETE", f"{C}/{{conversation_id}}/tags/{{tag_name}}"): WORK,
    ("POST", f"{C}/{{conversation_id}}/authentication"): REPORT,
    ("POST", f"{C}/{{conversation_id}}/offer/accept"): ANSWER,
    ("POST", f"{C}/{{conversation_id}}/offer/decline"): ANSWER,
    ("PUT", f"{C}/{{conversation_id}}/assignee"): ASSIGN,
    ("DELETE", f"{C}/{{conversation_id}}/assignee"): ASSIGN,
    ("GET", f"{C}/{{conversation_id}}/events"): HISTORY,
    ("GET", f"{C}/{{conversation_id}}/simulate-routing"): HISTORY,
    ("GET", f"{C}/{{conversation_id}}/workflow-history"): SUPERVISORS,
    # The spec's "eligible agents": an agent for a conversation of its queues (or its own).
    ("GET", f"{C}/{{conversation_id}}/eligible-agents"): HISTORY,
    # Reading and writing messages is conversation work (the spec's "read or write messages").
    ("GET", f"{C}/{{conversation_id}}/messages"): WORK,
    ("POST", f"{C}/{{conversation_id}}/messages"): WORK,
    # Tags: everyone reads them (a conversationId filter shows only what the caller may see);
    # creating and deleting them is managing the service. Agents and bots create tags only by
    # tagging a conversation they work.
    ("GET", TAGS): EVERYONE,
    ("POST", TAGS): SUPERVISORS,
    ("DELETE", f"{TAGS}/{{tag_name}}"): SUPERVISORS,
    # Webhooks carry every conversation's events, signed with secrets: supervisors only.
    ("GET", HOOKS): SUPERVISORS,
    ("POST", HOOKS): SUPERVISORS,
    ("GET", f"{HOOKS}/{{webhook_id}}"): SUPERVISORS,
    ("PUT", f"{HOOKS}/{{webhook_id}}"): SUPERVISORS,
    ("DELETE", f"{HOOKS}/{{webhook_id}}"): SUPERVISORS,
    ("POST", f"{HOOKS}/{{webhook_id}}/secret"): SUPERVISORS,
    ("GET", f"{HOOKS}/{{webhook_id}}/deliveries"): SUPERVISORS,
    ("POST", f"{HOOKS}/{{webhook_id}}/deliveries/{{delivery_id}}/retry"): SUPERVISORS,
    ("POST", f"{BOTS}/{{bot_id}}/webhook-secret"): SUPERVISORS,
    # Working hours: everyone reads them (agents and bots too, as the spec's table says).
    ("GET", HOURS): EVERYONE,
    ("POST", HOURS): SUPERVISORS,
    ("GET", f"{HOURS}/{{working_hours_id}}"): EVERYONE,
    ("PUT", f"{HOURS}/{{working_hours_id}}"): SUPERVISORS,
    ("PATCH", f"{HOURS}/{{working_hours_id}}"): SUPERVISORS,
    ("DELETE", f"{HOURS}/{{working_hours_id}}"): SUPERVISORS,
    ("GET", f"{HOURS}/{{working_hours_id}}/status"): EVERYONE,
    ("POST", f"{HOURS}/{{working_hours_id}}/holiday"): SUPERVISORS,
    ("DELETE", f"{HOURS}/{{working_hours_id}}/holiday/{{holiday_id}}"): SUPERVISORS,
    # SLA policies: the spec's row with skills, read by all, written by supervisors.
    ("GET", SLA): EVERYONE,
    ("POST", SLA): SUPERVISORS,
    ("GET", f"{SLA}/{{sla_policy_id}}"): EVERYONE,
    ("PUT", f"{SLA}/{{sla_policy_id}}"): SUPERVISORS,
    ("DELETE", f"{SLA}/{{sla_policy_id}}"): SUPERVISORS,
    # Everyone; each caller sees only the events it may read (api.event_stream).
    ("GET", "/ccaas/1/events/stream"): EVERYONE,
}


def may_work(engine: Engine, principal: Principal, conversation_id: str) -> bool:
    # A transaction of its own, run in a thread: `authorize` asks before the route (and its
    # session) runs.
    with session_scope(engine) as session:
        row = session.get(ConversationRow, conversation_id)
        if row is None:
            raise not_found("Conversation")
        actor_id = principal.actor.id
        assert actor_id is not None  # every principal has one (api.auth.principal_for_key)
        if principal.actor.type == ActorType.AGENT:
            return row.agent_id == actor_id or row.queue_id in agent_store.agent_queue_ids(session, actor_id)
        queue = session.get(QueueRow, row.queue_id) if row.queue_id else None
        return queue is not None and queue.bot_id == actor_id


def in_own_queue(engine: Engine, principal: Principal, queue_id: str) -> bool:
    """Whether the agent is a member of the queue (a transaction of its own, as `may_work`)."""
    actor_id = principal.actor.id
    assert actor_id is not None  # every principal has one (api.auth.principal_for_key)
    with session_scope(engine) as session:
        return queue_id in agent_store.agent_queue_ids(session, actor_id)


def visible_queues(engine: Engine, principal: Principal) -> tuple[list[str], str | None] | None:
    """What a caller may list: None for everything, else (queue ids, assigned agent id)."""
    if principal.is_supervisor:
        return None
    actor_id = principal.actor.id
    assert actor_id is not None  # every principal has one (api.auth.principal_for_key)
    # A transaction of its own: the live stream asks again while it streams.
    with session_scope(engine) as session:
        if principal.actor.type == ActorType.AGENT:
            return agent_store.agent_queue_ids(session, actor_id), actor_id
        return bot_store.queues_served(session, actor_id), None


async def authorize(request: Request) -> None:
    """An app-wide dependency: runs before every route's own code."""
    route = request.scope["route"]
    if route.path in PUBLIC_PATHS:
        return
    principal: Principal = request.state.principal
    rules = PERMISSIONS.get((request.method, route.path))
    if rules is None:
        raise ApiError(403, "No permission is defined for this route")
    access = rules[principal.actor.type]
    if access == ALLOW:
        return
    if access == SELF and request.path_params.get("agent_id") == principal.actor.id:
        return
    if access == OWN and await run_in_threadpool(
        may_work, request.app.state.engine, principal, request.path_params["conversation_id"]
    ):
        return
    if access == OWN_QUEUE and await run_in_threadpool(
        in_own_queue, request.app.state.engine, principal, request.path_params["queue_id"]
    ):
        return
    raise ApiError(403, "Not allowed")
