"""/ccaas/1/routing: one ordered rule list, replaced whole; its versions and settings."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from pydantic import Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.auth import Principal
from api.deps import PrincipalDep, SessionDep
from api.errors import ApiError, bad_request, not_found
from api.paging import MAX_LIMIT, order_by_param, parse_paging
from api.query_params import QueryBool, split_values
from api.rule_lists import MAX_RULES, MAX_VERSION, RuleIn, new_rules
from api.schemas import (
    ApiInput,
    ApiModel,
    IsoTime,
    Pagination,
    StatusCodeOut,
    UtcTime,
    pagination,
    read_only,
    with_status,
)
from api.skill_requirements import SkillRequirementOut
from domain.models import ActorType, Priority, RoutingRule
from store import queues as queue_store
from store import routing as routing_store
from store.tables import RoutingVersionRow

router = APIRouter(prefix="/ccaas/1/routing", tags=["routing"])

# Routing comes back whole by default: one page of the largest limit holds it (MAX_RULES).
WHOLE_LIST = MAX_LIMIT


class RuleOut(ApiModel):
    id: str
    order: int
    name: str
    queue_id: str
    queue_name: str | None
    expression: Any
    priority: Priority
    enabled: bool
    route_only_during_working_hours: bool
    is_private: bool
    required_skills: list[SkillRequirementOut]
    created_at: UtcTime | None
    updated_at: UtcTime | None


class Author(ApiModel):
    type: ActorType
    id: str | None
    name: str | None


class VersionSummary(ApiModel):
    number: int
    author: Author
    created_at: UtcTime
    routes_count: int


class VersionListOut(ApiModel):
    versions: list[VersionSummary]
    pagination: Pagination


class VersionOut(VersionSummary):
    """A version and its rules, in their order."""

    routes: list[RuleOut]


class RoutingOut(ApiModel):
    """A page of the routing in force: `order` is each rule's place in the whole routing."""

    routes: list[RuleOut]
    version: int
    pagination: Pagination


class RoutingWithStatus(StatusCodeOut, RoutingOut):
    """The routing in force after a PUT or DELETE, with Infobip's StatusCodeResponse fields."""


class VersionRef(ApiModel):
    """One side of a diff. Version 0, the empty routing of a fresh install, has no author or time."""

    number: int
    author: Author | None
    created_at: UtcTime | None
    routes_count: int


# A field's difference between two versions. FieldChange and RuleChange (and `changes`,
# `changed`) are the OpenAPI document's names, which clients use: they keep the word.
class FieldChange(ApiModel):
    field: str
    from_: Any = Field(alias="from")
    to: Any


class RuleChange(ApiModel):
    id: str
    # The rule's name in the `to` version (a rename shows as a change of `name`).
    name: str
    changes: list[FieldChange]


class VersionDiff(ApiModel):
    from_: VersionRef = Field(alias="from")
    to: VersionRef
    # Rules of `to` whose id is not in `from`, as `to` has them, in its order.
    added: list[RuleOut]
    # Rules of `from` whose id is not in `to`, as `from` had them, in its order.
    removed: list[RuleOut]
    # Rules in both whose compared fields differ, in the order of `to`.
    changed: list[RuleChange]
    unchanged: int


# What a diff compares, in the order it reports changes; `order` is the 1-based position.
DIFF_FIELDS = (
    "name", "queueId", "expression", "priority", "enabled", "routeOnlyDuringWorkingHours",
    "isPrivate", "requiredSkills", "order",
)


class SettingsIn(ApiInput):
    default_queue_id: str = Field(min_length=1, max_length=36)
    # The fetched settings sent back: their answer-only fields are tolerated and ignored.
    default_queue_name: str | None = read_only()
    updated_at: IsoTime | None = read_only()


class SettingsOut(ApiModel):
    default_queue_id: str
    default_queue_name: str | None
    updated_at: UtcTime


