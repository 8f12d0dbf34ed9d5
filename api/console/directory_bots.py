"""Bots (a supervisor's pages): the list, create (the key shown once), edit, delete (refused
while the bot serves a queue) and key rotation."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Depends, Request

from api.console.client import Api, Refusal, api
from api.console.forms import act, key_page
from api.console.render import page
from api.console.session import check_csrf, console_user, require_supervisor

router = APIRouter(dependencies=[Depends(console_user), Depends(check_csrf), Depends(require_supervisor)])
BOTS = "/ccaas/1/bots"


def bot_body(values: dict[str, str]) -> dict:
    # An unticked checkbox is not sent at all: absent means disabled.
    return {"displayName": values.get("displayName", "").strip(), "enabled": "enabled" in values}


async def bots_page(request: Request, client: Api, refusal: Refusal | None = None,
                    values: dict[str, str] | None = None):
    queues = await client.read_all("/ccaas/1/queues", "queues")
    serving: dict[str, list[dict]] = {}
    for queue in queues:
        serving.setdefault(queue["botId"], []).append(queue)
    return page(request, "directory_bots.html", status_code=refusal.status if refusal else 200,
                title="Bots", section="bots", bots=await client.read_all(BOTS, "bots"), serving=serving,
                refusal=refusal, values=values or {})


async def bot_page(request: Request, client: Api, bot_id: str, refusal: Refusal | None = None,
                   values: dict[str, str] | None = None):
    bot = await client.read(f"{BOTS}/{bot_id}")
    queues = await client.read_all("/ccaas/1/queues", "queues")
    if "displayName" not in (values or {}):  # not the edit form's own refusal: the bot as it is
        values = {"displayName": bot["displayName"]} | ({"enabled": "on"} if bot["enabled"] else {})
    return page(request, "directory_bot.html", status_code=refusal.status if refusal else 200,
                title=bot["displayName"], section="bots", bot=bot,
                serving=[queue for queue in queues if queue["botId"] == bot_id], refusal=refusal,
                values=values)


@router.get("/console/bots")
async def show_bots(request: Request, client: Api = Depends(api)):
    return await bots_page(request, client)


@router.post("/console/bots")
async def create_bot(request: Request, client: Api = Depends(api)):
    return await act(request, client, "POST", BOTS, partial(bots_page, request, client),
                     body=lambda values: bot_body(values | {"enabled": "on"}),
                     done=key_page(request, client, "bot"))


@router.get("/console/bots/{bot_id}")
async def show_bot(request: Request, bot_id: str, client: Api = Depends(api)):
    return await bot_page(request, client, bot_id)


@router.post("/console/bots/{bot_id}/edit")
async def edit_bot(request: Request, bot_id: str, client: Api = Depends(api)):
    return await act(request, client, "PUT", f"{BOTS}/{bot_id}", partial(bot_page, request, client, bot_id),
                     body=bot_body, done=f"/console/bots/{bot_id}")


@router.post("/console/bots/{bot_id}/delete")
async def delete_bot(request: Request, bot_id: str, client: Api = Depends(api)):
    return await act(request, client, "DELETE", f"{BOTS}/{bot_id}", partial(bot_page, request, client, bot_id),
                     done="/console/bots")


@router.post("/console/bots/{bot_id}/api-key")
async def rotate_key(request: Request, bot_id: str, client: Api = Depends(api)):
    return await act(request, client, "POST", f"{BOTS}/{bot_id}/api-key",
                     partial(bot_page, request, client, bot_id), done=key_page(request, client, "bot", bot_id))
