"""Queues: the list (an agent sees its own, read only), and a supervisor's create, settings,
delete and default queue. The queue's conversations are board.py's page at /console/queues/{id}.

A queue's escalation ladder is edited in both forms as rows of plain inputs,
`escalation-<n>-after|priority|queueId` (the after as minutes, or minutes:seconds); a blank
row is no step. /console/queues/{id}/escalation shows the ladder in words and, to supervisors,
the API's dry run of when each waiting conversation escalates next."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast

from annotated_types import Ge, Le
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from api.auth import Principal
from api.queues import DEFAULT_MAX_MISSED_OFFERS, DEFAULT_TARGET_PERCENT, DEFAULT_TARGET_SECONDS, QueueIn
from console.client import Api, Refusal, api
from console.forms import FormProblem, act, indexed_rows, item_errors, numbered_rows, optional, whole_number
from console.lookups import live_queues, queues_by_id, visible_queue_ids
from console.render import duration, page, parse_time, when
from console.session import check_csrf, console_user, require_supervisor
from domain.assignment import DEFAULT_STICKY_DAYS, AutoAssignmentAlgorithm
from domain.conversation import DEFAULT_BOT_TIMEOUT_SECONDS
from domain.models import MAX_ESCALATION_STEPS, Priority

router = APIRouter(dependencies=[Depends(console_user), Depends(check_csrf)])
supervisors = [Depends(require_supervisor)]
QUEUES = "/ccaas/1/queues"
SETTINGS = "/ccaas/1/routing/settings"
BOTS = "/ccaas/1/bots"
OUTSIDE_HOURS = "isAutoAssignmentOutsideOfWorkingHoursEnabled"
CHECKBOXES = ("isAutoAssignmentEnabled", "isStickyAutoAssignmentEnabled", OUTSIDE_HOURS)
HOURS = "/ccaas/1/working-hours"
ALGORITHM_NAMES = {AutoAssignmentAlgorithm.LOAD_BALANCING: "Load balancing (default)",
                   AutoAssignmentAlgorithm.ROUND_ROBIN: "Round robin",
                   AutoAssignmentAlgorithm.PERFORMANCE_BASED: "Performance based (balances load)"}
ALGORITHM_CHOICES = [(algorithm.value, ALGORITHM_NAMES[algorithm]) for algorithm in AutoAssignmentAlgorithm]
# The escalation rows: the hidden field that says the form has them, and each row's fields.
ESCALATION = "escalation"
STEP_FIELDS = ("after", "priority", "queueId")
AFTER = re.compile(r"(\d{1,5})(?::([0-5]\d))?")
PRIORITY_CHOICES = [("", "Keep")] + [(priority.value, priority.value) for priority in Priority]


def bounds(model: type[BaseModel], field: str) -> tuple[int, int]:
    """A whole-number field's (least, greatest) as the API checks them, for the form's hint."""
    metadata = model.model_fields[field].metadata
    least = next(item.ge for item in metadata if isinstance(item, Ge))
    greatest = next(item.le for item in metadata if isinstance(item, Le))
    return cast(int, least), cast(int, greatest)


# What queue_fields (directory_macros.html) offers and says, in the create and the edit form.
FORM_CHOICES = {"algorithm_choices": ALGORITHM_CHOICES, "sticky_days": bounds(QueueIn, "sticky_agent_timeout_days"),
                "default_sticky_days": DEFAULT_STICKY_DAYS, "offer_seconds": bounds(QueueIn, "offer_timeout_seconds"),
                "missed_offers": bounds(QueueIn, "max_missed_offers"),
                "default_missed_offers": DEFAULT_MAX_MISSED_OFFERS,
                "service_level": {"seconds": bounds(QueueIn, "service_level_target_seconds"),
                                  "percent": bounds(QueueIn, "service_level_target_percent"),
                                  "default_seconds": DEFAULT_TARGET_SECONDS, "default_percent": DEFAULT_TARGET_PERCENT}}
# The service level target's boxes: like "missed offers", empty is not sent (the default on POST, kept on PUT).
TARGET_FIELDS = ("serviceLevelTargetSeconds", "serviceLevelTargetPercent")


def queue_body(values: dict[str, str]) -> dict:
    """The form as the API's body, for POST and for PUT (which changes only the fields given,
    so what the console does not edit, like externalId, keeps its value). Empty boxes are the
    API's defaults: a bot timeout of 600 seconds, sticky for 7 days (null: PUT clears it), no
    offers (null: PUT turns them off). An empty "missed offers" or service level target is not
    sent: the default on POST, the value kept on PUT (which refuses null there)."""
    timeout = whole_number(values, "botTimeoutSeconds")
    missed = whole_number(values, "maxMissedOffers")
    targets = {name: whole_number(values, name) for name in TARGET_FIELDS}
    return {
        "name": values.get("name", "").strip(), "botId": optional(values, "botId"),
        "botTimeoutSeconds": DEFAULT_BOT_TIMEOUT_SECONDS if timeout is None else timeout,
        "isAutoAssignmentEnabled": bool(values.get("isAutoAssignmentEnabled")),
        "autoAssignmentAlgorithm": optional(values, "autoAssignmentAlgorithm"),
        "isStickyAutoAssignmentEnabled": bool(values.get("isStickyAutoAssignmentEnabled")),
        "stickyAgentTimeoutDays": whole_number(values, "stickyAgentTimeoutDays"),
        "offerTimeoutSeconds": whole_number(values, "offerTimeoutSeconds"),
        **({"maxMissedOffers": missed} if missed is not None else {}),
        **{name: target for name, target in targets.items() if target is not None},
        # Both forms have the escalation rows; a form posted without them keeps the ladder.
        **({"escalation": escalation_body(values)} if ESCALATION in values else {}),
        # Only the settings form has these (none: the default hours, if any).
        **({"workingHoursId": optional(values, "workingHoursId"),
            "isAutoAssignmentOutsideOfWorkingHoursEnabled": bool(values.get(OUTSIDE_HOURS))}
           if "workingHoursId" in values else {}),
    }


def queue_values(queue: dict) -> dict[str, str]:
    return {"name": queue["name"], "botId": queue["botId"] or "",
            "botTimeoutSeconds": str(queue["botTimeoutSeconds"]),
            "isAutoAssignmentEnabled": "on" if queue["isAutoAssignmentEnabled"] else "",
            "autoAssignmentAlgorithm": queue["autoAssignmentAlgorithm"] or AutoAssignmentAlgorithm.LOAD_BALANCING.value,
            "isStickyAutoAssignmentEnabled": "on" if queue["isStickyAutoAssignmentEnabled"] else "",
            "stickyAgentTimeoutDays": str(queue["stickyAgentTimeoutDays"] or ""),
            "offerTimeoutSeconds": str(queue["offerTimeoutSeconds"] or ""),
            "maxMissedOffers": str(queue["maxMissedOffers"]),
            **{name: str(queue[name]) for name in TARGET_FIELDS},
            "workingHoursId": queue["workingHoursId"] or "",
            OUTSIDE_HOURS: "on" if queue["isAutoAssignmentOutsideOfWorkingHoursEnabled"] else "",
            ESCALATION: "rows"} | numbered_rows(ESCALATION, [
                {"after": after_text(step["afterSeconds"]), "priority": step["priority"] or "",
                 "queueId": step["queueId"] or ""} for step in queue.get("escalation") or []])


def as_posted(values: dict[str, str]) -> dict[str, str]:
    """A queue form as it was sent: a checkbox left unticked is not posted at all. Its
    escalation rows are numbered again as they were sent (blank ones dropped), so row i shows
    the API's messages about escalation[i]."""
    kept = {name: value for name, value in values.items() if not name.startswith(ESCALATION + "-")}
    return {name: "" for name in CHECKBOXES} | kept | numbered_rows(
        ESCALATION, indexed_rows(values, ESCALATION, STEP_FIELDS))


