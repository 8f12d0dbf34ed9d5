"""The conversation as its workflow holds it: input, state, timeline events.

The workflow's state is the truth about a conversation; the SQL row is a projection of it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from domain.models import (
    Actor,
    Authentication,
    EscalationStep,
    OutOfHours,
    Priority,
    Status,
    TraceEntry,
)
from domain.skills import RequiredSkill, SkillRequirement
from domain.sla_clocks import Sla

# Activity names: fixed, as recorded histories name them.
ROUTE_ACTIVITY = "route_conversation"
PROJECT_ACTIVITY = "project_conversation"
DESCRIBE_QUEUE_ACTIVITY = "describe_queue"


def workflow_id(conversation_id: str) -> str:
    return f"conversation-{conversation_id}"


class CustomerRef(BaseModel):
    identifier: str | None = None
    type: str | None = None


DEFAULT_BOT_TIMEOUT_SECONDS = 600
MAX_TAGS = 50  # per conversation: at creation and as tags are added


class QueueRef(BaseModel):
    """What the workflow must know of a queue it moves into."""

    id: str
    bot_id: str | None = None
    bot_timeout_seconds: int = DEFAULT_BOT_TIMEOUT_SECONDS
    # Of the agents a move by hand concerns (the assignee), those who are members of this
    # queue: the assignee stays only if listed. None: not asked (the assignee stays).
    members: list[str] | None = None
    # Its escalation ladder; None where the caller did not say (inputs from before ladders).
    escalation: list[EscalationStep] | None = None
    # Set when the queue was closed (outside its working hours) as it was looked up.
    out_of_hours: OutOfHours | None = None


class NewConversation(BaseModel):
    """What a create request asked for; the workflow's first input."""

    id: str
    # Which create request started the workflow, so a repeated POST can tell 201 from 200.
    request_id: str
    actor: Actor
    created_at: datetime
    external_id: str | None = None
    topic: str | None = None
    summary: str | None = None
    priority: Priority | None = None
    channel: str | None = None
    from_: str | None = None
    to: str | None = None
    tags: list[str] = Field(default_factory=list)
    customer: CustomerRef | None = None
    message_content: str | None = None
    # Given at creation: placed there without routing.
    queue: QueueRef | None = None
    # Given at creation (Infobip accepts both): applied once the conversation is placed.
    status: Status | None = None
    agent_id: str | None = None
    # Skills it needs from whoever takes it (queueId given or not: routing's rule may add more).
    required_skills: list[SkillRequirement] = Field(default_factory=list)


