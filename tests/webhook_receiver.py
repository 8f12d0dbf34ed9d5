"""A real HTTP receiver for webhook tests: a uvicorn server on 127.0.0.1 in this process,
recording what it is sent, answering as the test tells it (a status, a delay, Retry-After)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import uvicorn

from domain.events_out import parse_retry_schedule
from services.courier import CourierSettings
from tests.helpers import wait_for
from tests.processes import free_port

# Retries in a test come within seconds (ten of them over about 7 s), to a receiver on this machine.
FAST_SCHEDULE = "100ms,200ms,400ms,800ms,1s,1s,1s,1s,1s,1s"
FAST_WEBHOOKS = CourierSettings(
    schedule=parse_retry_schedule(FAST_SCHEDULE), timeout=2.0, allow_private=True
)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival
    path: str = ""
    peer: tuple[str, int] | None = None  # the sender's address and port: one per connection


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # Answers to give, first to last; once spent, 200.
    answers: list[int] = field(default_factory=list)
    delay: timedelta = timedelta(0)
    retry_after: str | None = None

    def ids(self) -> list[str]:
        return [item.headers["webhook-id"] for item in self.received]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        peer = tuple(scope["client"]) if scope.get("client") else None
        self.received.append(Received(headers, body, time.monotonic(), scope["path"], peer))
        if self.delay:
            await asyncio.sleep(self.delay.total_seconds())  # a slow receiver, on purpose
        status = self.answers.pop(0) if self.answers else 200
        extra = [(b"retry-after", self.retry_after.encode())] if self.retry_after and status in (429, 503) else []
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain"), *extra]})
        await send({"type": "http.response.body", "body": b"ok" * 200})


@contextlib.asynccontextmanager
async def running_receiver(
    path: str = "/hook", port: int | None = None, tls: tuple[Path, Path] | None = None,
) -> AsyncIterator[Receiver]:
    """A receiver on `port` (else a free one) until the block ends; over TLS with `tls`'s
    certificate and key files."""
    port = port or free_port()
    receiver = Receiver(url=f"{'https' if tls else 'http'}://127.0.0.1:{port}{path}")
    certificate, key = tls or (None, None)
    server = uvicorn.Server(uvicorn.Config(receiver, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", ssl_certfile=certificate, ssl_keyfile=key))
    serving = asyncio.create_task(server.serve())
    try:
        async def started() -> bool:
            return server.started

        await wait_for(started, timeout=10, interval=0.01)
        yield receiver
    finally:
        server.should_exit = True
        await serving
