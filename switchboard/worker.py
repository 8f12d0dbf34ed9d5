"""A worker process: the Temporal worker (ConversationWorkflow, the routing, queue and
projection activities; the working-hours clock and its activity), the dispatcher that
assigns waiting conversations to agents, and the loop that unsticks runs before their offers
lapse (services.lapse_unsticking). Webhooks and the retention of the event feed are the
courier's, a process of its own (switchboard.courier)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.projection import ProjectionActivities
from activities.routing import RoutingActivities
from activities.working_hours import WorkingHoursActivities
from domain.assignment import DEFAULT_AGENT_CAPACITY
from services.dispatcher import Dispatcher
from services.lapse_unsticking import LapseUnsticker
from services.loops import running
from services.working_hours_clock import start_working_hours_clock
from switchboard import payload_visits
from workflows.conversation import ConversationWorkflow
from workflows.working_hours_clock import WorkingHoursClock

# Workflows run without Temporal's sandbox. The sandbox re-imports a workflow's module for
# every run and runs each activation through it, to catch non-deterministic calls (time,
# randomness, I/O) when they happen: a quarter of a loaded worker's time, and, once the module
# was imported only once (passed through), still a quarter of what was left (py-spy: each
# activation and each payload's serialization context executed as code in the sandbox). Every
# worker runs so, the integration tests' included: what runs is what is tested. The sandbox,
# which would catch such a call, runs the time-skipping tests and the replay of every
# recorded history.
WORKFLOW_RUNNER = UnsandboxedWorkflowRunner()
# A workflow task (a due timer: a lapse, an escalation; an assignment) waits this long on the
# queue of the worker that has the run cached before Temporal hands it to any worker, which
# replays the run from its history. Temporal deems a killed worker's (kill -9) queue alive for
# 10 s, so with the SDK's 10 s its runs' deadlines came up to 10 s late. Shorter is not free:
# a task still queued behind a busy worker's others at the timeout is replayed in full, and
# bench_assignment's backlog of 300 assignments drained at 49/s with 0.5 s or 1.5 s against
# 91-103/s with 3 s or 10 s (the burst queues a few seconds of tasks). 3 s keeps the drain.
# Offers' lapses do not wait for it: services.lapse_unsticking resets their runs beforehand.
STICKY_TAKE_OVER = timedelta(seconds=3)


class WorkerProcess:
    """The Temporal worker and the dispatcher beside it, run together:
    `async with` starts them all. At start it decides working hours' status (before the
    dispatcher's first pass reads it) and starts the working-hours clock of its task queue,
    or signals the one running to decide again."""

    def __init__(self, worker: Worker, dispatcher: Dispatcher, working_hours: WorkingHoursActivities,
                 lapses: LapseUnsticker) -> None:
        self.worker = worker
        self.dispatcher = dispatcher
        self.working_hours = working_hours
        self.lapses = lapses
        self._loops = AsyncExitStack()

    async def _start_loops(self) -> None:
        await self._loops.enter_async_context(running(self.dispatcher, self.lapses))

    async def _start_clock(self) -> None:
        await start_working_hours_clock(self.worker.client, self.worker.task_queue, self.working_hours)

    async def run(self) -> None:
        """Runs them all until `shutdown` (as Worker.run does)."""
        await self._start_clock()
        await self._start_loops()
        await self.worker.run()

    async def shutdown(self) -> None:
        await self._stop_loops()
        await self.worker.shutdown()

    async def _stop_loops(self) -> None:
        await self._loops.aclose()

    async def __aenter__(self) -> WorkerProcess:
        await self.worker.__aenter__()
        await self._start_clock()
        await self._start_loops()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._stop_loops()
        await self.worker.__aexit__(*exc_info)


def build_worker(
    client: Client, engine: Engine, task_queue: str, *,
    default_capacity: int = DEFAULT_AGENT_CAPACITY,
) -> WorkerProcess:
    payload_visits.install()
    dispatcher = Dispatcher(engine, client, default_capacity)
    routing = RoutingActivities(engine)
    projection = ProjectionActivities(engine, on_projected=dispatcher.wake, default_capacity=default_capacity)
    # Hours that open hand out what waited at once.
    working_hours = WorkingHoursActivities(engine, on_opened=dispatcher.wake)
    # Activities are synchronous SQL work, so they run on threads.
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[ConversationWorkflow, WorkingHoursClock],
        workflow_runner=WORKFLOW_RUNNER,
        activities=[routing.route_conversation, routing.describe_queue, routing.match_sla_policy,
                    projection.project_conversation, working_hours.refresh_working_hours_status],
        activity_executor=ThreadPoolExecutor(max_workers=32),
        max_concurrent_activities=32,
        sticky_queue_schedule_to_start_timeout=STICKY_TAKE_OVER,
    )
    return WorkerProcess(worker, dispatcher, working_hours, LapseUnsticker(engine, client))
