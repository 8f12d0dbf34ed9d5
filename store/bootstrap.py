"""First start: the schema, the "Default" queue set as default, and a supervisor key."""

from __future__ import annotations

import uuid

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from domain.models import ActorType, utcnow
from store import keys
from store.db import migrate, session_scope
from store.queues import live_queue_by_name
from store.tables import ApiKeyRow, QueueRow, RoutingSettingsRow

DEFAULT_QUEUE_NAME = "Default"
MIN_KEY_LENGTH = 32  # switchboard.settings says it to the operator; this is the last guard


def bootstrap(engine: Engine, supervisor_key: str | None = None) -> str | None:
    """Idempotent. Returns a supervisor key only when it made a new one (to show it once)."""
    if supervisor_key is not None and len(supervisor_key) < MIN_KEY_LENGTH:
        raise ValueError(f"SWITCHBOARD_SUPERVISOR_KEY must be at least {MIN_KEY_LENGTH} characters")
    migrate(engine)
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

        # Keys made before supervisors had their own id get one (it names them in timelines).
        for row in session.exec(select(ApiKeyRow).where(
            ApiKeyRow.principal_type == ActorType.SUPERVISOR.value, col(ApiKeyRow.principal_id).is_(None)
        )):
            row.principal_id = str(uuid.uuid4())
            session.add(row)

        if supervisor_key is not None:
            if keys.find_key(session, supervisor_key) is None:
                _store_supervisor_key(session, supervisor_key)
            return None
        if keys.has_supervisor_key(session):
            return None
        created = keys.new_key()
        _store_supervisor_key(session, created)
        return created


def _store_supervisor_key(session, key: str) -> None:
    # A random principal id names this supervisor in timelines and versions; the key row's
    # own id is derived from the key, so it must not be shown.
    keys.store_key(
        session, key, principal_type=ActorType.SUPERVISOR.value, principal_id=str(uuid.uuid4()),
        name="bootstrap supervisor",
    )
