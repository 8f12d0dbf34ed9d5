"""The database each test gets (tests/conftest.py), on SQLite and (SWITCHBOARD_TEST_DATABASE_URL)
PostgreSQL: a copy of one the session migrated, so it must be what a fresh migration leaves,
at the newest revision with no rows and its sequences unused, and nothing a test wrote may
reach the next test."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from domain.models import utcnow
from store.db import MIGRATIONS, make_engine, migrate, session_scope
from store.tables import EventFeedRow, QueueRow
from tests.databases import PostgresqlDatabase

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


# Run twice: the second run finds nothing the first one wrote, and numbers events from 1 again.
@pytest.mark.parametrize("run", [1, 2])
def test_a_test_starts_at_the_newest_revision_with_no_rows(engine: Engine, run: int) -> None:
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
        assert set(inspect(connection).get_table_names()) == {*SQLModel.metadata.tables, "alembic_version"}
        for table in SQLModel.metadata.sorted_tables:
            assert connection.execute(select(func.count()).select_from(table)).scalar_one() == 0, table.name

    assert migrate(engine) == HEAD  # nothing left to do
    now = utcnow()
    with session_scope(engine) as session:
        session.add(QueueRow(id=f"queue-{run}", name=f"Queue {run}", created_at=now, updated_at=now))
        event = EventFeedRow(id=f"event-{run}", type="queue.created", at=now, body="{}")
        session.add(event)
        session.flush()
        assert event.position == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_left_open_is_ended_and_a_changed_schema_migrated_anew(
    database_url: str, migrated_postgresql: PostgresqlDatabase
) -> None:
    engine = make_engine(database_url)
    try:
        left_open = engine.connect()
        left_open.execute(insert(QueueRow.__table__).values(  # type: ignore[attr-defined]
            id="queue", name="Queue", created_at=utcnow(), updated_at=utcnow()))  # locks the row, uncommitted
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE left_behind (id INTEGER)"))

        assert migrated_postgresql.fresh() == database_url
        left_open.invalidate()  # ended by the server: not to be given back to the pool
        with engine.connect() as connection:
            assert "left_behind" not in inspect(connection).get_table_names()
            assert connection.execute(select(func.count()).select_from(QueueRow)).scalar_one() == 0
    finally:
        engine.dispose()
