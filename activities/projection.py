"""Writes a conversation's state and new events to SQL, idempotently, then tells whoever
listens (the worker's dispatcher: a conversation may be waiting, or an agent's slot free)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from temporalio import activity

from domain.activity_stubs import PROJECT_CONVERSATION
from domain.assignment import DEFAULT_AGENT_CAPACITY
from domain.conversation import ProjectionRequest
from store.conversations import apply_projection
from store.db import session_scope


class ProjectionActivities:
    def __init__(self, engine: Engine, on_projected: Callable[[], None] = lambda: None,
                 default_capacity: int = DEFAULT_AGENT_CAPACITY) -> None:
        self._engine = engine
        self._on_projected = on_projected
        # An agent's capacity in the agent.status_changed a projection publishes (missed offers).
        self._default_capacity = default_capacity

    @activity.defn(name=PROJECT_CONVERSATION.name)
    def project_conversation(self, request: ProjectionRequest) -> None:
        with session_scope(self._engine) as session:
            apply_projection(session, request.conversation, request.events, self._default_capacity)
        self._on_projected()
