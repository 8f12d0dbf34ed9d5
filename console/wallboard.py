"""The wallboard (SPEC "Service level"): per queue the user may see, big enough to read from
across a room, service level today against its target with its hours drawn (console.wallboard_
chart), who waits and the longest wait, agents needed (the staffing endpoint's own answer)
against agents available, and SLA breaches today. Live: the whole board is read again when the
stream tells of any change."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from api.auth import Principal
from console.client import Api, api
from console.live import live_page
from console.lookups import visible_queue_ids
from console.render import page
from console.session import console_user
from console.wallboard_chart import service_level_chart

router = APIRouter(dependencies=[Depends(console_user)])
Q = "/ccaas/1/queues"


async def queue_figures(client: Api, stats: dict[str, Any]) -> dict[str, Any]:
    queue_id = stats["queueId"]
    day = await client.read(f"{Q}/{queue_id}/service-level-today")
    staffing = await client.read(f"{Q}/{queue_id}/staffing")
    needed = staffing["needed"]
    return {
        "id": queue_id, "name": stats["queueName"], "day": day, "chart": service_level_chart(day),
        "waiting": stats["waitingUnassigned"], "longest": stats["longestWaitingUnassigned"],
        "needed": needed["agents"] if needed else None,
        "available": staffing["atCurrentStaffing"]["agentsAvailable"],
        "staffing_window": staffing["window"],
    }


@router.get("/console/wallboard", dependencies=[Depends(live_page)])
async def show_wallboard(request: Request, principal: Principal = Depends(console_user), client: Api = Depends(api)):
    statistics = await client.read(f"{Q}/statistics")
    mine = await visible_queue_ids(client, principal)
    shown = sorted((stats for stats in statistics["queues"] if mine is None or stats["queueId"] in mine),
                   key=lambda stats: stats["queueName"].lower())
    queues = [await queue_figures(client, stats) for stats in shown]
    return page(request, "wallboard.html", title="Wallboard", section="wallboard", queues=queues,
                generated_at=statistics["generatedAt"])
