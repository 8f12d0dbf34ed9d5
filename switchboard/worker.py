"""The Temporal worker: ConversationWorkflow plus the routing and projection activities."""

from __future__ import annotations

import compileall
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import workflows
from activities.projection import ProjectionActivities
from activities.routing import RoutingActivities
from workflows.conversation import ConversationWorkflow

# The sandbox re-imports a workflow's module for every run, to catch non-deterministic calls
# in it (time, randomness, I/O) when they happen. That was a quarter of a loaded worker's
# time, so a deployed worker imports `workflows` once; the test suite runs every workflow
# path with the full sandbox (the stack fixture, the time-skipping tests and the replay of
# every recorded history), which is where such a call would be caught.
LEAN_SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows")
)
FULL_SANDBOX = SandboxedWorkflowRunner()


def compile_workflow_modules() -> None:
    """Under the full sandbox, each run imports the workflow module afresh. With no bytecode
    on disk (PYTHONDONTWRITEBYTECODE is set, or nothing has run it yet) each import compiles
    the source again; written once, the bytecode is read instead. Where the folder is
    read-only this does nothing."""
    compileall.compile_dir(Path(workflows.__file__).parent, quiet=2)


def build_worker(client: Client, engine: Engine, task_queue: str, *, full_sandbox: bool = False) -> Worker:
    if full_sandbox:
        compile_workflow_modules()
    routing = RoutingActivities(engine)
    projection = ProjectionActivities(engine)
    # Activities are synchronous SQL work, so they run on threads.
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ConversationWorkflow],
        workflow_runner=FULL_SANDBOX if full_sandbox else LEAN_SANDBOX,
        activities=[routing.route_conversation, projection.project_conversation],
        activity_executor=ThreadPoolExecutor(max_workers=32),
        max_concurrent_activities=32,
    )
