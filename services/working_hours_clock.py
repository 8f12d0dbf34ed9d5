"""The working-hours clock's starter: at a worker's start, working hours' status is decided
(before the dispatcher's first pass reads it) and the clock workflow of the task queue is
started, or the one running is signalled to decide again."""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from activities.working_hours import WorkingHoursActivities
from domain.models import utcnow
from workflows.working_hours_clock import HOURS_CHANGED, ClockStart, WorkingHoursClock, clock_workflow_id

log = logging.getLogger("switchboard.worker")


async def start_working_hours_clock(client: Client, task_queue: str, working_hours: WorkingHoursActivities) -> None:
    """Best effort, as everything here: a store not yet migrated, or Temporal refusing,
    leaves it to the clock's next round or the next worker's start."""
    try:
        await asyncio.to_thread(working_hours.refresh, utcnow())
    except Exception:  # noqa: BLE001 - the clock decides again at its next round
        log.warning("working hours' status not decided at start", exc_info=True)
    try:
        await client.start_workflow(
            WorkingHoursClock.run, ClockStart(), id=clock_workflow_id(task_queue),
            task_queue=task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            start_signal=HOURS_CHANGED,
        )
    except RPCError:
        log.warning("working-hours clock not started", exc_info=True)
