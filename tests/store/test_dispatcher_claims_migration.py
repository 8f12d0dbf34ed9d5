"""Revision 0013: the dispatcher's rows in flight keep their ids and become CLAIMED, and the
downgrade gives them back as they were, on SQLite and (SWITCHBOARD_TEST_DATABASE_URL)
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine

from store.db import alembic_config

AT = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
CLAIM_ID = "00000000-0000-4000-8000-0000000000d1"


def to(engine: Engine, revision: str, downgrade: bool = False) -> None:
    with engine.begin() as connection:
        (command.downgrade if downgrade else command.upgrade)(alembic_config(connection), revision)


def rows(engine: Engine, id_column: str) -> set[tuple[str, str, str | None]]:
    with engine.connect() as connection:
        return {tuple(row) for row in connection.execute(
            text(f"SELECT conversation_id, state, {id_column} FROM assignments"))}


def test_rows_in_flight_become_claims_and_back(engine: Engine) -> None:
    to(engine, "0012_retention_indexes")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO assignments (conversation_id, agent_id, queue_id, state, offer_id, reason, at) "
            "VALUES (:conversation, 'agent', 'queue', :state, :id, 'why', :at)"),
            [{"conversation": "told", "state": "OFFERED", "id": CLAIM_ID, "at": AT},
             {"conversation": "held", "state": "HELD", "id": None, "at": AT}])

    to(engine, "0013_dispatcher_claims")
    assert rows(engine, "claim_id") == {("told", "CLAIMED", CLAIM_ID), ("held", "HELD", None)}

    to(engine, "0012_retention_indexes", downgrade=True)
    assert rows(engine, "offer_id") == {("told", "OFFERED", CLAIM_ID), ("held", "HELD", None)}
