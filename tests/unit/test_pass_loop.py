"""The pass loop under the dispatcher and the courier: stopping it ends it, even when the
stop comes as a wake-up is being delivered (on Python 3.11 `asyncio.wait_for` swallowed such
a cancellation, and a worker's shutdown, a test's teardown with it, waited for ever), and it
counts its passes so that a test can wait for one begun after something it did."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import pytest

from services.loops import PassLoop

# A stop must end the loop within this; the loop answers in a few event-loop iterations.
STOP_DEADLINE = 5.0
# Passes no timer starts during a test: every pass here is asked for.
QUIET = 3600.0


class Stoppable(PassLoop):
    """Its first pass runs at once; later ones only when woken."""

    def __init__(self) -> None:
        super().__init__()
        self.interval = 0.0
        self.ran = asyncio.Event()
        # Set to end a loop that a lost cancellation left running: no test leaves one behind.
        self.abandon = False

    async def run_pass(self) -> None:
        if self.abandon:
            raise asyncio.CancelledError
        self.interval = QUIET
        self.ran.set()


def after(iterations: int, action: Callable[[], object]) -> None:
    """Calls `action` that many event-loop iterations from now."""
    if iterations == 0:
        action()
    else:
        asyncio.get_running_loop().call_soon(after, iterations - 1, action)


async def waiting_after_a_pass(loop: Stoppable) -> asyncio.Task[None]:
    """The loop running, its first pass done, waiting to be woken."""
    task = asyncio.create_task(loop.run())
    async with asyncio.timeout(STOP_DEADLINE):
        await loop.ran.wait()
    # The loop went on to wait without yielding after its pass set `ran`.
    return task


# The wake-up's delivery takes a few event-loop iterations (the event set, the waiting task
# done, its waiter told): a stop is tried at each of them, 25 times over.
@pytest.mark.parametrize("delay", range(6), ids=lambda delay: f"stopped {delay} iterations after waking")
async def test_stopping_the_loop_as_it_is_woken_ends_it(delay: int):
    for _ in range(25):
        loop = Stoppable()
        task = await waiting_after_a_pass(loop)
        loop.wake()  # delivered on the next iteration
        after(delay, task.cancel)
        # Waits without cancelling anything: a test's own timeout would cancel the task
        # it awaits too, and a second cancellation would hide the first one's loss.
        await asyncio.wait({task}, timeout=STOP_DEADLINE)
        if not task.done():
            loop.abandon = True
            loop.wake()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            pytest.fail(f"the loop went on after a stop {delay} iterations after a wake-up")
        assert task.cancelled()


class Failing(Stoppable):
    """Its second pass fails."""

    async def run_pass(self) -> None:
        await super().run_pass()
        if self.passes_begun == 2:
            raise RuntimeError("store down")


async def test_passes_are_numbered_and_a_failed_one_is_not_completed():
    loop = Failing()
    task = await waiting_after_a_pass(loop)
    try:
        assert (loop.passes_begun, loop.last_completed_pass) == (1, 1)
        for begun, completed in [(2, 1), (3, 3)]:
            loop.ran.clear()
            loop.wake()
            async with asyncio.timeout(STOP_DEADLINE):
                await loop.ran.wait()
            # `ran` is set within the pass: the loop ends it before this task runs again.
            assert (loop.passes_begun, loop.last_completed_pass) == (begun, completed)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