def rules_out(
    session: Session, rules: list[RoutingRule], orders: list[int] | None = None
) -> list[dict[str, Any]]:
    """Each rule with its 1-based place in its routing (`orders`, or its place in `rules`)."""
    names = queue_store.live_queue_names(session, {rule.queue_id for rule in rules})
    return [
        RuleOut.of(rule, order=order, queue_name=names.get(rule.queue_id), required_skills=[
            SkillRequirementOut.of(requirement) for requirement in rule.required_skills
        ]).model_dump(by_alias=True)
        for order, rule in zip(orders or range(1, len(rules) + 1), rules, strict=True)
    ]


def routing_page(
    session: Session, number: int, rules: list[RoutingRule], page: int, limit: int,
    rule_ids: list[str] | None = None, enabled: bool | None = None,
):
    """A page of the rules that pass the filters; `order` stays each rule's place in the whole
    routing, and `totalItems` counts the rules that pass."""
    paging = parse_paging(page, limit, None, {"order"}, "order:asc")
    wanted = set(rule_ids) if rule_ids else None
    kept = [
        (order, rule) for order, rule in enumerate(rules, start=1)
        if (wanted is None or rule.id in wanted) and (enabled is None or rule.enabled == enabled)
    ]
    shown = kept[paging.offset : paging.offset + paging.limit]
    return {
        "routes": rules_out(session, [rule for _, rule in shown], [order for order, _ in shown]),
        "version": number,
        "pagination": pagination(len(kept), paging.page, paging.limit, paging.order_by),
    }


def _version_summary(row: RoutingVersionRow) -> dict[str, Any]:
    return VersionSummary(
        number=row.number,
        author=Author(type=row.author_type, id=row.author_id, name=row.author_name),
        created_at=row.created_at,
        routes_count=len(row.rules),
    ).model_dump(by_alias=True)


def _save(session: Session, rules: list[RoutingRule], principal: Principal) -> int:
    try:
        row = routing_store.save_version(session, rules, principal.actor)
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise ApiError(409, "Routing was changed by another request at the same time; try again") from error
    return row.number


@router.get("", response_model=RoutingOut)
def get_routing(
    session: SessionDep,
    rule_ids: list[str] | None = Query(
        default=None, alias="ruleIds", description="Repeatable, or comma-separated"
    ),
    enabled: QueryBool = None,
    page: int = 0,
    # Infobip's GET /routing has no paging: the whole list unless a page is asked for.
    limit: int = WHOLE_LIST,
):
    number, rules = routing_store.current_version(session)
    return routing_page(session, number, rules, page, limit, split_values(rule_ids), enabled)


RULES_SCHEMA = {
    "type": "array",
    "maxItems": MAX_RULES,
    "items": RuleIn.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}"),
}


@router.put(
    "",
    response_model=RoutingWithStatus,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": RULES_SCHEMA}}}
    },
)
def replace_routing(
    principal: PrincipalDep,
    session: SessionDep,
    body: Annotated[list[Any], Body(max_length=MAX_RULES)],
):
    rules = new_rules(session, body)
    number = _save(session, rules, principal)
    return with_status(routing_page(session, number, rules, 0, WHOLE_LIST), "Routing saved")


@router.delete("", response_model=RoutingWithStatus)
def delete_routing(principal: PrincipalDep, session: SessionDep):
    number = _save(session, [], principal)
    return with_status(routing_page(session, number, [], 0, WHOLE_LIST), "Routing deleted")


@router.get("/versions", response_model=VersionListOut)
def list_versions(
    session: SessionDep,
    page: int = 0,
    limit: int = 20,
    order_by: str | None = order_by_param(["number"]),
):
    paging = parse_paging(page, limit, order_by, {"number"}, "number:desc")
    rows, total = routing_store.list_versions(
        session, offset=paging.offset, limit=paging.limit, descending=paging.descending
    )
    return {
        "versions": [_version_summary(row) for row in rows],
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }


