"""First start: the schema, the "Default" queue set as default, and a supervisor key."""

from __future__ import annotations

import uuid

from sqlalchemy.engine import Engine

from domain.models import utcnow
from store import keys
from store.db import create_schema, session_scope
from store.queues import live_queue_by_name
from store.tables import QueueRow, RoutingSettingsRow

DEFAULT_QUEUE_NAME = "Default"


def bootstrap(engine: Engine, supervisor_key: str | None = None) -> str | None:
    """Idempotent. Returns a supervisor key only when it made a new one (to show it once)."""
    create_schema(engine)
    with session_scope(engine) as session:
        if session.get(RoutingSettingsRow, 1) is None:
            queue = live_queue_by_name(session, DEFAULT_QUEUE_NAME)
            if queue is None:
                now = utcnow()
                queue = QueueRow(
                    id=str(uuid.uuid4()), name=DEFAULT_QUEUE_NAME, created_at=now, updated_at=now
                )
                session.add(queue)
                session.flush()
            session.add(RoutingSettingsRow(id=1, default_queue_id=queue.id, updated_at=utcnow()))

        if supervisor_key is not None:
            if keys.find_key(session, supervisor_key) is None:
                keys.store_key(
                    session, supervisor_key, principal_type="SUPERVISOR", principal_id=None,
                    name="bootstrap supervisor",
                )
            return None
        if keys.has_supervisor_key(session):
            return None
        created = keys.new_key()
        keys.store_key(
            session, created, principal_type="SUPERVISOR", principal_id=None,
            name="bootstrap supervisor",
        )
        return created
