"""WorkingHoursClock: one workflow per task queue (`working-hours-clock-<task queue>`) that
turns working hours' stored status at each opening and closing, so auto-assignment paused
outside hours resumes at opening time without anyone acting, and without any loop polling
the hours.

Each round, an activity decides every working hours' status at the workflow's time and
returns the earliest next boundary (an opening or a closing); the workflow then waits for it with a durable timer
(`wait_condition` with a timeout), which survives worker restarts: Friday 17:00 to Monday
09:00 is one timer, nothing in between. An edit of the hours signals `hours_changed` (the
API, best effort; the save itself already wrote the new status), which ends the wait and
decides again at once. A worker starts the clock at start-up, or signals the one running, so
an edit whose signal was lost (Temporal down) is caught up then, or at the clock's next
boundary. It continues as new when the server suggests it or after MAX_ROUNDS rounds.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from domain.activity_stubs import REFRESH_WORKING_HOURS_STATUS, StatusRefreshRequest
    from domain.working_hours import ClockStart

CLOCK_ID_PREFIX = "working-hours-clock"
# The signal of an edit of the hours; its wire name, as histories and the API send it.
HOURS_CHANGED = "hours_changed"
# The refresh reads and writes a few rows; a store that is down is tried again, and after the
# last attempt the clock waits RETRY_AFTER (or an edit) before its next round.
REFRESH_ATTEMPT = timedelta(seconds=30)
REFRESH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30), maximum_attempts=10,
)
RETRY_AFTER = timedelta(minutes=1)
# A round is about ten events (activity, timer or signal, workflow tasks): a run's history
# stays far below the server's limits even where it does not suggest continuing as new.
MAX_ROUNDS = 500


def clock_workflow_id(task_queue: str) -> str:
    return f"{CLOCK_ID_PREFIX}-{task_queue}"


@workflow.defn
class WorkingHoursClock:
    def __init__(self) -> None:
        self._hours_edited = False
        self._next_boundary_at: datetime | None = None

    @workflow.run
    async def run(self, start: ClockStart) -> None:
        for _ in range(MAX_ROUNDS):
            # Cleared before the refresh: an edit signalled while it runs means another round.
            self._hours_edited = False
            wake_at = await self._refresh()
            self._next_boundary_at = wake_at
            timeout = None if wake_at is None else wake_at - workflow.now()
            if timeout is None or timeout > timedelta(0):
                # A timeout: the boundary is due.
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: self._hours_edited, timeout=timeout)
            if workflow.info().is_continue_as_new_suggested():
                break
        workflow.continue_as_new(ClockStart())

    async def _refresh(self) -> datetime | None:
        """Decides every status now; when to wake next (None: only when the hours are edited)."""
        try:
            refreshed = await workflow.execute_activity(
                REFRESH_WORKING_HOURS_STATUS.name, StatusRefreshRequest(at=workflow.now()),
                result_type=REFRESH_WORKING_HOURS_STATUS.result,
                start_to_close_timeout=REFRESH_ATTEMPT, retry_policy=REFRESH_RETRY,
            )
        except ActivityError as failed:
            # The clock's own cancellation reaches it as the activity's cancelled cause: it is
            # not a failure to wait out, it ends the workflow (as cancelled).
            if is_cancelled_exception(failed):
                raise
            workflow.logger.warning("working hours not refreshed; trying again in %s", RETRY_AFTER)
            return workflow.now() + RETRY_AFTER
        return refreshed.next_change_at

    @workflow.signal(name=HOURS_CHANGED)
    def hours_edited(self) -> None:
        self._hours_edited = True

    # Named `next_change_at` on the wire, as operators and histories may query it.
    @workflow.query(name="next_change_at")
    def next_boundary_at(self) -> datetime | None:
        """When the clock next wakes by itself (for operators and tests)."""
        return self._next_boundary_at
