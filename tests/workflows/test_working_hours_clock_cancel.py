"""The working-hours clock is cancelled while its refresh runs: the cancellation ends it (as
cancelled), it is not taken for a failed refresh to be tried again a minute later (which kept
a cancelled clock running for ever)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import CancelledError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.working_hours import REFRESH_ACTIVITY, StatusRefreshed, StatusRefreshRequest
from tests.helpers import wait_for
from tests.workflows.test_conversation_timers import env
from workflows.working_hours_clock import ClockStart, WorkingHoursClock, clock_workflow_id

__all__ = ["env"]  # a time-skipping server per test

DEADLINE = 30.0


class StuckRefresh:
    """A refresh that runs until the test lets it go (a slow store), counting its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = threading.Event()

    @activity.defn(name=REFRESH_ACTIVITY)
    def refresh(self, request: StatusRefreshRequest) -> StatusRefreshed:
        self.calls += 1
        self.release.wait(DEADLINE)
        return StatusRefreshed()


async def test_a_cancellation_during_the_refresh_ends_the_clock_as_cancelled(env: WorkflowEnvironment):
    task_queue = f"clock-{uuid.uuid4()}"
    refresh = StuckRefresh()
    async with Worker(env.client, task_queue=task_queue, workflows=[WorkingHoursClock],
                      activities=[refresh.refresh], activity_executor=ThreadPoolExecutor(max_workers=2)):
        try:
            handle = await env.client.start_workflow(
                WorkingHoursClock.run, ClockStart(), id=clock_workflow_id(task_queue), task_queue=task_queue,
            )

            async def refreshing() -> bool:
                return refresh.calls >= 1

            await wait_for(refreshing, DEADLINE, interval=0.02)
            await handle.cancel()

            async def ended() -> WorkflowExecutionStatus | None:
                status = (await handle.describe()).status
                return None if status == WorkflowExecutionStatus.RUNNING else status

            # Real time only: a clock that swallowed its cancellation would wait out its
            # minute before trying again, and skipped time would let it.
            with env.auto_time_skipping_disabled():
                assert await wait_for(ended, DEADLINE, interval=0.05) == WorkflowExecutionStatus.CANCELED
            with pytest.raises(WorkflowFailureError) as failure:
                await handle.result()
            assert isinstance(failure.value.cause, CancelledError)
            assert refresh.calls == 1
        finally:
            refresh.release.set()  # before the worker stops: it waits for its activities
