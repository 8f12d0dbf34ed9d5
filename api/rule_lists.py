"""A rule list as the API takes it (`PUT /routing`, a simulation's draft): each rule checked,
every problem reported at once (400, by the rule's place in the body), the rules built."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field, JsonValue, StrictBool, ValidationError
from sqlmodel import Session

from api.errors import ApiError, validation_errors_of
from api.paging import MAX_LIMIT
from api.schemas import ApiInput, Echoed, IsoTime, read_only
from api.skill_requirements import RequiredSkillsIn
from domain.models import Priority, RoutingRule, utcnow
from domain.routing import RoutingValidationError, compile_routing
from store import queues as queue_store
from store import routing as routing_store

# Routing is one ordered list and comes back whole by default, so it holds at most what one
# page of the largest limit shows.
MAX_RULES = MAX_LIMIT
# Version numbers are 32-bit in every database we run on.
MAX_VERSION = 2**31 - 1


class RuleIn(ApiInput):
    # Giving the id of a rule in force keeps its identity (and createdAt) across versions.
    id: str | None = Field(default=None, max_length=36)
    # Optional, as in Infobip: a rule without one is named "Route <its order>".
    name: str | None = Field(default=None, min_length=1, max_length=255)
    queue_id: str = Field(min_length=1, max_length=36)
    expression: JsonValue
    priority: Priority = Priority.NORMAL
    enabled: StrictBool = True
    route_only_during_working_hours: StrictBool = False
    is_private: StrictBool = False
    # Skills the conversations it places need, added to any they carry.
    required_skills: RequiredSkillsIn = Field(default_factory=list)
    # A fetched rule sent back: its answer-only fields are tolerated and ignored.
    order: Echoed = read_only()
    queue_name: Echoed = read_only()
    created_at: IsoTime | None = read_only()
    updated_at: IsoTime | None = read_only()


def _parse_rules(body: list[Any], errors: dict[str, list[str]]) -> list[tuple[int, RuleIn]]:
    """Each rule on its own, so one rule's schema error does not hide another's."""
    parsed = []
    for index, item in enumerate(body):
        try:
            parsed.append((index, RuleIn.model_validate(item)))
        except ValidationError as exc:
            for path, messages in validation_errors_of(exc, prefix=(index,)).items():
                errors.setdefault(path, []).extend(messages)
    return parsed


def new_rules(session: Session, body: list[Any]) -> list[RoutingRule]:
    """Checks everything a rule list can get wrong, reports all of it, and builds the rules."""
    errors: dict[str, list[str]] = {}
    parsed = _parse_rules(body, errors)
    _, current = routing_store.current_version(session)
    existing = {rule.id: rule for rule in current}
    live = set(queue_store.live_queue_names(session, {rule.queue_id for _, rule in parsed}))
    seen_ids: set[str] = set()
    now = utcnow()
    rules = []
    indexes = []
    for index, rule_in in parsed:
        if rule_in.queue_id not in live:
            errors.setdefault(f"[{index}].queueId", []).append("unknown or deleted queue")
        if rule_in.id is not None:
            if rule_in.id not in existing:
                errors.setdefault(f"[{index}].id", []).append("not a rule of the routing in force")
            elif rule_in.id in seen_ids:
                errors.setdefault(f"[{index}].id", []).append("given twice")
            seen_ids.add(rule_in.id)
        fields = rule_in.model_dump(exclude={"id"})
        if fields["name"] is None:
            fields["name"] = f"Route {index + 1}"
        previous = existing.get(rule_in.id) if rule_in.id else None
        unchanged = previous is not None and previous.model_dump(
            exclude={"id", "created_at", "updated_at"}
        ) == RoutingRule(id="", **fields).model_dump(exclude={"id", "created_at", "updated_at"})
        rules.append(
            RoutingRule(
                id=previous.id if previous else str(uuid.uuid4()),
                created_at=previous.created_at if previous else now,
                updated_at=previous.updated_at if previous and unchanged else now,
                **fields,
            )
        )
        indexes.append(index)
    try:
        compile_routing(0, rules)
    except RoutingValidationError as exc:
        # compile_routing numbers the rules it was given; name them by their place in the body.
        for path, messages in exc.errors.items():
            position, _, rest = path[1:].partition("]")
            errors.setdefault(f"[{indexes[int(position)]}]{rest}", []).extend(messages)
    if errors:
        raise ApiError(400, "Routing refused; the routing in force is unchanged", errors)
    return rules
