"""Writes a conversation's state and new events to SQL, idempotently."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from temporalio import activity

from domain.conversation import PROJECT_ACTIVITY, ProjectionRequest
from store.conversations import apply_projection
from store.db import session_scope


class ProjectionActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name=PROJECT_ACTIVITY)
    def project_conversation(self, request: ProjectionRequest) -> None:
        with session_scope(self._engine) as session:
            apply_projection(session, request.conversation, request.events)
