"""The migrated databases tests get (tests/conftest.py `database_url`), migrated once a session.

Running the whole migration history for every test was most of its set-up: now a session runs
the history of this checkout once, and each test starts from what it left. On SQLite each test
gets a copy of the migrated file. On PostgreSQL a copy (CREATE DATABASE ... TEMPLATE) writes
some megabytes of catalogs and took longer than migrating on a busy machine, so the session
keeps one migrated database and empties it before each test instead: the connections left to it
are ended, then every table gets back the rows the migrations left (alembic_version's) and every
sequence its value, so no test sees another's rows. A test that changed the schema itself gets
it migrated anew for the next test.
"""

from __future__ import annotations

import itertools
import shutil
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import column, table, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import SQLModel

from store.db import make_engine, migrate


def migrated_sqlite_file(path: Path) -> Path:
    """Migrates a new SQLite file at `path`, to be copied for each test."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
        with engine.connect() as connection:
            # Everything into the file itself: a copy takes that file alone, not its WAL.
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return path


def copy_sqlite_file(migrated: Path, path: Path) -> str:
    shutil.copyfile(migrated, path)
    return f"sqlite:///{path}"


# What identifies the schema: every relation, column and constraint of the database's schemas.
SCHEMA_FINGERPRINT = """
SELECT md5(coalesce((
    SELECT string_agg(format('%s %s %s', c.oid, c.relname, c.relkind), ',' ORDER BY c.oid)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
), '') || coalesce((
    SELECT string_agg(format('%s %s %s %s %s %s', a.attrelid, a.attnum, a.attname, a.atttypid,
                             a.atttypmod, a.attnotnull), ',' ORDER BY a.attrelid, a.attnum)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
        AND a.attnum > 0 AND NOT a.attisdropped
), '') || coalesce((
    SELECT string_agg(format('%s %s', oid, conname), ',' ORDER BY oid) FROM pg_constraint
    WHERE connamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
), '') || coalesce((
    SELECT string_agg(format('%s %s', adrelid, adnum), ',' ORDER BY adrelid, adnum) FROM pg_attrdef
), ''))
"""
# Dead rows the emptying leaves (autovacuum may be off) are vacuumed away now and then.
VACUUM_EVERY = 25


class PostgresqlDatabase:
    """One database of the session, migrated on the server of `server_url` and emptied for
    each test by `fresh()`; `drop()` when the session ends."""

    def __init__(self, server_url: str) -> None:
        self.url = make_url(server_url).set(
            database=f"switchboard_test_{uuid.uuid4().hex[:12]}"
        ).render_as_string(hide_password=False)
        self._server = make_engine(server_url)
        self._engine: Engine | None = None
        self._emptied = itertools.count(1)
        self._make()

    def fresh(self) -> str:
        """The database as the migrations left it, with no connection from earlier tests."""
        assert self._engine is not None
        with self._engine.begin() as connection:
            self._end_other_connections(connection)
            unchanged = connection.execute(text(SCHEMA_FINGERPRINT)).scalar_one() == self._fingerprint
            if unchanged:
                connection.exec_driver_sql("".join(f'DELETE FROM "{name}";' for name in self._tables))
                for name, rows in self._rows.items():
                    connection.execute(table(name, *(column(key) for key in rows[0])).insert(), rows)
                for sequence, (value, called) in self._sequences.items():
                    connection.execute(text("SELECT setval(CAST(:sequence AS regclass), :value, :called)"),
                                       {"sequence": sequence, "value": value, "called": called})
        if not unchanged:
            self._drop()
            self._make()
        elif not next(self._emptied) % VACUUM_EVERY:
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM")
        return self.url

    def drop(self) -> None:
        self._drop()
        self._server.dispose()

    def _make(self) -> None:
        name = make_url(self.url).database
        self._on_server(f'CREATE DATABASE "{name}" TEMPLATE template0')
        engine = make_engine(self.url)
        migrate(engine)
        with engine.connect() as connection:
            self._fingerprint = connection.execute(text(SCHEMA_FINGERPRINT)).scalar_one()
            self._tables = _tables_children_first(connection)
            self._rows = _rows(connection, self._tables)
            self._sequences = _sequences(connection)
        self._engine = engine

    def _drop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        # FORCE ends connections a test left open.
        self._on_server(f'DROP DATABASE IF EXISTS "{make_url(self.url).database}" WITH (FORCE)')

    def _on_server(self, statement: str) -> None:
        # CREATE and DROP DATABASE refuse to run in a transaction.
        with self._server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(statement)

    @staticmethod
    def _end_other_connections(connection: Connection) -> None:
        # Whatever a finished test left connected (an engine it never disposed, a process still
        # stopping) is gone, waiting up to 5 s each, before the rows are reset under it.
        connection.execute(text(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ))


def _tables_children_first(connection: Connection) -> list[str]:
    # Deleted in this order, no foreign key is ever left pointing at a deleted row.
    names = set(connection.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    )).scalars())
    ordered = [t.name for t in reversed(SQLModel.metadata.sorted_tables) if t.name in names]
    return ordered + sorted(names - set(ordered))


def _rows(connection: Connection, tables: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The rows the migrations left (alembic_version's), table by table."""
    rows = {name: [dict(row) for row in connection.execute(text(f'SELECT * FROM "{name}"')).mappings()]
            for name in tables}
    return {name: table_rows for name, table_rows in rows.items() if table_rows}


def _sequences(connection: Connection) -> dict[str, tuple[int, bool]]:
    """Each sequence's value as setval takes it: the next nextval() gives the same number."""
    return {
        f'"{name}"': (start if last is None else last, last is not None)
        for name, start, last in connection.execute(text(
            "SELECT sequencename, start_value, last_value FROM pg_sequences "
            "WHERE schemaname = current_schema()"
        ))
    }
