"""POST /ccaas/1/routing/simulate: what a draft routing would do to real traffic, before it
is saved. Nothing is changed."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter
from pydantic import Field, model_validator
from sqlmodel import Session

from api.deps import SessionDep
from api.errors import ApiError, bad_request
from api.rule_lists import MAX_RULES, MAX_VERSION, new_rules
from api.schemas import ApiInput, ApiModel, IsoTime, as_utc
from domain.models import Priority, RoutingDecision, utcnow
from domain.routing import CompiledRouting, compile_routing, evaluate
from store import queues as queue_store
from store import routing as routing_store
from store import simulation as simulation_store
from store.tables import RoutingVersionRow

router = APIRouter(prefix="/ccaas/1/routing", tags=["routing"])

MAX_SUBJECTS = 1000


class SimulationIn(ApiInput):
    # The routing to try: a draft rule list (validated like a PUT), or a saved version.
    rules: list[Any] | None = Field(default=None, max_length=MAX_RULES)
    version: int | None = Field(default=None, ge=0, le=MAX_VERSION)
    # What to try it on: explicit facts, given conversations, or the most recent ones.
    facts: list[dict[str, Any]] | None = Field(default=None, min_length=1, max_length=MAX_SUBJECTS)
    conversation_ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_SUBJECTS)
    recent: int | None = Field(default=None, ge=1, le=MAX_SUBJECTS)
    # When to route them: rules that route only during working hours see their queues as
    # they would be then ("where would this go on Sunday at 03:00?"). Default: now.
    at: IsoTime | None = None

    @model_validator(mode="after")
    def _one_of_each(self) -> SimulationIn:
        if self.rules is not None and self.version is not None:
            raise ValueError("give either rules or version, not both")
        subjects = [self.facts, self.conversation_ids, self.recent]
        if sum(subject is not None for subject in subjects) != 1:
            raise ValueError("give exactly one of facts, conversationIds, recent")
        return self


class Placement(ApiModel):
    queue_id: str
    queue_name: str | None
    priority: Priority | None
    route_id: str | None
    route_name: str | None


class Outcome(ApiModel):
    subject: str
    now: Placement
    draft: Placement
    moves: bool


class Move(ApiModel):
    from_queue_id: str
    from_queue_name: str | None
    to_queue_id: str
    to_queue_name: str | None
    count: int


class SimulationSummary(ApiModel):
    total: int
    moved: int
    # Each move from one queue to another, most frequent first.
    moves: list[Move]


class SimulationResultOut(ApiModel):
    current_version: int
    # The saved version tried, or null for a draft rule list.
    draft_version: int | None
    results: list[Outcome]
    # Conversations asked for that were never routed: nothing to replay.
    not_routed: list[str]
    summary: SimulationSummary


def _draft(session: Session, body: SimulationIn) -> CompiledRouting:
    if body.version is not None:
        # A field of the body, not a resource of the path: a version that does not exist is
        # bad input, refused at the field, as a queueId that does not exist is.
        if body.version and session.get(RoutingVersionRow, body.version) is None:
            raise bad_request("version", f"there is no routing version {body.version}")
        return compile_routing(body.version, routing_store.version_rules(
            session.get(RoutingVersionRow, body.version)))
    if body.rules is None:
        raise bad_request("rules", "give a draft rule list or a version to compare with the routing in force")
    try:
        return compile_routing(0, new_rules(session, body.rules))
    except ApiError as refused:
        errors = {f"rules{path}": messages for path, messages in (refused.validation_errors or {}).items()}
        raise ApiError(400, "Draft routing refused", errors) from refused


def _subjects(session: Session, body: SimulationIn) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """(label, facts) to try, and the conversations that had nothing to replay."""
    if body.facts is not None:
        return [(f"facts[{index}]", facts) for index, facts in enumerate(body.facts)], []
    if body.conversation_ids is not None:
        ids = body.conversation_ids
    else:
        assert body.recent is not None  # _one_of_each: facts, conversationIds or recent
        ids = simulation_store.recent_conversation_ids(session, body.recent)
    recorded = simulation_store.routed_facts(session, ids)
    return [(cid, recorded[cid]) for cid in ids if cid in recorded], [cid for cid in ids if cid not in recorded]


@router.post("/simulate", response_model=SimulationResultOut)
def simulate(body: SimulationIn, session: SessionDep):
    current = routing_store.RoutingLoader().current(session)
    draft = _draft(session, body)
    subjects, not_routed = _subjects(session, body)
    skip = {queue_id: "target queue was deleted" for queue_id in current.deleted_queue_ids}
    at = as_utc(body.at) if body.at is not None else utcnow()
    closed = routing_store.closed_queues(
        session, current.compiled.queues_with_hours() | draft.queues_with_hours(), at)

    def decide(routing: CompiledRouting, facts: dict[str, Any]) -> RoutingDecision:
        return evaluate(routing, facts, default_queue_id=current.default_queue_id,
                        skip_queues=skip, closed_queues=closed, trace=False)

    decisions = [(label, decide(current.compiled, facts), decide(draft, facts)) for label, facts in subjects]
    queue_names = queue_store.live_queue_names(
        session, {d.queue_id for _, now, new in decisions for d in (now, new)})
    rule_names = {c.rule.id: c.rule.name for routing in (current.compiled, draft) for c in routing.rules}

    def placement(decision: RoutingDecision) -> Placement:
        return Placement(
            queue_id=decision.queue_id, queue_name=queue_names.get(decision.queue_id),
            priority=decision.priority,
            route_id=decision.route_id,
            route_name=rule_names.get(decision.route_id) if decision.route_id is not None else None,
        )

    moves = Counter((now.queue_id, new.queue_id) for _, now, new in decisions if now.queue_id != new.queue_id)
    return {
        "currentVersion": current.compiled.version,
        "draftVersion": body.version,
        "results": [
            Outcome(subject=label, now=placement(now), draft=placement(new),
                    moves=now.queue_id != new.queue_id).model_dump(by_alias=True)
            for label, now, new in decisions
        ],
        "notRouted": not_routed,
        "summary": {
            "total": len(decisions),
            "moved": sum(moves.values()),
            "moves": [
                Move(from_queue_id=src, from_queue_name=queue_names.get(src), to_queue_id=dst,
                     to_queue_name=queue_names.get(dst), count=count).model_dump(by_alias=True)
                for (src, dst), count in moves.most_common()
            ],
        },
    }
