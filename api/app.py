"""The FastAPI application, assembled from its routers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Literal

from fastapi import Depends, FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api import (
    agents,
    assignment,
    bots,
    conversation_actions,
    conversations,
    eligible_agents,
    event_stream,
    messages,
    offers,
    people,
    queues,
    routing,
    routing_simulation,
    skills,
    sla_policies,
    staffing,
    statistics,
    tags,
    webhooks,
    working_hours,
)
from api.auth import AuthMiddleware
from api.beside import install_beside
from api.docs import install_docs
from api.errors import install_error_handlers
from api.feed_reader import FeedReader
from api.limits import BodySizeLimit
from api.observability import RequestMetrics, metrics_endpoint
from api.openapi import api_document
from api.permissions import authorize
from api.query_params import reject_unknown_query_params
from api.schemas import ApiModel
from api.security_headers import SecurityHeaders
from api.stream_slots import DEFAULT_PER_KEY, DEFAULT_PER_PROCESS, StreamSlots
from domain.assignment import DEFAULT_AGENT_CAPACITY
from domain.models import utcnow
from store.routing import RoutingLoader


class HealthOut(ApiModel):
    status: Literal["UP"]


# How long a change waits for the conversation's workflow before answering 503.
UPDATE_DEADLINE_SECONDS = 20.0


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await app.state.feed_reader.stop()  # the live streams end with the app


def create_app(
    engine: Engine, temporal: Client, task_queue: str, temporal_ui_url: str = "http://127.0.0.1:8233",
    update_deadline: float = UPDATE_DEADLINE_SECONDS,
    default_agent_capacity: int = DEFAULT_AGENT_CAPACITY,
    webhook_allow_private: bool = False,
    clock: Callable[[], datetime] = utcnow,
    streams_per_key: int = DEFAULT_PER_KEY,
    streams_per_process: int = DEFAULT_PER_PROCESS,
) -> FastAPI:
    app = FastAPI(
        # Who may, then whether every query parameter is one the route knows.
        dependencies=[Depends(authorize), Depends(reject_unknown_query_params)],
        title="Switchboard",
        version="0.1.0",
        summary="Conversation queues and routing; every conversation a Temporal workflow.",
        docs_url=None,  # api.docs serves /docs from the package; no CDN, no inline script
        redoc_url=None,  # ReDoc writes inline styles, which the Content-Security-Policy refuses
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.temporal = temporal
    app.state.task_queue = task_queue
    app.state.temporal_ui_url = temporal_ui_url
    app.state.update_deadline = update_deadline
    app.state.default_agent_capacity = default_agent_capacity
    # Whether a webhook URL may point at a private address (SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE).
    app.state.webhook_allow_private = webhook_allow_private
    app.state.routing_loader = RoutingLoader()
    # "Now" for what depends on the time of day (working hours' status); tests fix it.
    app.state.clock = clock
    # Live streams open at once (SWITCHBOARD_STREAMS_PER_KEY, SWITCHBOARD_STREAMS_PER_PROCESS).
    app.state.stream_slots = StreamSlots(streams_per_key, streams_per_process)
    # The one reader of the event feed for all of them (started with the first).
    app.state.feed_reader = FeedReader(engine)
    app.add_middleware(AuthMiddleware, engine=engine)
    install_beside(app)  # other applications (api.beside) pass by authentication only
    app.add_middleware(BodySizeLimit)  # nothing reads a body that is too large
    registry = CollectorRegistry()  # one per app: tests and benchmarks make several
    app.add_middleware(RequestMetrics, registry=registry)  # counts every answer
    app.add_middleware(SecurityHeaders)  # outermost: every answer, however made, carries them
    install_error_handlers(app)

    @app.get("/health", tags=["health"], response_model=HealthOut)
    def health() -> dict[str, str]:
        return {"status": "UP"}

    app.add_api_route("/metrics", metrics_endpoint(registry), methods=["GET"], tags=["health"],
                      include_in_schema=False)

    # statistics first: /ccaas/1/queues/statistics must not be taken for a queue id.
    routers = [
        statistics.router, staffing.router, queues.router,
        bots.router, agents.router, skills.router, routing_simulation.router,
        routing.router, conversations.router, conversation_actions.router, eligible_agents.router, offers.router,
        people.router,
        tags.router, messages.router, assignment.router, webhooks.router, event_stream.router,
        working_hours.router, sla_policies.router,
    ]
    for router in routers:
        app.include_router(router)
    # Every route of the API, flat: a 405 names all the methods its path allows.
    app.state.api_routes = [route for router in routers for route in router.routes]
    # FastAPI's documented way to replace the schema, which its typing (a method) does not allow.
    app.openapi = lambda: api_document(app)  # type: ignore[method-assign]
    install_docs(app)
    return app
