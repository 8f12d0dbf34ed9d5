"""An agent's pending offer as My conversations shows it (SPEC "Offers"): the conversation it
is for, its queue, why auto-assignment chose this agent, and how long is left to answer. The
page's live part brings a new offer and takes away an answered, lapsed or withdrawn one;
console.js counts the time left down between reads."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from console.client import Api
from console.lookups import agents_by_id, with_agent_names
from console.render import parse_time


def clock_text(seconds: int) -> str:
    """75 -> '1:15': time left as a countdown shows it (console.js writes the same)."""
    minutes, rest = divmod(max(seconds, 0), 60)
    return f"{minutes}:{rest:02d}"


async def pending_offers(client: Api, agent_id: str, queue_names: dict[str, str]) -> list[dict[str, Any]]:
    """The agent's pending offer (the API keeps at most one), ready to show."""
    offers = (await client.read(f"/ccaas/1/agents/{agent_id}/offers"))["offers"]
    if not offers:
        return []
    agents = await agents_by_id(client)
    now = datetime.now(UTC)
    shown = []
    for offer in offers:
        answer = await client.call("GET", f"/ccaas/1/conversations/{offer['conversationId']}")
        topic = answer.body.get("topic") if answer.ok else None
        expires = parse_time(offer["expiresAt"])
        # Whole seconds, rounded up: "0:00" only once it has lapsed.
        left = max(0, math.ceil((expires - now).total_seconds())) if expires else None
        shown.append({
            "conversation_id": offer["conversationId"],
            "topic": topic or f"Conversation {offer['conversationId'][:8]}",
            "queue": queue_names.get(offer["queueId"] or "", "another queue"),
            "reason": with_agent_names(offer["reason"], agents) if offer["reason"] else None,
            "expires_at": offer["expiresAt"], "seconds_left": left,
            "clock": clock_text(left) if left is not None else None,
        })
    return shown
