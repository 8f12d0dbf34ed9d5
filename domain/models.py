"""Pydantic types shared by the API, the workflow and the activities.

They cross the Temporal boundary, so every field has a default where it can: a field added
later must not break histories recorded before it existed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.skills import SkillRequirement


class Priority(str, Enum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    URGENT = "URGENT"

    @property
    def rank(self) -> int:
        return PRIORITY_RANK[self]


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class Status(str, Enum):
    OPEN = "OPEN"
    WAITING = "WAITING"
    SOLVED = "SOLVED"
    CLOSED = "CLOSED"


# Every status but CLOSED: what a queue's open conversations are.
OPEN_STATUSES = (Status.OPEN.value, Status.WAITING.value, Status.SOLVED.value)


# An agent's status (the agents API's `status`); only ACTIVE agents are assigned
# conversations (store.assignment). No docstring: it would become the OpenAPI schema's
# description.
class AgentStatus(str, Enum):
    ACTIVE = "ACTIVE"
    BUSY = "BUSY"
    AWAY = "AWAY"
    INVISIBLE = "INVISIBLE"


# An agent's role: working conversations, or running the service (no docstring: the API
# document would carry it).
class Role(str, Enum):
    AGENT = "AGENT"
    SUPERVISOR = "SUPERVISOR"


# A person of People: a customer, or a lead (no docstring: the API document would carry it).
class PersonType(str, Enum):
    CUSTOMER = "CUSTOMER"
    LEAD = "LEAD"


# What a person is looked up by (`GET /people?identifier=&type=`, store.people.find_person).
class IdentifierType(str, Enum):
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    EXTERNAL_ID = "EXTERNAL_ID"
    ID = "ID"


class Authentication(str, Enum):
    NONE = "NONE"
    STRONG = "STRONG"
    FAILED = "FAILED"


class ActorType(str, Enum):
    AGENT = "AGENT"
    SUPERVISOR = "SUPERVISOR"
    BOT = "BOT"
    SYSTEM = "SYSTEM"


class Actor(BaseModel):
    type: ActorType
    id: str | None = None
    name: str | None = None


SYSTEM_ACTOR = Actor(type=ActorType.SYSTEM, id=None, name="Switchboard")


class RoutingRule(BaseModel):
    """One saved rule of a routing version, as stored and as evaluated."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    queue_id: str
    expression: Any
    priority: Priority = Priority.NORMAL
    enabled: bool = True
    route_only_during_working_hours: bool = False
    # Infobip's flag, stored and reported; it does not change how the rule routes.
    is_private: bool = False
    # Skills the conversations it places need (domain.skills), added to any they carry.
    required_skills: tuple[SkillRequirement, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None


class TraceOutcome(str, Enum):
    MATCHED = "MATCHED"
    NOT_MATCHED = "NOT_MATCHED"
    DISABLED = "DISABLED"
    SKIPPED = "SKIPPED"


class TraceEntry(BaseModel):
    """One rule tried during evaluation, and why it did or did not match."""

    route_id: str
    name: str
    order: int
    outcome: TraceOutcome
    reason: str


# Bounds of a queue's escalation ladder, checked when it is saved.
MAX_ESCALATION_STEPS = 10
MAX_ESCALATION_AFTER_SECONDS = 30 * 24 * 3600


class EscalationStep(BaseModel):
    """One step of a queue's escalation ladder: `after_seconds` from when the conversation
    entered the queue (while open and unassigned), its priority is raised to `priority`
    (never lowered) and/or it moves to `queue_id`."""

    after_seconds: int
    priority: Priority | None = None
    queue_id: str | None = None


class OutOfHours(BaseModel):
    """The verdict on a queue that is outside its working hours when a conversation is put in
    it: its hours' auto-reply, and whether those hours close such conversations."""

    working_hours_id: str
    message: str | None = None
    close_conversation: bool = False


class RoutingDecision(BaseModel):
    queue_id: str
    # A matched rule's priority; NORMAL when none matched. None only where no routing ran.
    priority: Priority | None = None
    route_id: str | None = None
    routing_version: int = 0
    trace: list[TraceEntry] = Field(default_factory=list)
    # Rules tried but left out of `trace` (see domain.routing.bounded): 0 when it is whole.
    trace_omitted: int = 0
    facts: dict[str, Any] = Field(default_factory=dict)
    # The chatbot serving the chosen queue, if any: entering it starts a hand-off.
    bot_id: str | None = None
    bot_timeout_seconds: int | None = None
    # The chosen queue's escalation ladder (None in decisions made before ladders existed).
    escalation: list[EscalationStep] | None = None
    # The person (People) whose attributes were the customer.* facts, if one was found.
    customer_id: str | None = None
    # Set when the chosen queue was closed as routing decided (None: open, or no hours, or a
    # decision made before out-of-hours handling).
    out_of_hours: OutOfHours | None = None
    # The matched rule's required skills (none: no rule matched, or it names none).
    required_skills: list[SkillRequirement] = Field(default_factory=list)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
