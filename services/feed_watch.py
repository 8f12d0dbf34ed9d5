"""A wake-up across processes: the courier runs in a process of its own, so the worker that
writes a conversation's events cannot wake it by a call. Every event comes with a row in the
event feed, and its deliveries are written in the same transaction (store.events_out), so
"the feed's end moved" is "there may be deliveries to send". This loop reads where the feed
ends every INTERVAL and calls `on_moved` when that moved.

Why a poll: one indexed read of two columns ten times a second keeps an idle courier
process at about 2 % of a core (3.5 % every 50 ms; its CPU time over 10 s, load average 3),
works the same on SQLite and PostgreSQL, and its worst case (a wake-up missed) is the
courier's own pass a moment later. PostgreSQL's LISTEN/NOTIFY would save the reads, not the
wait for a row to be readable, and needs a connection held open per courier."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.engine import Engine

from services.loops import PassLoop
from store.events_out import Cursor, read_latest

INTERVAL = 0.1

log = logging.getLogger("switchboard.feed_watch")


class FeedWatch(PassLoop):
    interval = INTERVAL
    log = log

    def __init__(self, engine: Engine, on_moved: Callable[[], None]) -> None:
        super().__init__()
        self._engine = engine
        self._on_moved = on_moved
        self._end: Cursor | None = None

    async def run_pass(self) -> None:
        end = await asyncio.to_thread(read_latest, self._engine)
        if end != self._end:
            self._end = end
            self._on_moved()
