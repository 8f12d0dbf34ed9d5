"""An agent as the API answers it and agent.status_changed carries it."""

from __future__ import annotations

from typing import Any

from contract.base import ApiModel, UtcTime
from domain.models import AgentStatus, Role


class AgentOut(ApiModel):
    id: str
    display_name: str
    email: str | None
    title: str | None
    role: Role
    status: AgentStatus
    # Infobip's name for the status; always equal to it.
    availability: AgentStatus
    enabled: bool
    # Its capacity (its own, else SWITCHBOARD_DEFAULT_AGENT_CAPACITY) and how many of it are
    # taken: conversations it holds OPEN or WAITING, or the dispatcher has claimed for it.
    max_conversations: int
    load: int
    created_at: UtcTime
    updated_at: UtcTime


def agent_out(row: Any, load: int, capacity: int) -> AgentOut:
    """An agent as answered, from its row (store.tables.AgentRow, read by attribute), its load
    and its capacity."""
    return AgentOut.of(row, availability=row.status, load=load, max_conversations=capacity)
