"""Who may take a conversation now, and who once its required skills relax: the dry run of
auto-assignment for one conversation (`GET /conversations/{id}/eligible-agents`).

Every member of the conversation's queue is listed, either eligible (with its load and skill
score, in the order the queue's algorithm would prefer it: domain.assignment.ranked) or with
the first reason it is not, checked as auto-assignment does (SPEC "Work distribution",
"Skills" and "Offers"): disabled, not ACTIVE, full, a pending offer, a required skill not held
or below its level, passed it over during this stay. Read without locks: it changes nothing
and answers as things stand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from domain.assignment import Candidate, ranked
from domain.models import AgentStatus, as_utc
from domain.skills import RequiredSkill, relaxes_at, score, why_not
from store.assignment import (
    capacity_of,
    loads_of,
    offering_agents,
    order_in_queue,
    passed_over_of,
    place_in_queue,
    required_of,
)
from store.skills import levels_of
from store.tables import AgentQueueRow, AgentRow, ConversationRow, QueueRow


@dataclass(frozen=True)
class EligibleAgent:
    agent_id: str
    display_name: str
    load: int
    score: int


@dataclass(frozen=True)
class NotEligibleAgent:
    agent_id: str
    display_name: str
    why: str


@dataclass(frozen=True)
class Standing:
    """The queue's members split by whether they may take the conversation."""

    eligible: list[EligibleAgent]
    not_eligible: list[NotEligibleAgent]


@dataclass(frozen=True)
class Relaxation:
    """How the members would stand at `at`, when one or more requirements relax (loads as now)."""

    at: datetime
    standing: Standing


@dataclass(frozen=True)
class DryRun:
    now: Standing
    relaxations: list[Relaxation]


@dataclass(frozen=True)
class _Member:
    agent: AgentRow
    candidate: Candidate


def eligible_agents(session: Session, conversation: ConversationRow, default_capacity: int) -> DryRun:
    """The members of the conversation's queue as they stand for it now, and at each coming
    moment a requirement relaxes (`relaxAfterSeconds` from the later of its entry into the
    queue and the requirement being set). A conversation in no queue has no members."""
    queue = session.get(QueueRow, conversation.queue_id) if conversation.queue_id is not None else None
    if queue is None:
        return DryRun(Standing([], []), [])
    rows = session.exec(
        select(AgentRow, AgentQueueRow.created_at)
        .join(AgentQueueRow, col(AgentQueueRow.agent_id) == AgentRow.id)
        .where(AgentQueueRow.queue_id == queue.id)
        .order_by(col(AgentRow.id))
    ).all()
    agent_ids = [agent.id for agent, _ in rows]
    loads, levels = loads_of(session, agent_ids), levels_of(session, agent_ids)
    members = [
        _Member(agent, Candidate(
            agent_id=agent.id, load=loads.get(agent.id, 0), capacity=capacity_of(agent, default_capacity),
            last_assigned_at=as_utc(agent.last_assigned_at) if agent.last_assigned_at else None,
            order=order_in_queue(joined, agent.id), levels=levels.get(agent.id, {}),
        ))
        for agent, joined in rows
    ]
    last_order = place_in_queue(session, queue.id, queue.last_assigned_agent_id)
    offers = _Offers(offering_agents(session, agent_ids), {
        entry.agent_id: entry.at for entry in passed_over_of(conversation)
    }) if queue.offer_timeout_seconds is not None else None

    def standing(required: Sequence[RequiredSkill]) -> Standing:
        return _standing(members, required, queue.auto_assignment_algorithm, last_order, offers)

    required = required_of(conversation)
    queued_at = as_utc(conversation.queued_at) if conversation.queued_at is not None else None
    moments = [relaxes_at(requirement, queued_at) for requirement in required]
    relaxations = [
        Relaxation(at, standing([
            requirement.model_copy(update={"relaxed": True}) if moment is not None and moment <= at else requirement
            for requirement, moment in zip(required, moments, strict=True)
        ]))
        for at in sorted({moment for moment in moments if moment is not None})
    ]
    return DryRun(standing(required), relaxations)


@dataclass(frozen=True)
class _Offers:
    """Where the queue makes offers: agents with one pending, and who passed this one over when."""

    pending: set[str]
    passed_over: dict[str, datetime]


def _standing(
    members: list[_Member], required: Sequence[RequiredSkill], algorithm: str | None,
    last_order: tuple[str, ...] | None, offers: _Offers | None,
) -> Standing:
    whys = {member.agent.id: _why_not(member, required) for member in members}
    if offers is not None:
        # As the claim: those who passed it over wait behind the others, and if all have, the
        # one who passed it over longest ago is offered it again; one busy with another offer
        # gets no second.
        able = [member.agent.id for member in members if whys[member.agent.id] is None]
        passed = [agent_id for agent_id in able if agent_id in offers.passed_over]
        again = min(passed, key=offers.passed_over.__getitem__) if passed and len(passed) == len(able) else None
        for agent_id in able:
            if agent_id in offers.pending:
                whys[agent_id] = "pending offer"
            elif agent_id in offers.passed_over and agent_id != again:
                whys[agent_id] = "passed it over during this stay"
    not_eligible = [
        NotEligibleAgent(member.agent.id, member.agent.display_name, why)
        for member in members if (why := whys[member.agent.id]) is not None
    ]
    refused = {agent.agent_id for agent in not_eligible}
    names = {member.agent.id: member.agent.display_name for member in members}
    eligible = [
        EligibleAgent(candidate.agent_id, names[candidate.agent_id], candidate.load, score(candidate.levels, required))
        for candidate in ranked(
            algorithm, [member.candidate for member in members if member.agent.id not in refused],
            required=required, last_order=last_order,
        )
    ]
    return Standing(eligible, not_eligible)


def _why_not(member: _Member, required: Sequence[RequiredSkill]) -> str | None:
    """The first reason the member may not take it, in the order auto-assignment checks."""
    agent, candidate = member.agent, member.candidate
    if not agent.enabled:
        return "disabled"
    if agent.status != AgentStatus.ACTIVE.value:
        return f"not ACTIVE ({agent.status})"
    if not candidate.has_room:
        return f"full ({candidate.load}/{candidate.capacity})"
    return why_not(candidate.levels, required)
