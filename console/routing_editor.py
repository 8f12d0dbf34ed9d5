"""The routing editor (supervisors): the ordered rules as one form, simulated before saving.

The draft lives in the form itself: every button posts the whole rule list back, and the
page comes back with the change made (a rule added, moved, deleted) or with the API's
answer (the simulation, or its refusal shown at each rule's field). Nothing is stored
until "Save", which makes a routing version. A rule's required skills are rows of the same
form (console.skill_rows), each with a Remove button (action `unskill-<rule>-<row>`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from console.client import Api, Refusal, api
from console.forms import FormProblem, form_values
from console.lookups import live_queues, queues_by_id, strict_json
from console.render import page, pager, redirect
from console.session import check_csrf, require_supervisor
from console.skill_rows import REQUIRED, posted, required_body, required_rows
from domain.expressions import _ALLOWED as OPERATORS_BY_KIND  # the compiler's own table, read only
from domain.expressions import ATTRIBUTES, COMPARISONS, CUSTOM_ATTRIBUTE_PREFIX, LOGICAL
from domain.models import Priority

router = APIRouter(dependencies=[Depends(require_supervisor), Depends(check_csrf)])
ROUTING = "/ccaas/1/routing"
RULE_FIELDS = ("name", "queueId", "priority", "expression", "requiredSkills")
DEFAULT_RECENT = 100
VERSIONS_PAGE = 50
NEW_RULE_EXPRESSION = '{"$eq": {"message.channel": "WHATSAPP"}}'


@dataclass
class DraftRule:
    id: str | None
    name: str
    queue_id: str
    priority: str
    enabled: bool
    expression_text: str
    working_hours_only: bool = False  # routeOnlyDuringWorkingHours
    skills: list[dict[str, str]] = field(default_factory=list)  # requiredSkills, as skill_rows' rows
    errors: dict[str, list[str]] = field(default_factory=dict)  # by field; expression: "path: message"

    def body(self) -> dict[str, Any]:
        rule = {"name": self.name, "queueId": self.queue_id, "priority": self.priority,
                "enabled": self.enabled, "expression": strict_json(self.expression_text),
                "routeOnlyDuringWorkingHours": self.working_hours_only,
                "requiredSkills": required_body(self.skills, "requiredSkills")}
        return {"id": self.id, **rule} if self.id else rule


def from_routes(routes: list[dict]) -> list[DraftRule]:
    return [DraftRule(route["id"], route["name"], route["queueId"], route["priority"], route["enabled"],
                      json.dumps(route["expression"], indent=2), route["routeOnlyDuringWorkingHours"],
                      skills=required_rows(route.get("requiredSkills") or []))
            for route in routes]


def small_number(values: dict[str, str], name: str, default: int) -> int:
    """A hidden or numeric field the page itself fills in: anything odd is the default."""
    text = values.get(name, "")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else default


def from_form(values: dict[str, str]) -> list[DraftRule]:
    def text(name: str) -> str:
        return values.get(name, "")

    # A required skill's Remove button: unskill-<rule>-<row>.
    verb, _, where = text("action").partition("-")
    rule_number, _, row = where.partition("-")
    return [
        DraftRule(text(f"rules-{i}-id") or None, text(f"rules-{i}-name").strip(), text(f"rules-{i}-queueId"),
                  text(f"rules-{i}-priority"), bool(text(f"rules-{i}-enabled")), text(f"rules-{i}-expression"),
                  bool(text(f"rules-{i}-workingHoursOnly")),
                  skills=posted(values, f"rules-{i}-skills", REQUIRED,
                                row if verb == "unskill" and rule_number == str(i) else None))
        for i in range(min(small_number(values, "count", 0), 999))
    ]


def check_json(rules: list[DraftRule]) -> bool:
    """Expressions must at least be JSON, and skills' numbers numbers, before the API can judge them."""
    for rule in rules:
        try:
            strict_json(rule.expression_text)
        except ValueError as exc:
            rule.errors["expression"] = [f"not valid JSON: {exc}"]
        try:
            required_body(rule.skills)
        except FormProblem as problem:
            rule.errors["requiredSkills"] = [f"{problem.path.removeprefix('requiredSkills')}: {problem.message}"]
    return not any(rule.errors for rule in rules)


def place_errors(rules: list[DraftRule], refusal: Refusal, prefix: str = "") -> dict[str, list[str]]:
    """Puts each of the API's messages at its rule and field; returns those that have no place."""
    unplaced: dict[str, list[str]] = {}
    for path, messages in refusal.fields.items():
        local = path[len(prefix):] if path.startswith(prefix) else path
        position, _, rest = local[1:].partition("]") if local.startswith("[") else ("", "", "")
        if not position.isdigit() or int(position) >= len(rules):
            unplaced[path] = messages
            continue
        name, _, inner = rest.lstrip(".").partition(".")
        name, bracket, index = name.partition("[")  # e.g. "expression.$and[1]" or "expression"
        target = name if name in RULE_FIELDS else "rule"
        where = (bracket + index + ("." if inner and bracket else "") + inner) if target in (
            "expression", "requiredSkills") else ""
        rules[int(position)].errors.setdefault(target, []).extend(
            f"{where}: {message}" if where else message for message in messages)
    return unplaced


