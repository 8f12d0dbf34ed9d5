"""Operations: Prometheus metrics of the API's requests, and one access log line each.

The access line names the route template and the conversation id where there is one, never
the query string (People look-ups carry phone numbers and emails there) nor any header.
"""

from __future__ import annotations

import logging
import time

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("switchboard.access")


class RequestMetrics:
    """Counts requests by method, route and status, and times them; logs one line each."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "switchboard_http_requests", "HTTP requests answered",
            ["method", "route", "status"], registry=registry,
        )
        self.latency = Histogram(
            "switchboard_http_request_duration_seconds", "Time to answer an HTTP request",
            ["method", "route"], registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            elapsed = time.perf_counter() - began
            # The template, not the path: ids would make a label per conversation.
            route = getattr(scope.get("route"), "path", "unmatched")
            self.requests.labels(scope["method"], route, str(status)).inc()
            self.latency.labels(scope["method"], route).observe(elapsed)
            access_log.info(
                "%s %s %s", scope["method"], route, status,
                extra={"conversation_id": scope.get("path_params", {}).get("conversation_id"),
                       "duration_ms": round(elapsed * 1000, 1)},
            )


def metrics_endpoint(registry: CollectorRegistry):
    def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return metrics