def after_text(seconds: int) -> str:
    """1800 -> '30'; 90 -> '1:30': a step's after as the form shows it, in minutes."""
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}:{rest:02d}" if rest else str(minutes)


def after_seconds(text: str, path: str) -> int:
    """'30' -> 1800; '2:30' -> 150. Refused at `path` otherwise (the API judges the bounds)."""
    found = AFTER.fullmatch(text)
    if not text:
        raise FormProblem(path, "after how long? minutes, like 30, or minutes:seconds, like 2:30")
    if not found:
        raise FormProblem(path, f"“{text[:20]}” is not minutes, like 30, or minutes:seconds, like 2:30")
    return int(found.group(1)) * 60 + int(found.group(2) or 0)


def escalation_body(values: dict[str, str]) -> list[dict[str, Any]]:
    """The rows as the API's steps, in the order shown; what a row leaves empty is not sent."""
    steps = []
    for index, row in enumerate(indexed_rows(values, ESCALATION, STEP_FIELDS)):
        step: dict[str, Any] = {"afterSeconds": after_seconds(row["after"], f"escalation[{index}].afterSeconds")}
        step |= {name: row[name] for name in ("priority", "queueId") if row[name]}
        steps.append(step)
    return steps


def escalation_form(values: dict[str, str], refusal: Refusal | None, queues: list[dict],
                    queue_id: str | None = None) -> dict[str, Any]:
    """What the form's escalation rows (queue_escalation_macros.html) show: the steps, each
    one's messages from the API, and the queues a step may move to (not the queue itself)."""
    steps = indexed_rows(values, ESCALATION, STEP_FIELDS)
    choices = [("", "Stay")] + [(queue["id"], queue["name"] + (" (bot)" if queue["botId"] else ""))
                                for queue in live_queues({queue["id"]: queue for queue in queues})
                                if queue["id"] != queue_id]
    offered = {value for value, _ in choices}
    choices += [(step["queueId"], f"unknown or deleted queue {step['queueId']}")
                for step in steps if step["queueId"] not in offered]
    return {"steps": steps, "errors": item_errors(refusal, "escalation"), "queue_choices": choices,
            "priority_choices": PRIORITY_CHOICES, "max_steps": MAX_ESCALATION_STEPS}