def apply_edit(rules: list[DraftRule], action: str) -> None:
    """add, delete-N, up-N, down-N: the editing buttons."""
    if action == "add":
        rules.append(DraftRule(None, "", "", Priority.NORMAL.value, True, NEW_RULE_EXPRESSION))
        return
    verb, _, number = action.partition("-")
    if not number.isdigit() or int(number) >= len(rules):
        return
    index = int(number)
    if verb == "delete":
        del rules[index]
    elif verb == "up" and index > 0:
        rules[index - 1], rules[index] = rules[index], rules[index - 1]
    elif verb == "down" and index < len(rules) - 1:
        rules[index + 1], rules[index] = rules[index], rules[index + 1]


# The expression language at a glance, from the compiler's own tables.
EXPRESSION_HELP = {
    "attributes": [(name, attribute.kind.value, attribute.values) for name, attribute in ATTRIBUTES.items()]
    + [(CUSTOM_ATTRIBUTE_PREFIX + "<name>", "scalar", ())],
    "comparisons": COMPARISONS,
    "logical": LOGICAL,
}

# What the condition builder (console.js) offers: every attribute with its kind and values, the
# operators each kind allows, and the comparisons.
BUILDER_LANGUAGE = {
    # A list: the page's JSON has its keys sorted, and the builder offers them in this order.
    "attributes": [{"name": name, "kind": attribute.kind.value, "values": list(attribute.values)}
                   for name, attribute in ATTRIBUTES.items()],
    "customPrefix": CUSTOM_ATTRIBUTE_PREFIX,
    "operators": {kind.value: list(operators) for kind, operators in OPERATORS_BY_KIND.items()},
    "comparisons": list(COMPARISONS),
    "logical": list(LOGICAL),
}


async def editor(request: Request, client: Api, rules: list[DraftRule], *, version: int, status_code: int = 200,
                 refusal: Refusal | None = None, simulation: dict | None = None, recent: int = DEFAULT_RECENT):
    queues = await queues_by_id(client, [rule.queue_id for rule in rules])
    return page(request, "routing_editor.html", status_code=status_code, title="Routing", section="routing",
                rules=rules, version=version, queues=queues, refusal=refusal, simulation=simulation,
                help=EXPRESSION_HELP, language=BUILDER_LANGUAGE, recent=recent,
                priorities=[p.value for p in reversed(Priority)], live_queues=live_queues(queues))


@router.get("/console/routing")
async def show_editor(request: Request, client: Api = Depends(api)):
    routing = await client.read(ROUTING)
    return await editor(request, client, from_routes(routing["routes"]), version=routing["version"])


@router.post("/console/routing")
async def edit(request: Request, client: Api = Depends(api)):
    form = await form_values(request)
    rules = from_form(form)
    action = form.get("action", "")
    version = small_number(form, "version", 0)
    recent = small_number(form, "recent", DEFAULT_RECENT)
    if action not in ("simulate", "save"):
        apply_edit(rules, action)
        return await editor(request, client, rules, version=version, recent=recent)
    if not check_json(rules):
        return await editor(request, client, rules, version=version, status_code=400, recent=recent,
                            refusal=Refusal(400, "Some expressions are not JSON, or skills' numbers not numbers; "
                                                 "nothing was sent"))
    draft = [rule.body() for rule in rules]
    if action == "save":
        in_force = (await client.read(ROUTING))["version"]
        if in_force != version:
            # Saved by someone else since this draft was loaded: say so once; a second Save
            # (now against the newer version) replaces it knowingly.
            text = (f"Version {in_force} was saved while you edited (this draft started from version {version}). "
                    "Compare them under Versions; Save again to replace it with this draft.")
            return await editor(request, client, rules, version=in_force, status_code=409, recent=recent,
                                refusal=Refusal(409, text))
        answer = await client.call("PUT", ROUTING, json=draft)
        if answer.ok:
            return redirect(f"/console/routing/versions?saved={answer.body['version']}")
        prefix = ""
    else:
        answer = await client.call("POST", f"{ROUTING}/simulate",
                                   json={"rules": draft, "recent": max(1, min(recent, 1000))})
        prefix = "rules"
    refusal = answer.refusal
    if refusal:
        refusal.fields = place_errors(rules, refusal, prefix)
        return await editor(request, client, rules, version=version, status_code=refusal.status,
                            refusal=refusal, recent=recent)
    return await editor(request, client, rules, version=version, simulation=answer.body, recent=recent)


@router.get("/console/routing/versions")
async def versions(request: Request, page_number: int = Query(default=0, alias="page", ge=0, le=100_000),
                   saved: int | None = None, client: Api = Depends(api)):
    listing = await client.read(f"{ROUTING}/versions", {"page": page_number, "limit": VERSIONS_PAGE})
    total = listing["pagination"]["totalItems"]
    return page(request, "routing_versions.html", title="Routing versions", section="routing",
                versions=listing["versions"], saved=saved, total=total,
                pager=pager("/console/routing/versions", {}, page_number, VERSIONS_PAGE, total))


@router.get("/console/routing/diff")
async def diff(request: Request, a: int = Query(ge=0), b: int = Query(ge=0), client: Api = Depends(api)):
    changes = await client.read(f"{ROUTING}/versions/{a}/diff/{b}")
    return page(request, "routing_diff.html", title=f"Routing version {a} → {b}", section="routing",
                diff=changes, a=a, b=b, queues=await queues_by_id(client, [
                    rule["queueId"] for rule in changes["added"] + changes["removed"]]))
