"""An agent as the API answers it and agent.status_changed carries it."""

from __future__ import annotations

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
