"""The Temporal worker: ConversationWorkflow plus the routing and projection activities."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.projection import ProjectionActivities
from activities.routing import RoutingActivities
from workflows.conversation import ConversationWorkflow


def build_worker(client: Client, engine: Engine, task_queue: str) -> Worker:
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
