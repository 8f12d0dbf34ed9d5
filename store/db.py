"""Engine and sessions for SQLite (embedded) and PostgreSQL (beyond one machine)."""

from __future__ import annotations

import logging
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Table, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, create_engine

from store import tables  # noqa: F401  (registers the tables on SQLModel.metadata)

SQLITE_POOL_SIZE = 40  # anyio's thread pool (the API's sync work) has 40; the worker's 32


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # Plain postgresql:// means psycopg 3 here, the driver we install.
        parsed = parsed.set(drivername="postgresql+psycopg")
    # Errors name the statement but never its parameters: those are customers' data.
    if parsed.get_backend_name() != "sqlite":
        return create_engine(
            parsed, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True
        )
    pool: dict[str, Any] = {}
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # As many connections kept as threads may ask at once (the API's thread pool, the
        # worker's activity threads): past SQLAlchemy's default pool of 5 each connection was
        # opened (its pragmas run) and closed again per request, a tenth of a loaded API's time.
        pool = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE}
    engine = create_engine(
        parsed, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True, **pool,
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        # WAL lets the API read while the worker's projection writes, from another process.
        cursor = dbapi_connection.cursor()
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def _switch_to_wal(cursor: sqlite3.Cursor, attempts: int = 100) -> None:
    # The file keeps WAL once set; only the first switch needs the file to itself. When two
    # processes open a new file at once (API and worker starting, concurrent migrations),
    # SQLite refuses the second switch with "database is locked" at once, without waiting
    # for the busy timeout: so wait here, a few seconds at most.
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


MIGRATIONS = Path(__file__).with_name("migrations")
# What the last release before the migration history made with create_all.
PREVIOUS_RELEASE_REVISION = "0001_initial"
# Alembic tells at INFO which dialect it found on every start, and "assumes non-transactional
# DDL" on SQLite, wrongly here (migrate holds one transaction). Only what it changes, "Running
# upgrade ...", is news in the logs.
logging.getLogger("alembic.runtime.migration").addFilter(
    lambda record: not record.getMessage().startswith(("Context impl", "Will assume"))
)


def migrate(engine: Engine) -> str:
    """Brings the schema to the newest revision of store/migrations and returns that revision.

    Every process may call it at start: concurrent calls take turns, and the later ones find
    nothing to do. It runs in one transaction on the engine's own database (SQLite file, or
    PostgreSQL schema chosen by search_path), where the alembic_version table lives too."""
    head = _scripts().get_current_head()
    assert head is not None, "store/migrations has no revisions"
    with engine.begin() as connection:
        _take_migration_lock(connection)
        context = MigrationContext.configure(connection)
        current = context.get_current_revision()
        if current is None and inspect(connection).has_table("queues"):
            # Made by a release before the history existed: its tables are revision 0001.
            context.stamp(_scripts(), PREVIOUS_RELEASE_REVISION)
            current = PREVIOUS_RELEASE_REVISION
        if current != head:
            command.upgrade(alembic_config(connection), "head")
    return head


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration, made in code (no alembic.ini): store/migrations/env.py runs
    the history on this connection, inside its transaction."""
    config = Config(attributes={"connection": connection})
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def _scripts() -> ScriptDirectory:
    # Read once a process: most calls find the database at head and need nothing else.
    return ScriptDirectory(str(MIGRATIONS))


def _take_migration_lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Held until the transaction ends. The key names the schema: migrating one schema
        # (one per test, say) never waits for another.
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        key = zlib.crc32(f"switchboard migrate {schema}".encode())
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif connection.dialect.name == "sqlite":
        # Take SQLite's write lock now, not at the first write: a second migrator waits here
        # (the busy timeout) and then reads the version the first one committed. SQLite's DDL
        # is transactional, so a failed migration leaves nothing half done. The pysqlite
        # driver only begins before INSERT/UPDATE/DELETE, so this BEGIN is ours to issue;
        # unlike a lock file it needs no path and holds for every process on the database.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# Each dialect's INSERT that can skip rows already there (ON CONFLICT DO NOTHING).
INSERTS: dict[str, Callable[[Table], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert, "sqlite": sqlite.insert,
}


def insert_ignoring_duplicates(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Inserts the rows whose keys are not there yet; idempotent, and safe against racers.

    One statement, executed for the rows as its parameters: a statement carrying the rows in
    its VALUES was compiled anew on every call (a sixth of a loaded worker's time)."""
    if rows:
        session.connection().execute(_insert_ignoring(session.get_bind().dialect.name, table), rows)


@cache
def _insert_ignoring(dialect: str, table: Table) -> Any:
    return INSERTS[dialect](table).on_conflict_do_nothing()


def take_write_lock(session: Session) -> None:
    """SQLite: take the database's write lock now, so what this transaction reads stays true
    until it commits (PostgreSQL locks rows instead). Must be the transaction's first
    statement (the pysqlite driver would otherwise begin a deferred one)."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
