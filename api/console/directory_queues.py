"""Queues: the list (an agent sees its own, read only), and a supervisor's create, settings,
delete and default queue. The queue's conversations are board.py's page at /console/queues/{id}."""

from __future__ import annotations

from functools import partial
from typing import cast

from annotated_types import Ge, Le
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from api.auth import Principal
from api.console.client import Api, Refusal, api
from api.console.forms import act, optional, whole_number
from api.console.lookups import visible_queue_ids
from api.console.render import page
from api.console.session import check_csrf, console_user, require_supervisor
from api.queues import AutoAssignmentAlgorithm, QueueIn
from domain.assignment import DEFAULT_STICKY_DAYS
from domain.conversation import DEFAULT_BOT_TIMEOUT_SECONDS

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


def bounds(model: type[BaseModel], field: str) -> tuple[int, int]:
    """A whole-number field's (least, greatest) as the API checks them, for the form's hint."""
    metadata = model.model_fields[field].metadata
    least = next(item.ge for item in metadata if isinstance(item, Ge))
    greatest = next(item.le for item in metadata if isinstance(item, Le))
    return cast(int, least), cast(int, greatest)


# What queue_fields (directory_macros.html) offers and says, in the create and the edit form.
FORM_CHOICES = {"algorithm_choices": ALGORITHM_CHOICES, "sticky_days": bounds(QueueIn, "sticky_agent_timeout_days"),
                "default_sticky_days": DEFAULT_STICKY_DAYS}


def queue_body(values: dict[str, str]) -> dict:
    """The form as the API's body, for POST and for PUT (which changes only the fields given,
    so what the console does not edit, like externalId, keeps its value). Empty boxes are the
    API's defaults: a bot timeout of 600 seconds, sticky for 7 days (null: PUT clears it)."""
    timeout = whole_number(values, "botTimeoutSeconds")
    return {
        "name": values.get("name", "").strip(), "botId": optional(values, "botId"),
        "botTimeoutSeconds": DEFAULT_BOT_TIMEOUT_SECONDS if timeout is None else timeout,
        "isAutoAssignmentEnabled": bool(values.get("isAutoAssignmentEnabled")),
        "autoAssignmentAlgorithm": optional(values, "autoAssignmentAlgorithm"),
        "isStickyAutoAssignmentEnabled": bool(values.get("isStickyAutoAssignmentEnabled")),
        "stickyAgentTimeoutDays": whole_number(values, "stickyAgentTimeoutDays"),
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
            "workingHoursId": queue["workingHoursId"] or "",
            OUTSIDE_HOURS: "on" if queue["isAutoAssignmentOutsideOfWorkingHoursEnabled"] else ""}


def as_posted(values: dict[str, str]) -> dict[str, str]:
    """A queue form as it was sent: a checkbox left unticked is not posted at all."""
    return {name: "" for name in CHECKBOXES} | values


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
    context = {}
    if mine is None:
        context = {"default_queue_id": (await client.read(SETTINGS))["defaultQueueId"],
                   "bot_choices": bot_choices(bots),
                   "default_choices": [(queue["id"], queue["name"]) for queue in queues if not queue["botId"]]}
    return page(
        request, "directory_queues.html", status_code=refusal.status if refusal else 200,
        title="Queues" if mine is None else "Your queues", section="queues",
        queues=[queue for queue in queues if mine is None or queue["id"] in mine],
        bots={bot["id"]: bot["displayName"] for bot in bots}, refusal=refusal,
        values={"botTimeoutSeconds": str(DEFAULT_BOT_TIMEOUT_SECONDS),
                "autoAssignmentAlgorithm": AutoAssignmentAlgorithm.LOAD_BALANCING.value} | (values or {}),
        **FORM_CHOICES, **context,
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
