"""`switchboard dev` (what `make run` starts): it serves, Ctrl-C stops every child process,
a restart keeps queues, routing and conversations, and a child that dies is started again."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port

STARTUP = 90.0


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


def wait_until(condition, what: str, timeout: float = 60.0):
    """Polls until the condition returns something truthy, or fails at the deadline."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.1)
    return result


def child_pid(home: Path, name: str) -> int | None:
    """The live `temporal`, `worker`, `courier` or `api` process of the stack with this home."""
    for pid in processes_of(home):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
        except OSError:
            continue
        if name == "temporal":
            found = argv[1:3] == [b"server", b"start-dev"]
        else:
            found = argv[-2:] == [b"switchboard.cli", name.encode()]
        if found:
            return pid
    return None


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
    def running(self) -> subprocess.Popen:
        assert self.process is not None, "the stack was not started"
        return self.process

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
            assert self.running.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("switchboard dev did not serve in time")

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"App {(self.home / 'supervisor.key').read_text().strip()}"}

    def interrupt(self) -> str:
        os.killpg(self.running.pid, signal.SIGINT)
        self.running.wait(timeout=60)
        return self.log.read_text()

    def ready(self) -> dict[str, int]:
        """Waits until all four children run and the API answers; their pids."""

        def serving() -> dict[str, int] | None:
            assert self.running.poll() is None, self.log.read_text()
            found = {name: child_pid(self.home, name) for name in ("temporal", "worker", "courier", "api")}
            pids = {name: pid for name, pid in found.items() if pid is not None}
            if len(pids) < len(found):
                return None
            try:
                return pids if httpx.get(f"{self.url}/health", timeout=1).status_code == 200 else None
            except httpx.HTTPError:
                return None
        return wait_until(serving, "the stack serves with all its children", timeout=STARTUP)

    def kill_child(self, name: str) -> tuple[int, float]:
        """kill -9 one child; once the supervisor has logged the exit, its pid and the pause."""
        pid = child_pid(self.home, name)
        assert pid is not None, f"no {name} process to kill"
        os.kill(pid, signal.SIGKILL)
        exit_line = re.compile(
            rf"{name} \(pid {pid}\) was killed by SIGKILL after [\d.]+ s up; restarting it in ([\d.]+) s"
        )
        pause = wait_until(lambda: exit_line.search(self.log.read_text()), f"the log tells {name} exited")
        return pid, float(pause.group(1))

    def restarted(self, name: str, old_pid: int) -> int:
        """Waits for a new process of that child; its pid."""

        def new_pid() -> int | None:
            pid = child_pid(self.home, name)
            return pid if pid != old_pid else None

        return wait_until(new_pid, f"a new {name} process")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _cleanup(stack: DevStack) -> None:
    stack.kill()
    for pid in processes_of(stack.home):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def dev_stack(tmp_path: Path):
    stack = DevStack(tmp_path / "home")
    yield stack
    _cleanup(stack)


