"""The courier checks the destination when it sends, not only when the URL was saved: a
subscription pointing at a private address (saved before the setting changed, or a name
whose DNS changed since) gets no request unless SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE; and the
log keeps only the first 256 bytes of an answer."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator

from sqlalchemy.engine import Engine
from sqlmodel import select

from domain.models import utcnow
from store.db import migrate, session_scope
from store.events_out import NewEvent, publish
from store.tables import WebhookAttemptRow, WebhookSubscriptionRow
from switchboard.courier import Courier
from tests.helpers import wait_for
from tests.webhook_receiver import FAST_WEBHOOKS, running_receiver


@contextlib.asynccontextmanager
async def courier_running(engine: Engine, allow_private: bool) -> AsyncIterator[None]:
    courier = Courier(engine, dataclasses.replace(FAST_WEBHOOKS, allow_private=allow_private))
    running = asyncio.create_task(courier.run())
    try:
        yield
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


def one_event_for(engine: Engine, url: str) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        session.add(WebhookSubscriptionRow(id=str(uuid.uuid4()), url=url, event_types=[], secret="whsec_" + "C" * 32,
                                           created_at=now, updated_at=now))
    with session_scope(engine) as session:
        publish(session, [NewEvent(source=f"test {uuid.uuid4()}", type="agent.status_changed", at=now,
                                   payload={"agent": {"id": "a"}})])


async def first_attempt(engine: Engine) -> WebhookAttemptRow:
    def read() -> WebhookAttemptRow | None:
        with session_scope(engine) as session:
            return session.exec(select(WebhookAttemptRow)).first()

    return await wait_for(lambda: asyncio.to_thread(read))


async def test_a_private_destination_is_refused_at_send_time(engine: Engine) -> None:
    migrate(engine)
    async with running_receiver() as receiver:
        one_event_for(engine, receiver.url)  # 127.0.0.1: as if saved while private ones were allowed
        async with courier_running(engine, allow_private=False):
            attempt = await first_attempt(engine)
        assert attempt.status_code is None
        assert attempt.error == "address refused: 127.0.0.1 is a loopback address"
        assert receiver.received == []


async def test_with_the_setting_it_is_sent_and_only_a_prefix_of_the_answer_is_kept(engine: Engine) -> None:
    migrate(engine)
    async with running_receiver() as receiver:  # answers 400 bytes
        one_event_for(engine, receiver.url)
        async with courier_running(engine, allow_private=True):
            attempt = await first_attempt(engine)
        assert attempt.status_code == 200 and len(receiver.received) == 1
        assert attempt.response_prefix == ("ok" * 200)[:256]
