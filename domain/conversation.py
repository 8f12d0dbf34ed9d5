"""The conversation as its workflow holds it: input, state, timeline events.

The workflow's state is the truth about a conversation; the SQL row is a projection of it.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field

from domain.models import (
    Actor,
    Authentication,
    Priority,
    Status,
    TraceEntry,
)

# Activities are called by name so the workflow module never imports the store.
ROUTE_ACTIVITY = "route_conversation"
PROJECT_ACTIVITY = "project_conversation"


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
    CLOSED = "CLOSED"


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
    # ASSIGNED: the agent the conversation was given to (None: unassigned).
    agent_id: str | None = None
    trace: list[TraceEntry] | None = None
    trace_omitted: int = 0  # rules tried beyond those in `trace`
    # The routing facts an evaluation used, so history shows what routing saw.
    facts: dict[str, Any] | None = None


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


class RoutedBy(BaseModel):
    route_id: str | None = None
    routing_version: int | None = None


class ConversationState(BaseModel):
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
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    events: list[ConversationEvent] = Field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.status == Status.CLOSED

    @property
    def last_seq(self) -> int:
        return self.events[-1].seq if self.events else 0

    def facts(self) -> dict[str, Any]:
        """The routing facts this conversation offers, keyed by expression attribute."""
        facts: dict[str, Any] = {
            "message.channel": self.channel,
            "message.from": self.from_,
            "message.to": self.to,
            "message.content": self.message_content,
            "conversation.topic": self.topic,
            "conversation.tags": list(self.tags),
            "conversation.priority": self.priority.value,
            "conversation.queueId": self.queue_id,
            "conversation.authentication": self.authentication.value,
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


class ConversationStart(BaseModel):
    """The workflow's input: a new conversation, or the state carried by continue-as-new."""

    new: NewConversation | None = None
    state: ConversationState | None = None
    projected_seq: int = 0


class Change(BaseModel):
    """A PATCH/PUT of a conversation; only the fields named in `given` are applied."""

    actor: Actor
    given: list[str] = Field(default_factory=list)
    topic: str | None = None
    summary: str | None = None
    status: Status | None = None
    priority: Priority | None = None
    queue: QueueRef | None = None
    agent_id: str | None = None
    reason: str | None = None


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
CLOSED_TEXT = "Closed conversation cannot be changed"


class ProjectionRequest(BaseModel):
    """The conversation as it is now, and the events the store has not seen yet."""

    conversation: ConversationState
    events: list[ConversationEvent]


class CreateResult(BaseModel):
    """Whether this create request started the conversation (201) or found it (200); the
    conversation itself is read from the store, which the workflow has already updated."""

    created: bool
