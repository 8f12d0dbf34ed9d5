"""The queues board, an agent's status, and one queue's conversations in waiting order with its
agents' load and its assignment figures."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request

from api.auth import Principal
from console.client import Api, ApiFailed, api
from console.directory_queues import escalation_of
from console.live import live_page
from console.lookups import agents_by_id, bot_names, queues_by_id, visible_queue_ids
from console.render import page, pager, redirect
from console.session import check_csrf, console_user
from domain.models import OPEN_STATUSES, ActorType, AgentStatus, Priority, Status

router = APIRouter(dependencies=[Depends(console_user), Depends(check_csrf)])

PAGE_SIZE = 20
# The pages with a status form, by the `back` field it sends.
STATUS_FORM_PAGES = {"board": "/console", "mine": "/console/my-conversations"}
# The filter's choices: its label, and the statuses it lists.
STATUS_CHOICES = {"open": ("not closed", list(OPEN_STATUSES)), "all": ("all", [])} | {
    status.value: (status.value.lower(), [status.value]) for status in Status}


@router.get("/console", dependencies=[Depends(live_page)])
async def show_board(request: Request, moved: str = Query(default="", max_length=36),
                     principal: Principal = Depends(console_user), client: Api = Depends(api)):
    statistics = await client.read("/ccaas/1/queues/statistics")
    queues = await queues_by_id(client)
    mine = await visible_queue_ids(client, principal)
    shown = [stats for stats in statistics["queues"] if mine is None or stats["queueId"] in mine]
    # Busiest first: what needs attention comes first on a small screen too.
    shown.sort(key=lambda stats: (-stats["openConversations"], stats["queueName"].lower()))
    me = await client.read(f"/ccaas/1/agents/{principal.actor.id}") if principal.actor.type == ActorType.AGENT else None
    return page(request, "board.html", title="Queues board", section="board", queues=shown,
                details=queues, bots=await bot_names(client), generated_at=statistics["generatedAt"],
                priorities=[priority.value for priority in reversed(Priority)], me=me, moved=moved,
                agent_statuses=[status.value for status in AgentStatus])


@router.post("/console/my-status")
async def set_my_status(status: str = Form(default=""), back: str = Form(default=""),
                        principal: Principal = Depends(console_user), client: Api = Depends(api)):
    """An agent's own status: the one thing about agents that an agent may change. Back to the
    page the form was on: the board, or My conversations."""
    answer = await client.call("PUT", f"/ccaas/1/agents/{principal.actor.id}/status", json={"status": status})
    if (refusal := answer.refusal) is not None:
        raise ApiFailed(refusal)
    return redirect(STATUS_FORM_PAGES.get(back, "/console"))


@router.get("/console/queues/{queue_id}", dependencies=[Depends(live_page)])
async def show_queue(
    request: Request, queue_id: str, status: str = "open", priority: str = "",
    page_number: int = Query(default=0, alias="page", ge=0, le=100_000), client: Api = Depends(api),
    principal: Principal = Depends(console_user),
):
    queue = await client.read(f"/ccaas/1/queues/{queue_id}")
    params: dict = {"queueIds": queue_id, "orderBy": "priority:desc", "page": page_number, "limit": PAGE_SIZE,
                    "status": STATUS_CHOICES.get(status, STATUS_CHOICES["open"])[1]}
    if priority in Priority.__members__:
        params["priority"] = priority
    listing = await client.read("/ccaas/1/conversations", params)
    total = listing["pagination"]["totalItems"]
    statistics = await client.read(f"/ccaas/1/queues/{queue_id}/statistics")
    agents = await agents_by_id(client)
    members = await client.read_all("/ccaas/1/agents", "agents", {"queueIds": queue_id})
    return page(
        request, "queue.html", title=queue["name"], section="queues", queue=queue,
        statistics=statistics, agents=agents,
        members=sorted(members, key=lambda agent: agent["displayName"].lower()),
        conversations=listing["conversations"], total=total, status=status, priority=priority,
        statuses={choice: label for choice, (label, _) in STATUS_CHOICES.items()},
        priorities=[p.value for p in reversed(Priority)],
        pager=pager(f"/console/queues/{queue_id}", {"status": status, "priority": priority}, page_number,
                    PAGE_SIZE, total),
        bots=await bot_names(client) if queue.get("botId") else {},
        escalation=await escalation_of(client, queue, principal, with_dry_run=False),
    )
