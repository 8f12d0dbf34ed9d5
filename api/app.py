"""The FastAPI application, assembled from its routers."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api import conversations, queues, routing
from api.auth import AuthMiddleware
from api.errors import install_error_handlers
from store.routing import RoutingLoader


def create_app(engine: Engine, temporal: Client, task_queue: str) -> FastAPI:
    app = FastAPI(
        title="Switchboard",
        version="0.1.0",
        summary="Conversation queues and routing; every conversation a Temporal workflow.",
    )
    app.state.engine = engine
    app.state.temporal = temporal
    app.state.task_queue = task_queue
    app.state.routing_loader = RoutingLoader()
    app.add_middleware(AuthMiddleware, engine=engine)
    install_error_handlers(app)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "UP"}

    app.include_router(queues.router)
    app.include_router(routing.router)
    app.include_router(conversations.router)
    return app