def span(seconds: int) -> str:
    """5400 -> '1 h 30 min': a step's after in words, exactly."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    return " ".join(f"{count} {unit}" for count, unit in ((days, "d"), (hours, "h"), (minutes, "min"), (rest, "s"))
                    if count) or "0 s"


def step_words(step: dict[str, Any], names: dict[str, str]) -> str:
    """'after 30 min: priority HIGH, move to Tier 2'."""
    actions = [f"priority {step['priority']}"] if step.get("priority") else []
    if step.get("queueId"):
        actions.append(f"move to {names.get(step['queueId'], 'unknown queue ' + step['queueId'])}")
    return f"after {span(step['afterSeconds'])}: " + ", ".join(actions)


def hours_choices(all_hours: list[dict], chosen: str) -> list[tuple[str, str]]:
    """The working hours a queue may keep; none is the default hours (if enabled), else always open."""
    default = next((hours["name"] for hours in all_hours if hours["isDefault"] and hours["enabled"]), None)
    choices = [("", f"None: the default ({default})" if default else "None: always open (no default hours)")]
    choices += [(hours["id"], hours["name"] + ("" if hours["enabled"] else " (disabled: the default applies)"))
                for hours in all_hours]
    if chosen and chosen not in {hours["id"] for hours in all_hours}:
        choices.append((chosen, f"unknown working hours {chosen}"))
    return choices


def bot_choices(bots: list[dict]) -> list[tuple[str, str]]:
    return [("", "No bot")] + [
        (bot["id"], bot["displayName"] + ("" if bot["enabled"] else " (disabled)")) for bot in bots
    ]


async def queues_page(request: Request, client: Api, principal: Principal, refusal: Refusal | None = None,
                      values: dict[str, str] | None = None):
    queues = await client.read_all(QUEUES, "queues")
    bots = await client.read_all(BOTS, "bots")
    mine = await visible_queue_ids(client, principal)
    shown = {"botTimeoutSeconds": str(DEFAULT_BOT_TIMEOUT_SECONDS), ESCALATION: "rows",
             "autoAssignmentAlgorithm": AutoAssignmentAlgorithm.LOAD_BALANCING.value} | (values or {})
    context = {}
    if mine is None:
        context = {"default_queue_id": (await client.read(SETTINGS))["defaultQueueId"],
                   "bot_choices": bot_choices(bots),
                   "default_choices": [(queue["id"], queue["name"]) for queue in queues if not queue["botId"]]}
    return page(
        request, "directory_queues.html", status_code=refusal.status if refusal else 200,
        title="Queues" if mine is None else "Your queues", section="queues",
        queues=[queue for queue in queues if mine is None or queue["id"] in mine],
        bots={bot["id"]: bot["displayName"] for bot in bots}, refusal=refusal, values=shown,
        escalation=escalation_form(shown, refusal, queues), **FORM_CHOICES, **context,
    )


async def settings_page(request: Request, client: Api, queue_id: str, refusal: Refusal | None = None,
                        values: dict[str, str] | None = None):
    queue = await client.read(f"{QUEUES}/{queue_id}")
    settings = await client.read(SETTINGS)
    shown = queue_values(queue) | (values or {})
    return page(
        request, "directory_queue_settings.html", status_code=refusal.status if refusal else 200,
        title=f"Settings of {queue['name']}", section="queues", queue=queue,
        is_default=settings["defaultQueueId"] == queue_id, bot_choices=bot_choices(await client.read_all(BOTS, "bots")),
        refusal=refusal, values=shown, **FORM_CHOICES,
        escalation=escalation_form(shown, refusal, await client.read_all(QUEUES, "queues"), queue_id),
        hours_choices=hours_choices(await client.read_all(HOURS, "workingHours"), shown["workingHoursId"]),
    )


@router.get("/console/queues")
async def show_queues(request: Request, principal: Principal = Depends(console_user), client: Api = Depends(api)):
    return await queues_page(request, client, principal)


@router.post("/console/queues", dependencies=supervisors)
async def create_queue(request: Request, principal: Principal = Depends(console_user), client: Api = Depends(api)):
    async def again(refusal: Refusal, values: dict[str, str]):
        return await queues_page(request, client, principal, refusal, as_posted(values))

    return await act(request, client, "POST", QUEUES, again, body=queue_body, done="/console/queues")


@router.post("/console/queues/default-queue", dependencies=supervisors)
async def set_default_queue(request: Request, principal: Principal = Depends(console_user),
                            client: Api = Depends(api)):
    return await act(request, client, "PUT", SETTINGS, partial(queues_page, request, client, principal),
                     body=lambda values: {"defaultQueueId": values.get("defaultQueueId", "")},
                     done="/console/queues")


@router.get("/console/queues/{queue_id}/settings", dependencies=supervisors)
async def show_settings(request: Request, queue_id: str, client: Api = Depends(api)):
    return await settings_page(request, client, queue_id)


@router.post("/console/queues/{queue_id}/settings", dependencies=supervisors)
async def save_settings(request: Request, queue_id: str, client: Api = Depends(api)):
    async def again(refusal: Refusal, values: dict[str, str]):
        return await settings_page(request, client, queue_id, refusal, as_posted(values))

    return await act(request, client, "PUT", f"{QUEUES}/{queue_id}", again, body=queue_body, done="/console/queues")


@router.post("/console/queues/{queue_id}/delete", dependencies=supervisors)
async def delete_queue(request: Request, queue_id: str, client: Api = Depends(api)):
    return await act(request, client, "DELETE", f"{QUEUES}/{queue_id}",
                     partial(settings_page, request, client, queue_id), done="/console/queues")


def due_words(at: str, now: datetime) -> str:
    """When a step comes, from now: 'in 29m 58s', or 'due now' (its timer fires any moment)."""
    moment = parse_time(at)
    left = (moment - now).total_seconds() if moment else 0
    return f"in {duration(left)}" if left >= 1 else "due now"


async def dry_run(client: Api, queue_id: str, names: dict[str, str]) -> list[dict[str, Any]]:
    """The API's dry run of the queue's escalations, a row per waiting conversation, in words."""
    waiting = (await client.read(f"{QUEUES}/{queue_id}/escalations"))["conversations"]
    ids = [item["conversationId"] for item in waiting]
    topics = {conversation["id"]: conversation["topic"] for conversation in (await client.read(
        "/ccaas/1/conversations", {"conversationIds": ids, "limit": 999}))["conversations"]} if ids else {}
    now = datetime.now(UTC)
    rows = []
    for item in waiting:
        step = item["nextStep"]
        rows.append({
            "id": item["conversationId"], "topic": topics.get(item["conversationId"]), "priority": item["priority"],
            "since": when(item["clockSince"] or item["enteredQueueAt"]), "steps_taken": item["stepsTaken"],
            "next": f"step {step['index'] + 1}, {step_words(step, names)}" if step else None,
            "at": when(step["at"]) if step else None, "due": due_words(step["at"], now) if step else None,
            "why_none": item["whyNone"],
        })
    return rows


async def escalation_of(client: Api, queue: dict[str, Any], principal: Principal,
                        with_dry_run: bool = True) -> dict[str, Any]:
    """What escalation_section (queue_escalation_macros.html) shows: the ladder in words, and
    to supervisors the dry run (the queue's page links to it: it lists every waiting
    conversation, where the page shows twenty)."""
    steps = queue.get("escalation") or []
    queues = await queues_by_id(client, also=[step["queueId"] for step in steps])
    names = {known_id: known["name"] for known_id, known in queues.items()}
    return {"ladder": [step_words(step, names) for step in steps],
            "waiting": await dry_run(client, queue["id"], names) if with_dry_run and principal.is_supervisor else None}


@router.get("/console/queues/{queue_id}/escalation")
async def show_escalation(request: Request, queue_id: str, principal: Principal = Depends(console_user),
                          client: Api = Depends(api)):
    """The queue's escalation: its ladder, and to supervisors the dry run."""
    queue = await client.read(f"{QUEUES}/{queue_id}")
    return page(request, "queue_escalation.html", title=f"Escalation of {queue['name']}", section="queues",
                queue=queue, **await escalation_of(client, queue, principal))