@pytest.fixture(scope="module")
def running_stack(tmp_path_factory: pytest.TempPathFactory):
    """One stack the kill tests share (a start costs seconds); each test waits for it to be
    whole before it kills anything, so none relies on what another left behind."""
    stack = DevStack(tmp_path_factory.mktemp("supervised") / "home")
    stack.start()
    yield stack
    _cleanup(stack)


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
    assert dev_stack.running.returncode == 0, output
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
    first = subprocess.run(demo, check=False, env=dev_stack.env, capture_output=True, text=True, timeout=120)
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
    second = subprocess.run(demo, check=False, env=dev_stack.env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Strongly authenticated sessions (v1)" in second.stdout


def test_demo_without_a_running_stack_says_how_to_start_one(tmp_path: Path):
    env = {**os.environ, "SWITCHBOARD_HOME": str(tmp_path), "SWITCHBOARD_SUPERVISOR_KEY": "k" * 43,
           "SWITCHBOARD_API_PORT": str(free_port())}
    result = subprocess.run([sys.executable, "-m", "switchboard.cli", "demo"], check=False, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "make run" in result.stderr


def test_a_killed_worker_is_started_again_and_routes(running_stack: DevStack):
    stack = running_stack
    stack.ready()
    old_pid, _ = stack.kill_child("worker")
    new_pid = stack.restarted("worker", old_pid)
    wait_until(lambda: f"worker started again (pid {new_pid})" in stack.log.read_text(),
               "the log tells the worker started again")

    # The API waits for the workflow to route: a 201 with a queue is the new worker's work.
    created = httpx.post(f"{stack.url}/ccaas/1/conversations", json={"channel": "SMS"},
                         headers=stack.headers(), timeout=40)
    assert created.status_code == 201, created.text
    assert created.json()["queueId"]
    assert stack.running.poll() is None


@contextmanager
def receiving() -> Iterator[tuple[str, list[bytes]]]:
    """A webhook receiver on 127.0.0.1 (the dev stack allows private addresses): its URL, and
    the bodies posted to it, in a list that grows as they arrive."""
    bodies: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["content-length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", bodies
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_a_killed_courier_is_started_again_and_delivers(running_stack: DevStack):
    stack = running_stack
    stack.ready()
    old_pid, _ = stack.kill_child("courier")
    stack.restarted("courier", old_pid)
    with receiving() as (url, bodies):
        hook = httpx.post(f"{stack.url}/ccaas/1/webhooks", headers=stack.headers(),
                          json={"url": url, "eventTypes": ["conversation.created"]})
        assert hook.status_code == 201, hook.text
        created = httpx.post(f"{stack.url}/ccaas/1/conversations", json={"channel": "SMS"},
                             headers=stack.headers(), timeout=40)
        assert created.status_code == 201, created.text
        conversation_id = created.json()["id"]
        wait_until(lambda: any(json.loads(body)["data"]["conversation"]["id"] == conversation_id for body in bodies),
                   "the new courier posts the conversation's creation")
        assert httpx.delete(f"{stack.url}/ccaas/1/webhooks/{hook.json()['id']}",
                            headers=stack.headers()).status_code == 200
    assert stack.running.poll() is None


def test_a_killed_api_is_started_again_and_answers(running_stack: DevStack):
    stack = running_stack
    stack.ready()
    old_pid, _ = stack.kill_child("api")
    stack.restarted("api", old_pid)
    pids = stack.ready()
    assert pids["api"] != old_pid
    queues = httpx.get(f"{stack.url}/ccaas/1/queues", headers=stack.headers())
    assert queues.status_code == 200, queues.text


def test_a_killed_temporal_server_comes_back_with_its_state(running_stack: DevStack):
    stack = running_stack
    stack.ready()
    api = f"{stack.url}/ccaas/1"
    queue = httpx.post(f"{api}/queues", json={"name": "Before the kill"}, headers=stack.headers())
    assert queue.status_code == 201, queue.text
    queue_id = queue.json()["id"]
    before = httpx.post(f"{api}/conversations", json={"channel": "SMS", "queueId": queue_id},
                        headers=stack.headers(), timeout=40)
    assert before.status_code == 201, before.text

    old_pid, _ = stack.kill_child("temporal")
    stack.restarted("temporal", old_pid)
    stack.ready()

    # Temporal kept its database: once it serves, the workflow of the conversation made
    # before is there (until then the API answers 503)...
    cid = before.json()["id"]

    def history_read() -> bool:
        response = httpx.get(f"{api}/conversations/{cid}/workflow-history", headers=stack.headers(), timeout=30)
        assert response.status_code in (200, 503), response.text
        return response.status_code == 200

    wait_until(history_read, "the workflow from before the kill is read back")
    # ...and running: a tag goes through it, so the worker is back too...
    tagged = httpx.post(f"{api}/conversations/{cid}/tags", json={"tagName": "after-restart"},
                        headers=stack.headers(), timeout=40)
    assert tagged.status_code == 200, tagged.text
    # ...and a new conversation is created and routed, to the queue made before the kill.
    after = httpx.post(f"{api}/conversations", json={"channel": "SMS", "queueId": queue_id},
                       headers=stack.headers(), timeout=40)
    assert after.status_code == 201, after.text
    assert after.json()["queueId"] == queue_id


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_a_stop_during_a_restart_pause_stops_everything(dev_stack: DevStack, stop: str):
    dev_stack.start()
    dev_stack.ready()
    # Kill the worker until its pause (0.5 s, 1 s, 2 s) leaves time to stop inside it surely.
    pid, pause = dev_stack.kill_child("worker")
    while pause < 2:
        dev_stack.restarted("worker", pid)
        pid, pause = dev_stack.kill_child("worker")
    if stop == "ctrl-c":
        os.killpg(dev_stack.running.pid, signal.SIGINT)  # as a terminal sends it: to the group
    else:
        dev_stack.running.send_signal(signal.SIGTERM)  # as a process manager sends it
    dev_stack.running.wait(timeout=60)

    output = dev_stack.log.read_text()
    assert dev_stack.running.returncode == 0, output
    assert processes_of(dev_stack.home) == [], "a child process outlived the stop"
    last_exit = output.rindex(f"worker (pid {pid}) was killed by SIGKILL")
    assert "worker started again" not in output[last_exit:], "the stop came after the pause"
