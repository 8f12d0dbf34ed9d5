"""The feed watch, the courier's wake-up across processes: it calls back once when it starts
(deliveries may be waiting), again each time an event is written, and not while nothing is."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from contract.events import for_everyone
from services.feed_watch import FeedWatch
from services.loops import running
from store.db import migrate, session_scope
from store.events_out import NewEvent, publish
from tests.helpers import wait_for

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def publish_one(engine: Engine) -> None:
    with session_scope(engine) as session:
        publish(session, [NewEvent(source=f"test {uuid.uuid4()}", type="conversation.created", at=NOW,
                                   bodies=for_everyone("conversation.created", NOW, {}))])


async def test_the_watch_wakes_its_courier_when_an_event_is_written(engine: Engine) -> None:
    migrate(engine)
    woken: list[int] = []

    def woken_times(count: int) -> Callable[[], Awaitable[bool]]:
        async def done() -> bool:
            return len(woken) == count
        return done

    watch = FeedWatch(engine, on_moved=lambda: woken.append(watch.passes_begun))
    async with running(watch):
        await wait_for(woken_times(1), timeout=10, interval=0.01)
        # Passes over an unmoved feed wake nobody.
        quiet_from = watch.passes_begun
        await wait_for(lambda: asyncio.sleep(0, watch.last_completed_pass >= quiet_from + 3), timeout=10,
                       interval=0.01)
        assert len(woken) == 1
        for expected in (2, 3):
            await asyncio.to_thread(publish_one, engine)
            await wait_for(woken_times(expected), timeout=10, interval=0.01)
