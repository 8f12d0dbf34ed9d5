"""`switchboard dev` (what `make run` starts): it serves, Ctrl-C stops every child process,
and a restart keeps queues, routing and conversations."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

STARTUP = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_of(home: Path) -> list[int]:
    """Live processes started with this SWITCHBOARD_HOME (the dev stack passes it to all)."""
    marker = f"SWITCHBOARD_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                status = (entry / "status").read_text()
                if "\nState:\tZ" not in status:
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


class DevStack:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.api_port, temporal_port, ui_port = free_port(), free_port(), free_port()
        self.env = {
            **os.environ,
            "SWITCHBOARD_HOME": str(home),
            "SWITCHBOARD_API_PORT": str(self.api_port),
            "SWITCHBOARD_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
            "SWITCHBOARD_TEMPORAL_UI_URL": f"http://127.0.0.1:{ui_port}",
            "SWITCHBOARD_WORKER_METRICS_ADDRESS": f"127.0.0.1:{free_port()}",
        }
        self.env.pop("SWITCHBOARD_DATABASE_URL", None)
        self.env.pop("SWITCHBOARD_SUPERVISOR_KEY", None)
        self.process: subprocess.Popen | None = None
        # A file, not a pipe: nobody reads while the stack runs, and a full pipe would block it.
        self.log = home.parent / "dev.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> None:
        # A session of its own, so "Ctrl-C" can go to the whole group as a terminal sends it.
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "switchboard.cli", "dev"],
                env=self.env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("switchboard dev did not serve in time")

    def interrupt(self) -> str:
        os.killpg(self.process.pid, signal.SIGINT)
        self.process.wait(timeout=60)
        return self.log.read_text()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def dev_stack(tmp_path: Path):
    stack = DevStack(tmp_path / "home")
    yield stack
    stack.kill()
    for pid in processes_of(stack.home):
        os.kill(pid, signal.SIGKILL)


def test_dev_serves_stops_on_ctrl_c_and_keeps_state_across_a_restart(dev_stack: DevStack):
    dev_stack.start()
    key = (dev_stack.home / "supervisor.key").read_text().strip()
    assert len(key) >= 40 and "\n" not in key
    headers = {"Authorization": f"App {key}"}
    api = f"{dev_stack.url}/ccaas/1"

    queue = httpx.post(f"{api}/queues", json={"name": "Kept"}, headers=headers).json()
    rules = [{"name": "sms", "queueId": queue["id"], "expression": {"$eq": {"message.channel": "SMS"}}}]
    assert httpx.put(f"{api}/routing", json=rules, headers=headers).status_code == 200
    created = httpx.post(f"{api}/conversations", json={"channel": "SMS"}, headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    assert created.json()["queueId"] == queue["id"]

    console = httpx.get(f"{dev_stack.url}/console")
    assert console.status_code == 401 and "Sign in" in console.text  # the console is served too

    output = dev_stack.interrupt()
    assert key in output, "the first start prints the supervisor key"
    assert f"{dev_stack.url}/console" in output
    assert dev_stack.process.returncode == 0, output
    assert processes_of(dev_stack.home) == [], "a child process outlived Ctrl-C"

    dev_stack.start()
    assert (dev_stack.home / "supervisor.key").read_text().strip() == key
    kept = httpx.get(f"{api}/conversations/{created.json()['id']}", headers=headers)
    assert kept.status_code == 200 and kept.json()["queueId"] == queue["id"]
    assert httpx.get(f"{api}/routing", headers=headers).json()["routes"][0]["queueId"] == queue["id"]
    again = httpx.post(f"{api}/conversations", json={"channel": "SMS"}, headers=headers, timeout=30)
    assert again.status_code == 201 and again.json()["queueId"] == queue["id"]
    dev_stack.interrupt()
    assert processes_of(dev_stack.home) == []


def test_demo_carries_one_conversation_through_the_hand_off(dev_stack: DevStack):
    dev_stack.start()
    demo = [sys.executable, "-m", "switchboard.cli", "demo"]
    first = subprocess.run(demo, env=dev_stack.env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "routed to Front desk" in first.stdout
    assert "routing alone moved it to Authenticated sessions" in first.stdout
    timeline = first.stdout.split("as a supervisor reads it:")[1]
    for event in ["CREATED", "ROUTED", "REROUTED", "BOT_STARTED", "AUTHENTICATION_COMPLETED"]:
        assert event in timeline
    rerouted = next(line for line in timeline.splitlines() if "REROUTED" in line)
    assert "AGENT Ana (front desk)" in rerouted
    assert "Strongly authenticated sessions (v1)" in timeline

    # A second run finds everything in place: it makes no new routing version.
    second = subprocess.run(demo, env=dev_stack.env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Strongly authenticated sessions (v1)" in second.stdout


def test_demo_without_a_running_stack_says_how_to_start_one(tmp_path: Path):
    env = {**os.environ, "SWITCHBOARD_HOME": str(tmp_path), "SWITCHBOARD_SUPERVISOR_KEY": "k" * 43,
           "SWITCHBOARD_API_PORT": str(free_port())}
    result = subprocess.run([sys.executable, "-m", "switchboard.cli", "demo"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "make run" in result.stderr