class EventType(str, Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    ROUTED = "ROUTED"
    REROUTED = "REROUTED"
    BOT_STARTED = "BOT_STARTED"
    AUTHENTICATION_COMPLETED = "AUTHENTICATION_COMPLETED"
    BOT_TIMED_OUT = "BOT_TIMED_OUT"
    PRIORITY_CHANGED = "PRIORITY_CHANGED"
    STATUS_CHANGED = "STATUS_CHANGED"
    TAGGED = "TAGGED"
    UNTAGGED = "UNTAGGED"
    ASSIGNED = "ASSIGNED"
    UNASSIGNED = "UNASSIGNED"
    CLOSED = "CLOSED"
    ESCALATED = "ESCALATED"
    OUT_OF_HOURS = "OUT_OF_HOURS"
    SKILLS_RELAXED = "SKILLS_RELAXED"
    OFFERED = "OFFERED"
    OFFER_DECLINED = "OFFER_DECLINED"
    OFFER_EXPIRED = "OFFER_EXPIRED"
    OFFER_WITHDRAWN = "OFFER_WITHDRAWN"
    SLA_WARNING = "SLA_WARNING"
    SLA_BREACHED = "SLA_BREACHED"
    SLA_MET = "SLA_MET"


class EscalationTaken(BaseModel):
    """An ESCALATED event's step: which one, as the ladder had it, and what it did."""

    step: int  # its index in the queue's ladder
    after_seconds: int
    priority: Priority | None = None
    queue_id: str | None = None
    priority_raised: bool = False
    moved: bool = False


class Escalation(BaseModel):
    """The escalation ladder in force for the queue the conversation waits in, as the
    workflow was told of that queue when the conversation entered it (bounded: at most
    MAX_ESCALATION_STEPS steps)."""

    queue_id: str
    steps: list[EscalationStep]
    next_step: int = 0
    # When its clock started: entering the queue, or being released by an agent there.
    since: datetime

    def next_at(self) -> datetime | None:
        """When the next step is due, if any is left (whether the clock runs is the state's)."""
        if self.next_step >= len(self.steps):
            return None
        return self.since + timedelta(seconds=self.steps[self.next_step].after_seconds)


# The statuses in which a conversation waits and its escalation clock runs.
ESCALATING_STATUSES = (Status.OPEN, Status.WAITING)


def escalation_due(
    ladder: Escalation | None, *, queue_id: str | None, status: Status, agent_id: str | None,
    in_bot_wait: bool,
) -> datetime | None:
    """When the next step of the ladder is due; None while the clock stands (assigned, closed
    or solved, waiting for a bot, the ladder of another queue) or no step is left. One rule
    for the workflow's core and the store's dry run."""
    if (ladder is None or ladder.queue_id != queue_id or agent_id is not None or in_bot_wait
            or status not in ESCALATING_STATUSES):
        return None
    return ladder.next_at()


class ConversationEvent(BaseModel):
    seq: int
    type: EventType
    at: datetime
    actor: Actor
    from_queue_id: str | None = None
    to_queue_id: str | None = None
    priority: Priority | None = None
    route_id: str | None = None
    routing_version: int | None = None
    reason: str | None = None
    # STATUS_CHANGED and CLOSED: the status taken (None in histories recorded before it was kept:
    # there a STATUS_CHANGED's reason was the status unless the caller gave one).
    status: Status | None = None
    # ASSIGNED: the agent it was given to; UNASSIGNED: the agent it was taken from (histories
    # recorded before UNASSIGNED existed have ASSIGNED with None).
    agent_id: str | None = None
    trace: list[TraceEntry] | None = None
    trace_omitted: int = 0  # rules tried beyond those in `trace`
    # The routing facts an evaluation used, so history shows what routing saw.
    facts: dict[str, Any] | None = None
    # ESCALATED: the step taken.
    escalation: EscalationTaken | None = None
    # OUT_OF_HOURS: the closed queue's hours, their auto-reply, and whether they close it.
    out_of_hours: OutOfHours | None = None
    # SKILLS_RELAXED: the skills that stopped restricting who may take it, and when they were
    # due (the timer's moment; `at` is when the workflow acted on it).
    relaxed_skills: list[str] | None = None
    due_at: datetime | None = None
    # OFFERED: when the offer lapses (OFFER_EXPIRED carries the same moment as `due_at`).
    expires_at: datetime | None = None
    # SLA_WARNING, SLA_BREACHED, SLA_MET: the clock (firstResponse, resolution); due_at its due moment.
    clock: str | None = None


class BotWait(BaseModel):
    """A hand-off in progress: the conversation waits for the bot serving its queue."""

    queue_id: str
    bot_id: str
    # Where it goes back to when routing after the bot finds no rule.
    return_queue_id: str | None = None
    started_at: datetime
    timeout_seconds: int
    # The BOT_STARTED event's seq: identifies this hand-off among later ones.
    seq: int


class PendingOffer(BaseModel):
    """Auto-assignment offered the conversation to an agent, who has until `expires_at` to
    accept or decline; its capacity counts it meanwhile."""

    agent_id: str
    queue_id: str
    offered_at: datetime
    expires_at: datetime
    reason: str | None = None
    # The OFFERED event's seq: a new offer due at the same moment is another deadline.
    seq: int


class PassedOver(BaseModel):
    """An agent who declined the conversation or let its offer lapse during this stay."""

    agent_id: str
    at: datetime


class RoutedBy(BaseModel):
    route_id: str | None = None
    routing_version: int | None = None


class ConversationState(BaseModel):
    """What the workflow keeps between changes: the current facts and the last event's seq.

    Bounded whatever the conversation's length: its events live in the store once projected
    (the workflow holds only those not yet projected, beside this state)."""

    id: str
    created_request_id: str
    external_id: str | None = None
    topic: str | None = None
    summary: str | None = None
    status: Status = Status.OPEN
    priority: Priority = Priority.NORMAL
    queue_id: str | None = None
    agent_id: str | None = None
    channel: str | None = None
    from_: str | None = None
    to: str | None = None
    tags: list[str] = Field(default_factory=list)
    customer: CustomerRef | None = None
    customer_id: str | None = None
    message_content: str | None = None
    authentication: Authentication = Authentication.NONE
    routed_by: RoutedBy | None = None
    bot_wait: BotWait | None = None
    # When it entered its current queue (waiting order); None in states from before it was kept.
    queued_at: datetime | None = None
    # The ladder of the current queue (None in states from before ladders, or with none).
    escalation: Escalation | None = None
    # The skills whoever takes it must hold (domain.skills), relaxed or not during this stay.
    required_skills: list[RequiredSkill] = Field(default_factory=list)
    # An offer waiting for its agent's answer (SPEC "Offers"), and who passed it over this stay.
    offer: PendingOffer | None = None
    passed_over: list[PassedOver] = Field(default_factory=list)
    # The agent offered it last, answered or not: their answer to no offer is a 409, another's a 403.
    last_offered_agent_id: str | None = None
    # The SLA clocks of the policy matched at the first placement (None: no policy matched).
    sla: Sla | None = None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    last_seq: int = 0

    @model_validator(mode="before")
    @classmethod
    def _from_a_release_that_kept_every_event(cls, data: Any) -> Any:
        """Before events left the state, continue-as-new carried them all (already projected:
        a run continues as new only once settled); only their last seq is still needed."""
        if isinstance(data, dict) and "events" in data:
            data = dict(data)
            events = data.pop("events") or []
            data.setdefault("last_seq", events[-1]["seq"] if events else 0)
        return data

    @property
    def closed(self) -> bool:
        return self.status == Status.CLOSED

    def facts(self) -> dict[str, Any]:
        """The routing facts this conversation offers, keyed by expression attribute."""
        return routing_facts(
            channel=self.channel, from_=self.from_, to=self.to,
            message_content=self.message_content, topic=self.topic, tags=self.tags,
            priority=self.priority.value, queue_id=self.queue_id,
            authentication=self.authentication.value,
        )


def routing_facts(
    *, channel: str | None, from_: str | None, to: str | None, message_content: str | None,
    topic: str | None, tags: list[str], priority: str, queue_id: str | None, authentication: str,
) -> dict[str, Any]:
    """The routing facts of a conversation, keyed by expression attribute; missing ones absent.
    One definition for the workflow's state and the store's row (simulate-routing)."""
    facts: dict[str, Any] = {
        "message.channel": channel,
        "message.from": from_,
        "message.to": to,
        "message.content": message_content,
        "conversation.topic": topic,
        "conversation.tags": list(tags),
        "conversation.priority": priority,
        "conversation.queueId": queue_id,
        "conversation.authentication": authentication,
    }
    return {key: value for key, value in facts.items() if value is not None}


class RouteRequest(BaseModel):
    conversation_id: str
    facts: dict[str, Any]
    # Who the customer is, to find their person in People (else by message.from).
    customer: CustomerRef | None = None
    # Queue id -> why rules targeting it are skipped (e.g. the bot's own queue).
    skip_queues: dict[str, str] = Field(default_factory=dict)
    # Where to go when no rule matches, instead of the default queue (e.g. back from a bot).
    fallback_queue_id: str | None = None


class ConversationRun(BaseModel):
    """Everything one run of a conversation's workflow holds between changes, owned by its
    core (domain.conversation_core) and carried whole by continue-as-new."""

    state: ConversationState
    # Events of `state` not yet in the store (continue-as-new waits until there are none).
    pending: list[ConversationEvent] = Field(default_factory=list)
    # The last seq the store holds.
    projected_seq: int = 0
    # Created and placed in its first queue: handlers wait for it (an update can reach a new
    # workflow before its first task has routed it). Always so in a carried run.
    placed: bool = False

    def in_store(self) -> bool:
        """The store holds every event so far."""
        return self.projected_seq >= self.state.last_seq


class ConversationStart(BaseModel):
    """The workflow's input: a new conversation, or the run carried by continue-as-new."""

    new: NewConversation | None = None
    run: ConversationRun | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_a_release_that_carried_the_run_in_pieces(cls, data: Any) -> Any:
        """Before `ConversationRun`, continue-as-new carried `state`, `projected_seq` and
        `pending` side by side (and a new conversation's input named them empty); a carried
        state was always placed."""
        if isinstance(data, dict) and "state" in data:
            data = dict(data)
            state = data.pop("state")
            projected_seq = data.pop("projected_seq", 0)
            pending = data.pop("pending", [])
            if state is not None and data.get("run") is None:
                data["run"] = {"state": state, "projected_seq": projected_seq,
                               "pending": pending, "placed": True}
        return data


class EditByNames(BaseModel):
    """A PATCH/PUT as the `change` update took it, steered by the field names in `given`.
    Kept only for conversations started before one update per intent (see `Edit`)."""

    actor: Actor
    given: list[str] = Field(default_factory=list)
    topic: str | None = None
    summary: str | None = None
    status: Status | None = None
    priority: Priority | None = None
    queue: QueueRef | None = None
    agent_id: str | None = None
    reason: str | None = None


class Text(BaseModel):
    """A new value for a text field; null clears it."""

    value: str | None = None


class Agent(BaseModel):
    """A new assignee; null unassigns."""

    agent_id: str | None = None


class Assignment(BaseModel):
    actor: Actor
    agent_id: str | None = None  # None: unassigned
    reason: str | None = None
    # Auto-assignment's offer, made for the conversation waiting unassigned in this queue: it
    # is refused if that is no longer so (and applied once if it already was accepted).
    offered_in_queue_id: str | None = None
    # An agent releasing its own: refused if another agent has it by then.
    from_agent_id: str | None = None
    # Auto-assignment in a queue that makes offers: the agent is offered it for this long.
    offer_timeout_seconds: int | None = None


class OfferAnswer(BaseModel):
    """The offered agent accepts or declines (with an optional reason)."""

    actor: Actor
    agent_id: str
    accept: bool
    reason: str | None = None


class OfferWithdrawal(BaseModel):
    """The dispatcher takes back an agent's offer that agent can no longer take (not ACTIVE,
    left the queue, disabled, or the queue stopped making offers)."""

    agent_id: str
    reason: str


class Edit(BaseModel):
    """Several changes at once (a PATCH naming several fields), applied together or not at all.
    A field left None is not changed."""

    actor: Actor
    reason: str | None = None
    topic: Text | None = None
    summary: Text | None = None
    priority: Priority | None = None
    agent: Agent | None = None
    queue: QueueRef | None = None
    status: Status | None = None
    # The assignee change as its rules made it (reason, offer check); edits recorded before
    # it existed have only `agent`.
    assignment: Assignment | None = None
    # The whole list of required skills, replacing the one it has.
    required_skills: list[SkillRequirement] | None = None


class Reroute(BaseModel):
    actor: Actor
    queue: QueueRef
    reason: str | None = None


class PriorityChange(BaseModel):
    actor: Actor
    priority: Priority
    reason: str | None = None


class StatusChange(BaseModel):
    actor: Actor
    status: Status
    reason: str | None = None


class MessageRecorded(BaseModel):
    """A message stored for the conversation (the store holds the message itself)."""

    actor: Actor
    channel: str | None = None
    from_: str | None = None
    to: str | None = None
    content: str | None = None
    # A customer's message: reopens a SOLVED conversation.
    from_customer: bool = False
    # An agent's reply (OUTBOUND, written with an agent's key or console session): meets
    # the first-response SLA clock.
    from_agent: bool = False


class RouteAgain(BaseModel):
    actor: Actor


class AuthenticationReport(BaseModel):
    actor: Actor
    bot_id: str
    succeeded: bool


class TagChange(BaseModel):
    actor: Actor
    tag: str
    add: bool


# Failure types a workflow handler refuses with; the API maps each to its HTTP status.
BAD_REQUEST = "BAD_REQUEST"
CONFLICT = "CONFLICT"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
# Routing could not be evaluated in time (e.g. the store is down): nothing was changed.
UNAVAILABLE = "UNAVAILABLE"
CLOSED_TEXT = "Closed conversation cannot be changed"


class ProjectionRequest(BaseModel):
    """The conversation as it is now, and the events the store has not seen yet (oldest first)."""

    conversation: ConversationState
    events: list[ConversationEvent]


class CreateResult(BaseModel):
    """Whether this create request started the conversation (201) or found it (200); the
    conversation itself is read from the store, which the workflow has already updated."""

    created: bool
