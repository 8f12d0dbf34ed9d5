"""The Temporal worker: ConversationWorkflow plus the routing and projection activities."""

from __future__ import annotations

import compileall
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

import workflows
from activities.projection import ProjectionActivities
from activities.routing import RoutingActivities
from workflows.conversation import ConversationWorkflow


def compile_workflow_modules() -> None:
    """The workflow sandbox imports the workflow module afresh for every conversation. With
    no bytecode on disk (PYTHONDONTWRITEBYTECODE is set, or nothing has run it yet) each import
    compiles the source again, about a tenth of a loaded worker's time; written once, the
    bytecode is read instead. Where the folder is read-only this does nothing."""
    compileall.compile_dir(Path(workflows.__file__).parent, quiet=2)


def build_worker(client: Client, engine: Engine, task_queue: str) -> Worker:
    compile_workflow_modules()
    routing = RoutingActivities(engine)
    projection = ProjectionActivities(engine)
    # Activities are synchronous SQL work, so they run on threads.
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[ConversationWorkflow],
        activities=[routing.route_conversation, projection.project_conversation],
        activity_executor=ThreadPoolExecutor(max_workers=32),
        max_concurrent_activities=32,
    )