@router.get("/versions/{number}", response_model=VersionOut)
def get_version(
    session: SessionDep,
    number: Annotated[int, Path(ge=0, le=MAX_VERSION)],
):
    row = session.get(RoutingVersionRow, number)
    if row is None:
        raise not_found("Routing version")
    version = _version_summary(row)
    version["routes"] = rules_out(session, routing_store.version_rules(row))
    return version


def _same_json(left: Any, right: Any) -> bool:
    """JSON equality without Python's 1 == 1.0 == True; object key order does not count."""
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def _diff_side(session: Session, number: int) -> tuple[VersionRef, list[RuleOut]] | None:
    """A version and its rules as RuleOut, or None if there is no such version."""
    if number == 0:
        return VersionRef(number=0, author=None, created_at=None, routes_count=0), []
    row = session.get(RoutingVersionRow, number)
    if row is None:
        return None
    ref = VersionRef(
        number=row.number,
        author=Author(type=row.author_type, id=row.author_id, name=row.author_name),
        created_at=row.created_at,
        routes_count=len(row.rules),
    )
    rules = [RuleOut.model_validate(rule) for rule in rules_out(session, routing_store.version_rules(row))]
    return ref, rules


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    return [
        FieldChange(field=field, from_=old[field], to=new[field])
        for field in DIFF_FIELDS
        if not _same_json(old[field], new[field])
    ]


@router.get("/versions/{a}/diff/{b}", response_model=VersionDiff)
def diff_versions(
    session: SessionDep,
    a: Annotated[int, Path(ge=0, le=MAX_VERSION, description="From this version (0: the empty routing)")],
    b: Annotated[int, Path(ge=0, le=MAX_VERSION, description="To this version; may be lower than a")],
) -> VersionDiff:
    """What changed from version a to version b: rules added, removed and changed field by field
    (matched by rule id), with each version's author and time."""
    sides = {number: _diff_side(session, number) for number in dict.fromkeys((a, b))}
    found = {number: side for number, side in sides.items() if side is not None}
    missing = [str(number) for number in sides if number not in found]
    if missing:
        which = f"version {missing[0]}" if len(missing) == 1 else f"versions {' and '.join(missing)}"
        raise ApiError(404, f"Routing {which} not found")
    (from_ref, from_rules), (to_ref, to_rules) = found[a], found[b]
    old = {rule.id: rule.model_dump(mode="json", by_alias=True) for rule in from_rules}
    new_ids = {rule.id for rule in to_rules}
    changed = []
    unchanged = 0
    for rule in to_rules:
        if rule.id not in old:
            continue
        changes = _differences(old[rule.id], rule.model_dump(mode="json", by_alias=True))
        if changes:
            changed.append(RuleChange(id=rule.id, name=rule.name, changes=changes))
        else:
            unchanged += 1
    return VersionDiff(
        from_=from_ref,
        to=to_ref,
        added=[rule for rule in to_rules if rule.id not in old],
        removed=[rule for rule in from_rules if rule.id not in new_ids],
        changed=changed,
        unchanged=unchanged,
    )


@router.get("/settings", response_model=SettingsOut)
def get_settings(session: SessionDep) -> SettingsOut:
    queue_id = routing_store.default_queue_id(session)
    row = routing_store.settings_row(session)
    return SettingsOut(
        default_queue_id=queue_id,
        default_queue_name=queue_store.live_queue_names(session, {queue_id}).get(queue_id),
        updated_at=row.updated_at,
    )


@router.put("/settings", response_model=SettingsOut)
def put_settings(body: SettingsIn, session: SessionDep) -> SettingsOut:
    queue = queue_store.live_queue(session, body.default_queue_id)
    if queue is None:
        raise bad_request("defaultQueueId", "unknown or deleted queue")
    if queue.bot_id is not None:
        # Routing after a bot falls back here: a bot queue would send it back to a bot.
        raise bad_request("defaultQueueId", "a queue served by a bot cannot be the default queue")
    row = routing_store.set_default_queue_id(session, queue.id)
    session.commit()
    return SettingsOut(default_queue_id=queue.id, default_queue_name=queue.name, updated_at=row.updated_at)
