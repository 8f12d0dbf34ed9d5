"""Load from the bench's process: closed-loop (a number in flight) and open-loop (a rate,
whatever the answers take), timed per request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

One = Callable[[], Awaitable[None]]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    latencies: list[float]  # seconds

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile(self, q: float) -> float:
        """In milliseconds."""
        return percentile(self.latencies, q) * 1000

    def row(self) -> str:
        return (f"{self.name:<34} {self.count:>6} {self.rate:>10.1f} "
                f"{self.percentile(0.5):>9.1f} {self.percentile(0.99):>9.1f}")


HEADER = f"{'':<34} {'count':>6} {'per s':>10} {'p50 ms':>9} {'p99 ms':>9}"


async def drive(name: str, count: int, concurrency: int, one: One) -> Result:
    """`count` calls of `one`, `concurrency` in flight."""
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


async def paced(name: str, count: int, rate: float, one: One) -> Result:
    """`count` calls of `one` started `rate` a second whether or not earlier ones have
    answered (open loop: a slow answer does not slow the arrivals, as with real clients)."""
    latencies: list[float] = []

    async def timed() -> None:
        began = time.perf_counter()
        await one()
        latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    calls = []
    for n in range(count):
        delay = began + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        calls.append(asyncio.create_task(timed()))
    await asyncio.gather(*calls)
    return Result(name, count, time.perf_counter() - began, latencies)
