"""Webhooks (a supervisor's pages): the list with a create form, the signing secret shown once
(at creation or rotation), and a webhook's page: edit, delete, rotate, and its deliveries
log with each attempt and a "Send again" per delivery."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from console.client import Answer, Api, Refusal, api
from console.forms import act, folded, optional
from console.render import page, pager
from console.session import check_csrf, console_user, require_supervisor
from domain.events_out import EVENT_TYPES

router = APIRouter(dependencies=[Depends(console_user), Depends(check_csrf), Depends(require_supervisor)])
HOOKS = "/ccaas/1/webhooks"
BOTS = "/ccaas/1/bots"
PAGE_SIZE = 20
STATES = {"": "any", "PENDING": "pending", "DELIVERED": "delivered", "FAILED": "failed"}


async def checked_types(request: Request) -> list[str]:
    """The event types ticked in the form (one checkbox each; none ticked: every type)."""
    form = await request.form()
    return [value for value in form.getlist("eventTypes") if isinstance(value, str)]


def webhook_body(values: dict[str, str], event_types: list[str]) -> dict[str, Any]:
    return {"url": values.get("url", "").strip(), "eventTypes": event_types,
            "enabled": "enabled" in values, "description": optional(values, "description")}


def form_values(webhook: dict[str, Any]) -> dict[str, str]:
    """A webhook as its edit form shows it."""
    return ({"url": webhook["url"], "description": webhook["description"] or ""}
            | ({"enabled": "on"} if webhook["enabled"] else {}))


async def bot_names(client: Api) -> dict[str, str]:
    return {bot["id"]: bot["displayName"] for bot in await client.read_all(BOTS, "bots")}


async def webhooks_page(request: Request, client: Api, refusal: Refusal | None = None,
                        values: dict[str, str] | None = None, checked: list[str] | None = None) -> HTMLResponse:
    return page(request, "webhooks.html", status_code=refusal.status if refusal else 200,
                title="Webhooks", section="webhooks", webhooks=await client.read_all(HOOKS, "webhooks"),
                bots=await bot_names(client), event_types=EVENT_TYPES,
                refusal=folded(refusal, {"eventTypes": checked or []}),
                values=values if values is not None else {"enabled": "on"}, checked=checked or [])


async def webhook_page(request: Request, client: Api, webhook_id: str, refusal: Refusal | None = None,
                       values: dict[str, str] | None = None, checked: list[str] | None = None, *,
                       state: str = "", page_number: int = 0) -> HTMLResponse:
    webhook = await client.read(f"{HOOKS}/{webhook_id}")
    params = {"page": page_number, "limit": PAGE_SIZE} | ({"state": state} if state else {})
    log = await client.read(f"{HOOKS}/{webhook_id}/deliveries", params)
    total = log["pagination"]["totalItems"]
    bot = await client.read(f"{BOTS}/{webhook['botId']}") if webhook["botId"] else None
    edited = values is not None and "url" in values  # the edit form's own refusal: the form as sent
    return page(
        request, "webhook.html", status_code=refusal.status if refusal else 200,
        title=f"Webhook {webhook['url']}", section="webhooks", webhook=webhook, bot=bot,
        deliveries=log["deliveries"], total=total, state=state, states=STATES,
        pager=pager(f"/console/webhooks/{webhook_id}", {"state": state} if state else {}, page_number,
                    PAGE_SIZE, total),
        event_types=EVENT_TYPES, refusal=folded(refusal, {"eventTypes": checked or []}),
        values=values if edited and values is not None else form_values(webhook),
        checked=checked if edited else webhook["eventTypes"],
    )


def secret_page(request: Request, title: str, secret: str, back: str, what: str) -> HTMLResponse:
    """The signing secret, this once (not cached, as every console page)."""
    return page(request, "webhook_secret.html", title=title, section="webhooks", secret=secret, back=back,
                what=what)


def show_secret(request: Request) -> Any:
    """The `done` of a form whose answer is a webhook with its secret (create, rotate)."""

    async def show(answer: Answer) -> HTMLResponse:
        webhook = answer.body
        return secret_page(request, f"Signing secret of the webhook {webhook['url']}", webhook["secret"],
                           f"/console/webhooks/{webhook['id']}", f"the webhook {webhook['url']}")

    return show


@router.get("/console/webhooks")
async def show_webhooks(request: Request, client: Api = Depends(api)):
    return await webhooks_page(request, client)


@router.post("/console/webhooks")
async def create_webhook(request: Request, client: Api = Depends(api)):
    types = await checked_types(request)
    return await act(request, client, "POST", HOOKS, partial(webhooks_page, request, client, checked=types),
                     body=lambda values: webhook_body(values, types), done=show_secret(request))


@router.get("/console/webhooks/{webhook_id}")
async def show_webhook(request: Request, webhook_id: str, client: Api = Depends(api),
                       state: str = Query(default="", pattern="^(|PENDING|DELIVERED|FAILED)$"),
                       page_number: int = Query(default=0, alias="page", ge=0, le=100_000)):
    return await webhook_page(request, client, webhook_id, state=state, page_number=page_number)


@router.post("/console/webhooks/{webhook_id}/edit")
async def edit_webhook(request: Request, webhook_id: str, client: Api = Depends(api)):
    types = await checked_types(request)
    return await act(request, client, "PUT", f"{HOOKS}/{webhook_id}",
                     partial(webhook_page, request, client, webhook_id, checked=types),
                     body=lambda values: webhook_body(values, types), done=f"/console/webhooks/{webhook_id}")


@router.post("/console/webhooks/{webhook_id}/delete")
async def delete_webhook(request: Request, webhook_id: str, client: Api = Depends(api)):
    return await act(request, client, "DELETE", f"{HOOKS}/{webhook_id}",
                     partial(webhook_page, request, client, webhook_id), done="/console/webhooks")


@router.post("/console/webhooks/{webhook_id}/secret")
async def rotate_secret(request: Request, webhook_id: str, client: Api = Depends(api)):
    return await act(request, client, "POST", f"{HOOKS}/{webhook_id}/secret",
                     partial(webhook_page, request, client, webhook_id), done=show_secret(request))


@router.post("/console/webhooks/{webhook_id}/deliveries/{delivery_id}/retry")
async def send_again(request: Request, webhook_id: str, delivery_id: str, client: Api = Depends(api)):
    return await act(request, client, "POST", f"{HOOKS}/{webhook_id}/deliveries/{delivery_id}/retry",
                     partial(webhook_page, request, client, webhook_id), done=f"/console/webhooks/{webhook_id}")
