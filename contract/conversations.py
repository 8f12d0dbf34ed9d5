"""A conversation and its timeline events as the API answers them and events out carry them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import Field

from contract.base import ApiModel, UtcTime
from domain.audience import Audience, event_for
from domain.conversation import ConversationEvent, EventType
from domain.models import ActorType, Authentication, Priority, Status, TraceOutcome, as_utc
from domain.skills import RequiredSkill, relaxes_at
from domain.sla_clocks import ClockStatus, SlaClock


class ConversationRecord(Protocol):
    """A conversation as the store holds it (store.tables.ConversationRow), read by attribute."""

    id: str
    external_id: str | None
    topic: str | None
    summary: str | None
    status: str
    priority: str
    queue_id: str | None
    agent_id: str | None
    channel: str | None
    from_: str | None
    to: str | None
    tags: list[str]
    customer_id: str | None
    authentication: str
    routed_route_id: str | None
    routed_version: int | None
    queued_at: datetime | None
    required_skills: list[dict[str, Any]] | None
    sla: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class RoutedByOut(ApiModel):
    route_id: str | None
    routing_version: int | None


class RequiredSkillOut(ApiModel):
    """A skill whoever takes the conversation must hold, at `minLevel` or above, until it
    relaxes (`relaxesAt`, then `relaxed`: it still ranks agents by level)."""

    name: str
    min_level: int
    relax_after_seconds: int | None
    relaxed: bool
    relaxes_at: UtcTime | None


def required_skills_out(required: list[dict[str, Any]] | None, queued_at: datetime | None) -> list[RequiredSkillOut]:
    held = [RequiredSkill.model_validate(stored) for stored in required or []]
    queued_at = as_utc(queued_at) if queued_at is not None else None  # SQLite's are naive
    return [
        RequiredSkillOut(
            name=requirement.name, min_level=requirement.min_level,
            relax_after_seconds=requirement.relax_after_seconds, relaxed=requirement.relaxed,
            relaxes_at=relaxes_at(requirement, queued_at),
        )
        for requirement in held
    ]


class SlaClockOut(ApiModel):
    """An SLA clock: when it is due (null while PAUSED) and, while PAUSED, the seconds of the
    policy's working time it has left."""

    due_at: UtcTime | None
    status: ClockStatus
    remaining_seconds: int | None = None


class SlaOut(ApiModel):
    policy_id: str
    first_response: SlaClockOut | None
    resolution: SlaClockOut | None


def sla_out(stored: dict[str, Any] | None) -> SlaOut | None:
    """The conversation's clocks as projected (store.conversations: the policy id and each
    domain.sla_clocks.SlaClock)."""
    if stored is None:
        return None

    def clock(name: str) -> SlaClockOut | None:
        if stored.get(name) is None:
            return None
        held = SlaClock.model_validate(stored[name])
        remaining = round(held.remaining_seconds) if held.remaining_seconds is not None else None
        return SlaClockOut(due_at=held.due_at, status=held.status, remaining_seconds=remaining)

    return SlaOut(policy_id=stored["policy_id"], first_response=clock("first_response"),
                  resolution=clock("resolution"))


class ConversationOut(ApiModel):
    id: str
    external_id: str | None
    topic: str | None
    summary: str | None
    status: Status
    priority: Priority
    queue_id: str | None
    agent_id: str | None
    channel: str | None
    from_: str | None = Field(alias="from")
    to: str | None
    tags: list[str]
    customer_id: str | None
    authentication: Authentication
    routed_by: RoutedByOut | None
    created_at: UtcTime
    updated_at: UtcTime
    closed_at: UtcTime | None
    # 1-based place in its queue's waiting order while it waits unassigned; else null.
    queue_position: int | None = Field(default=None, ge=1)
    # While it waits: seconds until it is expected to be answered, from its position and the
    # queue's recent answer rate (domain.estimated_wait); null when not waiting, or when the
    # queue had no answer in the last hour to estimate from. Read-only.
    estimated_wait_seconds: float | None = Field(default=None, ge=0)
    required_skills: list[RequiredSkillOut] = Field(default_factory=list)
    # The SLA clocks of the policy matched at its first placement; null: none matched.
    sla: SlaOut | None = None


def conversation_out(
    row: ConversationRecord, queue_position: int | None = None, estimated_wait_seconds: float | None = None,
) -> dict[str, Any]:
    routed_by = None
    if row.routed_version is not None:
        routed_by = RoutedByOut(route_id=row.routed_route_id, routing_version=row.routed_version)
    return ConversationOut(
        id=row.id,
        external_id=row.external_id,
        topic=row.topic,
        summary=row.summary,
        status=Status(row.status),
        priority=Priority(row.priority),
        queue_id=row.queue_id,
        agent_id=row.agent_id,
        channel=row.channel,
        from_=row.from_,
        to=row.to,
        tags=list(row.tags),
        customer_id=row.customer_id,
        authentication=row.authentication,
        routed_by=routed_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
        queue_position=queue_position,
        estimated_wait_seconds=estimated_wait_seconds,
        required_skills=required_skills_out(row.required_skills, row.queued_at),
        sla=sla_out(row.sla),
    ).model_dump(by_alias=True)


class TraceOut(ApiModel):
    """One rule tried by routing, and why it did or did not match."""

    route_id: str
    name: str
    order: int
    outcome: TraceOutcome
    reason: str


class ActorOut(ApiModel):
    type: ActorType
    id: str | None
    name: str | None


class EscalationTakenOut(ApiModel):
    """An ESCALATED event's step: its index in the queue's ladder, the step, what it did."""

    step: int
    after_seconds: int
    priority: Priority | None
    queue_id: str | None
    priority_raised: bool
    moved: bool


class OutOfHoursOut(ApiModel):
    """An OUT_OF_HOURS event's working hours, their auto-reply, and whether they closed it."""

    working_hours_id: str
    message: str | None
    close_conversation: bool


class EventOut(ApiModel):
    seq: int
    type: EventType
    at: UtcTime
    actor: ActorOut
    from_queue_id: str | None
    to_queue_id: str | None
    priority: Priority | None
    route_id: str | None
    routing_version: int | None
    reason: str | None
    # STATUS_CHANGED and CLOSED: the status taken (null in conversations from before it was kept).
    status: Status | None = None
    agent_id: str | None
    trace: list[TraceOut] | None
    # Rules tried beyond the first 99 and the last, left out of `trace`.
    trace_omitted: int = 0
    facts: dict[str, Any] | None
    # ESCALATED: the step taken; null for every other type.
    escalation: EscalationTakenOut | None = None
    # OUT_OF_HOURS: the closed queue's hours; null for every other type.
    out_of_hours: OutOfHoursOut | None = None
    # SKILLS_RELAXED: the skills that stopped restricting, and when they were due.
    relaxed_skills: list[str] | None = None
    due_at: UtcTime | None = None
    # OFFERED: when the offer lapses; an ASSIGNED that accepted an offer carries it too.
    expires_at: UtcTime | None = None
    # SLA_WARNING, SLA_BREACHED, SLA_MET: the clock (firstResponse, resolution), with its dueAt.
    clock: str | None = None


def event_out(event: ConversationEvent, audience: Audience) -> dict[str, Any]:
    """A timeline event as the API answers it to `audience` (People's data for supervisors only)."""
    return EventOut.model_validate(event_for(event, audience)).model_dump(by_alias=True)
