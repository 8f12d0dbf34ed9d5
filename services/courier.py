"""The courier: every courier process (`switchboard courier`) runs one. It leases due
webhook deliveries from SQL (store.webhooks), posts each signed per Standard Webhooks (the
event's body as it was stored for the subscription's audience), and records the attempt and
what follows (delivered, retried on the schedule or at the receiver's Retry-After, given up,
or the subscription disabled on a 410).

Why SQL and not a Temporal activity per delivery: the deliveries are written in the same
transaction as the events they carry (the outbox), so no event is lost between the two; a
lease in SQL shares them among any number of couriers, and a dead courier's lease runs
out. A workflow per delivery would cost Temporal about what a conversation's own steps
cost, several times per conversation, on the same two cores (see the README's
"Events out"). Nothing here is state: SQL holds every delivery and its attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
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
READ_AT_MOST = 64 * 1024
USER_AGENT = "Switchboard-Webhooks/1"
# A subscription's HTTP client is closed once unused this long (the longest timeout is 60 s).
IDLE_SECONDS = 300.0

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
        self._destinations: Destinations | None = None
        # Attempts made and not yet written: the next pass writes them.
        self._outcomes: list[tuple[str, webhooks.Attempt, NextAttempt]] = []

    async def run(self) -> None:
        async with Destinations(self._settings) as self._destinations:
            try:
                await super().run()
            finally:
                # Stopping: what was sent is written, so it is not sent again once the
                # lease runs out (best effort: a courier killed is sent again, as ever).
                outcomes, self._outcomes = self._outcomes, []
                if outcomes:
                    with contextlib.suppress(Exception):
                        await asyncio.to_thread(self._record_and_lease, outcomes, 0)

    async def run_pass(self) -> None:
        """Writes the attempts made since the last pass, then leases as many due deliveries
        as there are free slots, each sent in the background: one trip to the database for
        both, as a delivery's lease is its subscription's slot until its attempt is written
        (a trip each, and a delivery's turn waiting on both, held one subscription to about
        forty deliveries a second beside a loaded worker)."""
        assert self._destinations is not None, "passes run only while running"
        await self._destinations.close_idle()
        free = max(0, self._settings.concurrency - len(self._in_flight))
        outcomes, self._outcomes = self._outcomes, []
        if free == 0 and not outcomes:
            return
        for leased in await asyncio.to_thread(self._record_and_lease, outcomes, free):
            self.start(leased.delivery.id, self._send(leased))

    def ended(self, key: str) -> None:
        self.wake()  # its attempt waits to be written, and a slot is free: more may be due

    def _record_and_lease(
        self, outcomes: list[tuple[str, webhooks.Attempt, NextAttempt]], limit: int,
    ) -> list[webhooks.Leased]:
        """The attempts waiting, written in one transaction (a commit per attempt held one
        subscription to a few dozen deliveries a second); then up to `limit` leased. An
        attempt lost to a failed write is sent again once its lease runs out."""
        if outcomes:
            with session_scope(self._engine) as session:
                webhooks.record_attempts(session, outcomes)
        if limit == 0:
            return []
        now = utcnow()
        with session_scope(self._engine) as session:
            return webhooks.lease_due(session, now, now + self._settings.lease, limit)

    async def _send(self, leased: webhooks.Leased) -> None:
        assert self._destinations is not None, "sent only while running"
        event, subscription = leased.event, leased.subscription
        http = self._destinations.client(subscription.id)
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
                async with http.stream("POST", subscription.url, content=body, headers=headers) as response:
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


class Destinations:
    """An HTTP client per subscription, its connections kept alive from one delivery to the
    next, PER_SUBSCRIPTION of them (as many as its deliveries in flight: store.webhooks).
    One pool of all 32 cost more than the requests: httpcore checks every connection of a
    pool whenever a request starts or ends (each check asks the socket for its state), and
    closed an idle one whenever the pool held more than its keep-alive limit in all.
    A client unused for IDLE_SECONDS is closed."""

    def __init__(self, settings: CourierSettings) -> None:
        self._settings = settings
        # Made with the first client, once: it reads every root certificate (tens of ms).
        self._ssl: ssl.SSLContext | None = None
        self._clients: dict[str, tuple[httpx.AsyncClient, float]] = {}

    def client(self, subscription_id: str) -> httpx.AsyncClient:
        found = self._clients.get(subscription_id)
        http = found[0] if found else self._new_client()
        self._clients[subscription_id] = (http, time.monotonic())
        return http

    def _new_client(self) -> httpx.AsyncClient:
        # Redirects are not followed: one could lead to an address we refuse. The transport
        # checks the address it connects to (services.checked_connect); trust_env=False as
        # a proxy from the environment would resolve the name itself.
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        limits = httpx.Limits(max_connections=webhooks.PER_SUBSCRIPTION,
                              max_keepalive_connections=webhooks.PER_SUBSCRIPTION)
        return httpx.AsyncClient(
            timeout=self._settings.timeout, follow_redirects=False, trust_env=False,
            transport=CheckedTransport(self._settings.allow_private, limits, self._ssl),
        )

    async def close_idle(self) -> None:
        """Closes the clients last taken IDLE_SECONDS ago: longer than any attempt lasts, so
        none has a request under way."""
        idle_since = time.monotonic() - IDLE_SECONDS
        for subscription_id, (http, last_taken) in list(self._clients.items()):
            if last_taken < idle_since:
                del self._clients[subscription_id]
                await http.aclose()

    async def __aenter__(self) -> Destinations:
        return self

    async def __aexit__(self, *exc_info) -> None:
        clients, self._clients = self._clients, {}
        for http, _ in clients.values():
            await http.aclose()


async def _prefix_of(response: httpx.Response) -> str:
    """The answer's first bytes, which the log keeps. The rest is read and dropped up to
    READ_AT_MOST, so the connection can carry the next delivery (one left with its answer
    unread is closed); past that, reading stops and the connection goes."""
    taken = b""
    read = 0
    async for chunk in response.aiter_bytes():
        if len(taken) < RESPONSE_PREFIX:
            taken += chunk[:RESPONSE_PREFIX - len(taken)]
        read += len(chunk)
        if read > READ_AT_MOST:
            break
    return taken.decode("utf-8", errors="replace")
