"""A worker process: the Temporal worker (ConversationWorkflow, the routing, queue and
projection activities; the working-hours clock and its activity), the dispatcher that assigns
waiting conversations to agents, the courier that delivers webhooks, and retention, which
deletes the event feed and finished deliveries past SWITCHBOARD_RETENTION_DAYS."""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.projection import ProjectionActivities
from activities.routing import RoutingActivities
from activities.working_hours import WorkingHoursActivities
from domain.assignment import DEFAULT_AGENT_CAPACITY
from services.courier import DEFAULT_COURIER, Courier, CourierSettings
from services.dispatcher import Dispatcher
from services.retention import DEFAULT_RETENTION_DAYS, Retention
from services.working_hours_clock import start_working_hours_clock
from workflows.conversation import ConversationWorkflow
from workflows.working_hours_clock import WorkingHoursClock

# The sandbox re-imports a workflow's module for every run, to catch non-deterministic calls
# in it (time, randomness, I/O) when they happen. That was a quarter of a loaded worker's
# time, so a worker imports `workflows` (and the `domain` it uses) once. Every worker runs so,
# the integration tests' included: what runs is what is tested. The full sandbox, which would
# catch such a call, runs the time-skipping tests and the replay of every recorded history.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows")
)


class WorkerProcess:
    """The Temporal worker and the loops beside it (dispatcher, courier, retention), run together:
    `async with` starts them all. At start it decides working hours' status (before the
    dispatcher's first pass reads it) and starts the working-hours clock of its task queue,
    or signals the one running to decide again."""

    def __init__(self, worker: Worker, dispatcher: Dispatcher, courier: Courier,
                 working_hours: WorkingHoursActivities, retention: Retention) -> None:
        self.worker = worker
        self.dispatcher = dispatcher
        self.courier = courier
        self.retention = retention
        self.working_hours = working_hours
        self._loops: list[asyncio.Task[None]] = []

    def _start_loops(self) -> None:
        self._loops = [asyncio.create_task(loop.run()) for loop in (self.dispatcher, self.courier, self.retention)]

    async def _start_clock(self) -> None:
        await start_working_hours_clock(self.worker.client, self.worker.task_queue, self.working_hours)

    async def run(self) -> None:
        """Runs them all until `shutdown` (as Worker.run does)."""
        await self._start_clock()
        self._start_loops()
        await self.worker.run()

    async def shutdown(self) -> None:
        await self._stop_loops()
        await self.worker.shutdown()

    async def _stop_loops(self) -> None:
        for loop in self._loops:
            loop.cancel()
        for loop in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        self._loops = []

    async def __aenter__(self) -> WorkerProcess:
        await self.worker.__aenter__()
        await self._start_clock()
        self._start_loops()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._stop_loops()
        await self.worker.__aexit__(*exc_info)


def build_worker(
    client: Client, engine: Engine, task_queue: str, *,
    default_capacity: int = DEFAULT_AGENT_CAPACITY, webhooks: CourierSettings = DEFAULT_COURIER,
    retention_days: int = DEFAULT_RETENTION_DAYS,
) -> WorkerProcess:
    dispatcher = Dispatcher(engine, client, default_capacity)
    courier = Courier(engine, webhooks)
    routing = RoutingActivities(engine)

    def projected() -> None:
        dispatcher.wake()
        courier.wake()

    projection = ProjectionActivities(engine, on_projected=projected)
    # Hours that open hand out what waited at once.
    working_hours = WorkingHoursActivities(engine, on_opened=dispatcher.wake)
    # Activities are synchronous SQL work, so they run on threads.
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[ConversationWorkflow, WorkingHoursClock],
        workflow_runner=WORKFLOW_RUNNER,
        activities=[routing.route_conversation, routing.describe_queue, projection.project_conversation,
                    working_hours.refresh_working_hours_status],
        activity_executor=ThreadPoolExecutor(max_workers=32),
        max_concurrent_activities=32,
    )
    return WorkerProcess(worker, dispatcher, courier, working_hours, Retention(engine, retention_days))
