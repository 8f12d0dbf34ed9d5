"""An agent's own work: its pending offer (console.offers), the conversations it holds, the
unassigned ones waiting in its queues in their waiting order, its status, and its skills (read
only: a supervisor sets them). Accepting or declining the offer, take, release and close are one
API call each; a refusal (403, 409) is shown on this page in the API's words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request

from api.auth import Principal
from console.client import Api, Refusal, api
from console.forms import act, optional
from console.live import live_page
from console.offers import pending_offers
from console.render import page
from console.session import check_csrf, console_user, require_agent
from domain.models import AgentStatus, Status

router = APIRouter(dependencies=[Depends(console_user), Depends(check_csrf), Depends(require_agent)])
PATH = "/console/my-conversations"
CONVERSATIONS = "/ccaas/1/conversations"
# The order of the conversations it holds: those to answer first.
HELD_ORDER = [Status.OPEN.value, Status.WAITING.value, Status.SOLVED.value]


async def my_page(request: Request, client: Api, principal: Principal, refusal: Refusal | None = None):
    me = await client.read(f"/ccaas/1/agents/{principal.actor.id}")
    # Closed ones last (status:desc), so the 999 read hold every open one but for a huge backlog.
    held = await client.read(f"/ccaas/1/agents/{me['id']}/conversations", {"orderBy": "status:desc", "limit": 999})
    open_held = sorted((item for item in held["conversations"] if item["status"] in HELD_ORDER),
                       key=lambda item: HELD_ORDER.index(item["status"]))
    memberships = (await client.read(f"/ccaas/1/agents/{me['id']}/queues"))["queues"]
    skills = (await client.read(f"/ccaas/1/agents/{me['id']}/skills"))["skills"]
    queues = {queue["id"]: queue["name"] for queue in memberships}
    waiting: list[dict] = []
    if queues:
        listing = await client.read(CONVERSATIONS, {"queueIds": list(queues), "limit": 999, "orderBy": "priority:desc",
                                                    "status": [Status.OPEN.value, Status.WAITING.value]})
        # Those with a queue position: unassigned, and not claimed for an agent right now.
        waiting = sorted((item for item in listing["conversations"] if item["queuePosition"]),
                         key=lambda item: (queues[item["queueId"]].lower(), item["queuePosition"]))
    return page(request, "my_conversations.html", status_code=refusal.status if refusal else 200,
                title="My conversations", section="mine", me=me, held=open_held,
                closed_count=held["pagination"]["totalItems"] - len(open_held), waiting=waiting, queues=queues,
                offers=await pending_offers(client, me["id"], queues),
                skills=skills, agent_statuses=[status.value for status in AgentStatus], refusal=refusal)


async def change(request: Request, client: Api, principal: Principal, conversation_id: str, doing: str,
                 method: str, path: str, body: Callable[[dict[str, str]], Any] = lambda values: None):
    """One action on a conversation from this page (`body(form)` is sent); a refusal comes back
    here, saying which."""

    async def again(refusal: Refusal, values: dict[str, str]):
        said = Refusal(refusal.status, f"Could not {doing} conversation {conversation_id[:8]}: {refusal.text}",
                       refusal.fields)
        return await my_page(request, client, principal, said)

    return await act(request, client, method, path, again, body=body, done=PATH)


@router.get(PATH, dependencies=[Depends(live_page)])
async def show_mine(request: Request, principal: Principal = Depends(console_user), client: Api = Depends(api)):
    return await my_page(request, client, principal)


@router.post(PATH + "/{conversation_id}/take")
async def take(request: Request, conversation_id: str, principal: Principal = Depends(console_user),
               client: Api = Depends(api)):
    return await change(request, client, principal, conversation_id, "take", "PUT",
                        f"{CONVERSATIONS}/{conversation_id}/assignee", lambda values: {"agentId": principal.actor.id})


@router.post(PATH + "/{conversation_id}/release")
async def release(request: Request, conversation_id: str, principal: Principal = Depends(console_user),
                  client: Api = Depends(api)):
    return await change(request, client, principal, conversation_id, "release", "DELETE",
                        f"{CONVERSATIONS}/{conversation_id}/assignee")


@router.post(PATH + "/{conversation_id}/close")
async def close(request: Request, conversation_id: str, principal: Principal = Depends(console_user),
                client: Api = Depends(api)):
    return await change(request, client, principal, conversation_id, "close", "PATCH",
                        f"{CONVERSATIONS}/{conversation_id}", lambda values: {"status": Status.CLOSED.value})


@router.post(PATH + "/{conversation_id}/offer/accept")
async def accept_offer(request: Request, conversation_id: str, principal: Principal = Depends(console_user),
                       client: Api = Depends(api)):
    return await change(request, client, principal, conversation_id, "accept the offer of", "POST",
                        f"{CONVERSATIONS}/{conversation_id}/offer/accept")


@router.post(PATH + "/{conversation_id}/offer/decline")
async def decline_offer(request: Request, conversation_id: str, principal: Principal = Depends(console_user),
                        client: Api = Depends(api)):
    return await change(request, client, principal, conversation_id, "decline the offer of", "POST",
                        f"{CONVERSATIONS}/{conversation_id}/offer/decline",
                        lambda values: {"reason": optional(values, "reason")})
