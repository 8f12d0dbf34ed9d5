"""Queues: the list (an agent sees its own, read only), and a supervisor's create, settings,
delete and default queue. The queue's conversations are board.py's page at /console/queues/{id}."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Depends, Request

from api.auth import Principal
from api.console.client import Api, Refusal, api
from api.console.forms import act, optional, whole_number
from api.console.lookups import visible_queue_ids
from api.console.render import page
from api.console.session import check_csrf, console_user, require_supervisor
from domain.conversation import DEFAULT_BOT_TIMEOUT_SECONDS

router = APIRouter(dependencies=[Depends(console_user), Depends(check_csrf)])
supervisors = [Depends(require_supervisor)]
QUEUES = "/ccaas/1/queues"
SETTINGS = "/ccaas/1/routing/settings"
BOTS = "/ccaas/1/bots"
# PUT replaces a queue: what the console does not edit is sent back as it is.
KEPT_FIELDS = ("externalId", "isAutoAssignmentEnabled", "autoAssignmentAlgorithm", "workingHoursId",
               "stickyAgentTimeoutDays", "isStickyAutoAssignmentEnabled")


def queue_body(values: dict[str, str], current: dict | None = None) -> dict:
    body = {field: current[field] for field in KEPT_FIELDS} if current else {}
    body |= {"name": values.get("name", "").strip(), "botId": optional(values, "botId")}
    timeout = whole_number(values, "botTimeoutSeconds")
    if timeout is not None:  # empty: the API's default
        body["botTimeoutSeconds"] = timeout
    return body


def queue_values(queue: dict) -> dict[str, str]:
    return {"name": queue["name"], "botId": queue["botId"] or "",
            "botTimeoutSeconds": str(queue["botTimeoutSeconds"])}


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
        values={"botTimeoutSeconds": str(DEFAULT_BOT_TIMEOUT_SECONDS)} | (values or {}), **context,
    )


async def settings_page(request: Request, client: Api, queue_id: str, refusal: Refusal | None = None,
                        values: dict[str, str] | None = None):
    queue = await client.read(f"{QUEUES}/{queue_id}")
    settings = await client.read(SETTINGS)
    return page(
        request, "directory_queue_settings.html", status_code=refusal.status if refusal else 200,
        title=f"Settings of {queue['name']}", section="queues", queue=queue,
        is_default=settings["defaultQueueId"] == queue_id, bot_choices=bot_choices(await client.read_all(BOTS, "bots")),
        refusal=refusal, values=queue_values(queue) | (values or {}),
    )


@router.get("/console/queues")
async def show_queues(request: Request, principal: Principal = Depends(console_user), client: Api = Depends(api)):
    return await queues_page(request, client, principal)


@router.post("/console/queues", dependencies=supervisors)
async def create_queue(request: Request, principal: Principal = Depends(console_user), client: Api = Depends(api)):
    return await act(request, client, "POST", QUEUES, partial(queues_page, request, client, principal),
                     body=queue_body, done="/console/queues")


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
    current = await client.read(f"{QUEUES}/{queue_id}")
    return await act(request, client, "PUT", f"{QUEUES}/{queue_id}",
                     partial(settings_page, request, client, queue_id),
                     body=lambda values: queue_body(values, current), done="/console/queues")


@router.post("/console/queues/{queue_id}/delete", dependencies=supervisors)
async def delete_queue(request: Request, queue_id: str, client: Api = Depends(api)):
    return await act(request, client, "DELETE", f"{QUEUES}/{queue_id}",
                     partial(settings_page, request, client, queue_id), done="/console/queues")
