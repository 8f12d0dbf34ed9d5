"""Bots (a supervisor's pages): the list, create (the key shown once), edit (its webhook URL
too: the signing secret shown once when the URL is first set), delete (refused while the bot
serves a queue), and the rotation of its key and of its webhook's secret."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Depends, Request

from console.client import Answer, Api, Refusal, api
from console.forms import act, key_page, optional
from console.render import page
from console.session import check_csrf, console_user, require_supervisor
from console.webhooks import secret_page

router = APIRouter(dependencies=[Depends(console_user), Depends(check_csrf), Depends(require_supervisor)])
BOTS = "/ccaas/1/bots"


def bot_body(values: dict[str, str]) -> dict:
    # An unticked checkbox is not sent at all: absent means disabled. An empty webhook URL
    # removes the bot's webhook.
    return {"displayName": values.get("displayName", "").strip(), "enabled": "enabled" in values,
            "webhookUrl": optional(values, "webhookUrl")}


def webhook_secret(request: Request, bot_id: str, name: str, secret: str):
    return secret_page(request, f"Webhook signing secret of {name}", secret, f"/console/bots/{bot_id}",
                       f"the bot {name}'s webhook")


def after_edit(request: Request, bot_id: str):
    """The bot's page, or the new webhook's secret when the edit set a first webhook URL."""

    def done(answer: Answer):
        secret = answer.body.get("webhookSecret")
        if not secret:
            return f"/console/bots/{bot_id}"

        async def show():
            return webhook_secret(request, bot_id, answer.body["displayName"], secret)

        return show()

    return done


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
        values = ({"displayName": bot["displayName"], "webhookUrl": bot["webhookUrl"] or ""}
                  | ({"enabled": "on"} if bot["enabled"] else {}))
    webhook = await client.read(f"/ccaas/1/webhooks/{bot['webhookId']}") if bot["webhookId"] else None
    return page(request, "directory_bot.html", status_code=refusal.status if refusal else 200,
                title=bot["displayName"], section="bots", bot=bot, webhook=webhook,
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
                     body=bot_body, done=after_edit(request, bot_id))


@router.post("/console/bots/{bot_id}/delete")
async def delete_bot(request: Request, bot_id: str, client: Api = Depends(api)):
    return await act(request, client, "DELETE", f"{BOTS}/{bot_id}", partial(bot_page, request, client, bot_id),
                     done="/console/bots")


@router.post("/console/bots/{bot_id}/api-key")
async def rotate_key(request: Request, bot_id: str, client: Api = Depends(api)):
    return await act(request, client, "POST", f"{BOTS}/{bot_id}/api-key",
                     partial(bot_page, request, client, bot_id), done=key_page(request, client, "bot", bot_id))


@router.post("/console/bots/{bot_id}/webhook-secret")
async def rotate_webhook_secret(request: Request, bot_id: str, client: Api = Depends(api)):
    async def show(answer: Answer):
        name = (await client.read(f"{BOTS}/{bot_id}"))["displayName"]
        return webhook_secret(request, bot_id, name, answer.body["webhookSecret"])

    return await act(request, client, "POST", f"{BOTS}/{bot_id}/webhook-secret",
                     partial(bot_page, request, client, bot_id), done=show)
