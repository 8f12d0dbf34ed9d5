"""What several pages look up through the API: queues, bots and agents by id, an agent's queues;
and agents' names put in place of their ids in the text a page shows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from api.auth import Principal
from console.client import Api


async def queues_by_id(client: Api, also: Iterable[str | None] = ()) -> dict[str, dict]:
    """Every live queue, and those of `also` that were deleted since (a timeline or an old
    routing version still names them; the API keeps them readable by id)."""
    queues = {queue["id"]: queue for queue in await client.read_all("/ccaas/1/queues", "queues")}
    for queue_id in {queue_id for queue_id in also if queue_id} - set(queues):
        answer = await client.call("GET", f"/ccaas/1/queues/{queue_id}")
        if answer.ok:
            queues[queue_id] = answer.body
    return queues


def live_queues(queues: dict[str, dict]) -> list[dict]:
    """The queues a picker offers: not deleted, by name."""
    return sorted((queue for queue in queues.values() if not queue.get("deletedAt")),
                  key=lambda queue: queue["name"].lower())


async def bot_names(client: Api) -> dict[str, str]:
    return {bot["id"]: bot["displayName"] for bot in await client.read_all("/ccaas/1/bots", "bots")}


async def agents_by_id(client: Api) -> dict[str, dict]:
    """Every agent (disabled ones too: a conversation or a timeline may still name them)."""
    return {agent["id"]: agent for agent in await client.read_all("/ccaas/1/agents", "agents")}


# An id as the API makes them (uuid4, lower case).
AN_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def with_agent_names(text: str | None, agents: dict[str, dict]) -> str:
    """`text` (an event's reason, say "candidates: <id> 1/5 score 5") with each id of an agent
    in `agents` read as its name. For display only: the API's text is what is stored; an id
    the page does not know stays as it is."""
    return AN_ID.sub(lambda found: agents[found.group()]["displayName"] if found.group() in agents
                     else found.group(), text or "")


async def visible_queue_ids(client: Api, principal: Principal) -> set[str] | None:
    """None for a supervisor (every queue); an agent's own queues otherwise."""
    if principal.is_supervisor:
        return None
    body = await client.read(f"/ccaas/1/agents/{principal.actor.id}/queues")
    return {queue["id"] for queue in body["queues"]}


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def strict_json(text: str) -> Any:
    """JSON as the API reads it: Python's NaN and Infinity extensions are refused here."""
    return json.loads(text, parse_constant=_no_constant)
