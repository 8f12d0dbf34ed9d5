"""A loop that runs passes: when woken (from any thread) and at least every `interval`
seconds. The dispatcher and the courier are such loops; their work in flight runs in
background tasks, cancelled when the loop stops. Passes are numbered, so that a caller (a
test) can wait for a pass begun after something it did."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any


class PassLoop:
    interval: float = 1.0
    log = logging.getLogger("switchboard")

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Work this loop started and that has not ended, by key.
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        # Passes begun (the one running, if any, is this number), and the number of the
        # latest that ran to its end without failing (0: none yet). A pass numbered above
        # `passes_begun` as read at some moment began after that moment.
        self.passes_begun = 0
        self.last_completed_pass = 0

    def wake(self) -> None:
        """Asks for a pass soon; callable from any thread (activities run on threads)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run_pass(self) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            while True:
                # Not asyncio.wait_for: on Python 3.11 it returns the event's result when a
                # cancellation arrives as the event is set, so the loop would not stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.interval):
                        await self._wake.wait()
                self._wake.clear()
                self.passes_begun += 1
                number = self.passes_begun
                try:
                    await self.run_pass()
                except Exception:  # noqa: BLE001 - a failed pass (store down) is tried again next time
                    self.log.exception("pass failed")
                else:
                    self.last_completed_pass = number
        finally:
            for task in list(self._in_flight.values()):
                task.cancel()

    @property
    def busy(self) -> bool:
        """Whether work a pass started is still running."""
        return bool(self._in_flight)

    def in_flight(self, key: str) -> bool:
        return key in self._in_flight

    def start(self, key: str, work: Coroutine[Any, Any, None]) -> None:
        """Runs `work` in the background, known by `key` until it ends."""
        task = asyncio.create_task(work)
        self._in_flight[key] = task
        task.add_done_callback(functools.partial(self._ended, key))

    def _ended(self, key: str, _: asyncio.Task[None]) -> None:
        self._in_flight.pop(key, None)
        self.ended(key)

    def ended(self, key: str) -> None:
        """Called when background work ends; a loop may ask for another pass."""


@contextlib.asynccontextmanager
async def running(*loops: PassLoop) -> AsyncIterator[None]:
    """Runs the loops in the background until the block ends, then stops them (each then
    cancels the work it started)."""
    tasks = [asyncio.create_task(loop.run()) for loop in loops]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
