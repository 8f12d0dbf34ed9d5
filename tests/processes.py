"""Switchboard as separate processes (`switchboard api`, `worker`, `courier`) on one database
and task queue: for the tests that race guarantees across processes and kill one of them."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
from temporalio.client import Client

# Below Linux's ephemeral range (32768-60999): a port the kernel hands out for port 0 is one it
# may hand the next outgoing connection too, and a server started seconds later found it taken.
LISTEN_PORTS = range(20000, 32768)


def free_port() -> int:
    """A port nothing listens on now, from outside the ephemeral range."""
    while True:
        port = random.choice(LISTEN_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


@dataclass
class Processes:
    env: dict[str, str]
    api_urls: list[str] = field(default_factory=list)
    workers: list[subprocess.Popen] = field(default_factory=list)
    couriers: list[subprocess.Popen] = field(default_factory=list)
    started: list[subprocess.Popen] = field(default_factory=list)

    def start(self, command: str, **extra: str) -> subprocess.Popen:
        child = subprocess.Popen([sys.executable, "-m", "switchboard.cli", command], env={**self.env, **extra},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started.append(child)
        return child

    def start_worker(self) -> subprocess.Popen:
        worker = self.start("worker")
        self.workers.append(worker)
        return worker

    def start_courier(self) -> subprocess.Popen:
        courier = self.start("courier")
        self.couriers.append(courier)
        return courier


@contextmanager
def switchboard_processes(
    database_url: str, temporal: Client, key: str, *, apis: int, workers: int, couriers: int, **settings: str
) -> Iterator[Processes]:
    """`apis` API, `workers` worker and `couriers` courier processes with these SWITCHBOARD_*
    settings; all are stopped at the end (a killed one is already gone)."""
    running = Processes(env={
        **os.environ,
        "SWITCHBOARD_DATABASE_URL": database_url,
        "SWITCHBOARD_TEMPORAL_ADDRESS": temporal.service_client.config.target_host,
        "SWITCHBOARD_TASK_QUEUE": f"processes-{uuid.uuid4()}",
        "SWITCHBOARD_SUPERVISOR_KEY": key,
        **settings,
    })
    try:
        for _ in range(apis):
            port = free_port()
            running.start("api", SWITCHBOARD_API_PORT=str(port))
            running.api_urls.append(f"http://127.0.0.1:{port}")
        for _ in range(workers):
            running.start_worker()
        for _ in range(couriers):
            running.start_courier()
        yield running
    finally:
        for child in running.started:
            if child.poll() is None:
                child.terminate()
                child.wait(timeout=30)


async def healthy(http: httpx.AsyncClient) -> bool:
    try:
        return (await http.get("/health")).status_code == 200
    except httpx.TransportError:
        return False
