"""Writes a conversation's state and new events to SQL, idempotently, then tells whoever
listens (the worker's dispatcher: a conversation may be waiting, or an agent's slot free)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from temporalio import activity

from domain.activity_stubs import PROJECT_CONVERSATION
from domain.conversation import ProjectionRequest
from store.conversations import apply_projection
from store.db import session_scope


class ProjectionActivities:
    def __init__(self, engine: Engine, on_projected: Callable[[], None] = lambda: None) -> None:
        self._engine = engine
        self._on_projected = on_projected

    @activity.defn(name=PROJECT_CONVERSATION.name)
    def project_conversation(self, request: ProjectionRequest) -> None:
        with session_scope(self._engine) as session:
            apply_projection(session, request.conversation, request.events)
        self._on_projected()
