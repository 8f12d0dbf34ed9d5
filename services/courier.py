"""The courier: every worker process runs one. It leases due webhook deliveries from SQL
(store.webhooks), posts each signed per Standard Webhooks (the event's body as it was stored
for the subscription's audience), and records the attempt and what follows (delivered,
retried on the schedule or at the receiver's Retry-After, given up, or the subscription
disabled on a 410).

Why SQL and not a Temporal activity per delivery: the deliveries are written in the same
transaction as the events they carry (the outbox), so no event is lost between the two; a
lease in SQL shares them among any number of couriers, and a dead courier's lease runs
out. A workflow per delivery would cost Temporal about what a conversation's own steps
cost, several times per conversation, on the same two cores (see the README's
"Events out"). Nothing here is state: SQL holds every delivery and its attempts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy.engine import Engine
from standardwebhooks.webhooks import Webhook

from domain.events_out import (
    DEFAULT_RETRY_SCHEDULE,
    NextAttempt,
    next_attempt,
    parse_retry_after,
    parse_retry_schedule,
)
from domain.models import utcnow
from services.checked_connect import AddressRefused, CheckedTransport
from services.loops import PassLoop
from store import webhooks
from store.db import session_scope
from store.events_out import body_for, subscription_audience

PASS_INTERVAL = 0.5
RESPONSE_PREFIX = 256
USER_AGENT = "Switchboard-Webhooks/1"

log = logging.getLogger("switchboard.courier")


@dataclass(frozen=True)
class CourierSettings:
    schedule: tuple[timedelta, ...]
    timeout: float = 10.0
    allow_private: bool = False
    # Requests in flight at once, per process.
    concurrency: int = 32

    @property
    def lease(self) -> timedelta:
        """Longer than any one attempt can take (the timeout bounds it whole), with room to
        record it."""
        return timedelta(seconds=self.timeout + 5)


DEFAULT_COURIER = CourierSettings(schedule=parse_retry_schedule(DEFAULT_RETRY_SCHEDULE))


class Courier(PassLoop):
    interval = PASS_INTERVAL
    log = log

    def __init__(self, engine: Engine, settings: CourierSettings) -> None:
        super().__init__()
        self._engine = engine
        self._settings = settings
        self._http: httpx.AsyncClient | None = None
        # Attempts made and not yet written, and the turn to write them.
        self._outcomes: list[tuple[str, webhooks.Attempt, NextAttempt]] = []
        self._recording = asyncio.Lock()

    async def run(self) -> None:
        # Redirects are not followed: one could lead to an address we refuse. The transport
        # checks the address it connects to (services.checked_connect); trust_env=False as
        # a proxy from the environment would resolve the name itself.
        limits = httpx.Limits(max_connections=self._settings.concurrency)
        async with httpx.AsyncClient(
            timeout=self._settings.timeout, follow_redirects=False, trust_env=False,
            transport=CheckedTransport(self._settings.allow_private, limits),
        ) as self._http:
            await super().run()

    async def run_pass(self) -> None:
        """Leases as many due deliveries as there are free slots, each sent in the background."""
        free = self._settings.concurrency - len(self._in_flight)
        if free <= 0:
            return
        for leased in await asyncio.to_thread(self._lease, free):
            self.start(leased.delivery.id, self._send(leased))

    def ended(self, key: str) -> None:
        self.wake()  # a slot is free: more may be due

    def _lease(self, limit: int) -> list[webhooks.Leased]:
        now = utcnow()
        with session_scope(self._engine) as session:
            return webhooks.lease_due(session, now, now + self._settings.lease, limit)

    async def _send(self, leased: webhooks.Leased) -> None:
        assert self._http is not None, "sent only while running"
        event, subscription = leased.event, leased.subscription
        # As it was rendered when published: a retry sends (and signs) the same bytes.
        body = body_for(event, subscription_audience(subscription))
        sent_at = utcnow()
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": event.id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(subscription.secret).sign(event.id, sent_at, body),
        }
        started = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        prefix: str | None = None
        retry_after = None
        try:
            # One deadline for the whole attempt (resolving, connecting, sending, reading), so
            # a receiver that trickles its answer cannot outlast the lease.
            async with asyncio.timeout(self._settings.timeout):
                async with self._http.stream("POST", subscription.url, content=body, headers=headers) as response:
                    status_code = response.status_code
                    prefix = await _prefix_of(response)
                    retry_after = parse_retry_after(response.headers.get("retry-after"), utcnow())
        except AddressRefused as refused:
            error = f"address refused: {refused}"
        except (TimeoutError, httpx.TimeoutException):
            status_code, error = None, f"no answer within {self._settings.timeout:g} s"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"[:255]
        duration_ms = int((time.monotonic() - started) * 1000)
        attempt = webhooks.Attempt(sent_at, status_code, error, duration_ms, prefix)
        then = next_attempt(
            status_code, leased.delivery.attempts + 1, utcnow(), self._settings.schedule,
            retry_after if status_code in (429, 503) else None,
        )
        self._outcomes.append((leased.delivery.id, attempt, then))
        await self._record_outcomes()

    async def _record_outcomes(self) -> None:
        """Writes every outcome waiting, in one transaction: a sender that finds the writer
        busy waits, and its outcome has most often been written with others meanwhile (a
        commit per attempt held one subscription to a few dozen deliveries a second). An
        outcome lost to a failed write is sent again once its lease runs out."""
        async with self._recording:
            batch, self._outcomes = self._outcomes, []
            if batch:
                await asyncio.to_thread(self._record, batch)

    def _record(self, outcomes: list[tuple[str, webhooks.Attempt, NextAttempt]]) -> None:
        with session_scope(self._engine) as session:
            for delivery_id, attempt, then in outcomes:
                webhooks.record_attempt(session, delivery_id, attempt, then)


async def _prefix_of(response: httpx.Response) -> str:
    """The answer's first bytes: the log keeps no more, and reading stops there."""
    taken = b""
    async for chunk in response.aiter_bytes():
        taken += chunk
        if len(taken) >= RESPONSE_PREFIX:
            break
    return taken[:RESPONSE_PREFIX].decode("utf-8", errors="replace")
