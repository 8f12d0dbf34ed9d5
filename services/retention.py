"""Retention in the courier process: every courier runs this loop beside its courier. A pass
deletes what store.retention says may go (the event feed and finished webhook deliveries with
their attempts, older than SWITCHBOARD_RETENTION_DAYS), one short transaction per batch with a
pause between, so a big backlog never holds the tables long.

Why the courier process: it owns the outbox (it sends what the feed's deliveries hold), and
API processes should answer requests only, workers run conversations. Several couriers each run
passes; they may delete the same batch at once, which costs nothing (a row is deleted once, the
other finds it gone)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from domain.models import utcnow
from services.loops import PassLoop
from store.retention import BATCH, Pruned, prune_batch

log = logging.getLogger("switchboard.retention")

DEFAULT_RETENTION_DAYS = 30
# A pass an hour: what becomes old in an hour is little.
PASS_INTERVAL = 3600.0
# The first pass comes this long after the process starts, not in the middle of starting.
FIRST_PASS_AFTER = 60.0
# Between two batches of a pass: the courier and the feed's writers get the tables.
PAUSE_SECONDS = 0.1


class Retention(PassLoop):
    interval = PASS_INTERVAL
    log = log

    def __init__(
        self, engine: Engine, days: int = DEFAULT_RETENTION_DAYS, *,
        clock: Callable[[], datetime] = utcnow, batch: int = BATCH, first_pass_after: float = FIRST_PASS_AFTER,
    ) -> None:
        super().__init__()
        self._engine = engine
        self.days = days
        self._clock = clock
        self._batch = batch
        self._first_pass_after = first_pass_after

    async def run(self) -> None:
        first = asyncio.get_running_loop().call_later(self._first_pass_after, self.wake)
        try:
            await super().run()
        finally:
            first.cancel()

    async def run_pass(self) -> None:
        await self.prune_now()

    async def prune_now(self) -> Pruned:
        """Deletes, batch after batch, what is older than the retention period now."""
        cutoff = self._clock() - timedelta(days=self.days)
        pruned = Pruned()
        while True:
            done = await asyncio.to_thread(prune_batch, self._engine, cutoff, self._batch)
            pruned += done
            if done.deliveries < self._batch and done.feed < self._batch:
                break
            await asyncio.sleep(PAUSE_SECONDS)
        if pruned.total:
            log.info("retention: deleted %d feed events, %d deliveries and %d attempts older than %s",
                     pruned.feed, pruned.deliveries, pruned.attempts, cutoff.isoformat())
        return pruned
