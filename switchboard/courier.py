"""A courier process (`switchboard courier`): the courier that delivers webhooks
(services.courier), the feed watch that wakes it when events are written
(services.feed_watch), and retention, which deletes the event feed and finished deliveries
past SWITCHBOARD_RETENTION_DAYS (services.retention). Run as many as the deliveries need;
they share the work by leases.

Why a process of its own: in the worker it shared one Python thread with the workflows and
the activities, so in a burst a delivery waited behind them, seconds at 32 creates in flight
(README, "Benchmarks"). Here it waits for nothing but its receivers."""

from __future__ import annotations

from contextlib import AsyncExitStack

from sqlalchemy.engine import Engine

from services.courier import Courier, CourierSettings
from services.feed_watch import FeedWatch
from services.loops import running
from services.retention import Retention


class CourierProcess:
    """The courier, its feed watch and retention; `async with` runs them."""

    def __init__(self, engine: Engine, settings: CourierSettings, retention: Retention) -> None:
        self.courier = Courier(engine, settings)
        self.watch = FeedWatch(engine, on_moved=self.courier.wake)
        self.retention = retention
        self._running = AsyncExitStack()

    async def __aenter__(self) -> CourierProcess:
        await self._running.enter_async_context(running(self.courier, self.watch, self.retention))
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._running.aclose()
