"""One reader of the event feed per API process, feeding all its live streams
(api.event_stream): it reads the rows written since its last read once every POLL_SECONDS,
all of them in one query, and hands each open stream those the stream may see. So a hundred
open streams cost the database one read per interval, not a hundred.

Hand-over: a stream whose cursor is behind the reader's (a `Last-Event-ID`, or a stream that
fell behind) joins at the reader's cursor as it is then (`join`): from then on the reader
hands it every row after `join`, and the stream itself reads from the database what lies
between its cursor and `join`, those rows only (`until`), before it takes what the reader
handed it. Joining and handing out both happen on the event loop, between reads, so no row
can pass between them: the rows after `join` come from the reader, the rows up to it from
the stream's own read, each once. Every row up to the reader's cursor is readable by then
(the reader got there by reading them, in commit order: store.events_out), so that read
misses none. A stream ahead of the reader (its start was read after the reader's last read)
only drops the rows up to its start.

A stream that falls behind (BUFFER rows handed to it and not yet taken: its client reads
slowly) holds up nobody: the reader stops handing it rows and goes on with the others, and
the stream, when it next asks, joins again as above, from the last row it took. So it reads
by itself only while it is behind, at its client's pace, and then rides the reader again;
its client loses nothing and sees no reconnection (ending its stream instead would lose
nothing either, with `Last-Event-ID`, but cost every client that is briefly slow a reconnect
delay, and a client without EventSource's reconnecting its stream).

The reader starts with the first stream and stops when the last one goes; an error of its
read ends the streams it feeds, as a stream's own read failing did.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from store.events_out import Cursor, read_latest, read_rows
from store.tables import EventFeedRow

# How often the reader reads the feed, and how many rows at a time (it reads on at once while a
# batch comes back full).
POLL_SECONDS = 0.5
BATCH = 500
# Rows handed to a stream and not yet taken, beyond which it reads by itself until it catches up.
BUFFER = 1000


@dataclass
class Filter:
    """What a stream may see of the feed: as SQL for the rows it reads itself, and as a test of
    a row the reader hands out (api.event_stream.Rights makes both from the same rights)."""

    condition: ColumnElement[bool] | None
    sees: Callable[[EventFeedRow], bool]


@dataclass(eq=False)
class Subscription:
    """One stream's place at the reader. Only its stream calls `next`."""

    reader: FeedReader
    cursor: Cursor  # every row up to here was taken, or is none of the stream's
    filter: Filter
    # Rows after this are handed out by the reader (those up to `start` excepted).
    join: Cursor = field(default_factory=Cursor)
    start: Cursor = field(default_factory=Cursor)
    catching_up: bool = False
    behind: bool = False
    handed: list[EventFeedRow] = field(default_factory=list)
    woken: asyncio.Event = field(default_factory=asyncio.Event)
    error: Exception | None = None
    stopped: bool = False

    async def next(self, timeout: float) -> list[EventFeedRow] | None:
        """The next rows the stream may see, in commit order; none after `timeout` seconds
        without any; None once the reader has stopped."""
        while True:
            if self.error is not None:
                raise self.error
            if self.stopped:
                return None
            if self.catching_up:
                rows, done = await run_in_threadpool(self.reader.read_between, self.cursor, self.join,
                                                     self.filter.condition)
                if rows:
                    self.cursor = Cursor.of(rows[-1])
                if done:
                    self.catching_up = False
                    self.cursor = max(self.cursor, self.join)
                if rows:
                    return rows
                continue
            if self.behind:
                self.reader.join(self)  # from the last row taken: see the module docstring
                continue
            if self.handed:
                rows, self.handed = self.handed, []
                self.cursor = Cursor.of(rows[-1])
                return rows
            self.woken.clear()
            try:
                await asyncio.wait_for(self.woken.wait(), timeout)
            except TimeoutError:
                return []

    def hand(self, rows: list[EventFeedRow]) -> None:
        """Called by the reader with the rows after its cursor."""
        if self.behind:
            return
        mine = [row for row in rows if Cursor.of(row) > self.start and self.filter.sees(row)]
        if not mine:
            return
        if len(self.handed) + len(mine) > BUFFER:
            self.behind, self.handed = True, []
        else:
            self.handed.extend(mine)
        self.woken.set()

    def fail(self, error: Exception) -> None:
        self.error = error
        self.woken.set()

    def stop(self) -> None:
        self.stopped = True
        self.woken.set()

    def close(self) -> None:
        self.reader.leave(self)


class FeedReader:
    """The reader of one API process (app.state.feed_reader)."""

    def __init__(self, engine: Engine, interval: float = POLL_SECONDS) -> None:
        self.engine = engine
        self.interval = interval
        self.cursor = Cursor()
        self._subscriptions: set[Subscription] = set()  # guarded by being on the event loop
        self._task: asyncio.Task[None] | None = None
        self._starting: asyncio.Lock | None = None
        self._quit = asyncio.Event()
        self.reads = 0  # the reader's reads of the feed so far (tests count them)

    async def subscribe(self, after: Cursor, filter_: Filter) -> Subscription:
        """A stream's place, from after `after`; started with the first one."""
        subscription = Subscription(self, after, filter_)
        if self._task is not None and self._task.get_loop() is not asyncio.get_running_loop():
            self._task = self._starting = None  # an event loop gone (tests serve apps in turn)
        if self._task is None:
            if self._starting is None:
                self._starting = asyncio.Lock()
            async with self._starting:
                if self._task is None:
                    self.cursor = await run_in_threadpool(read_latest, self.engine)
                    self.join(subscription)
                    self._quit.clear()
                    self._task = asyncio.get_running_loop().create_task(self._run())
                    return subscription
        self.join(subscription)
        return subscription

    def join(self, subscription: Subscription) -> None:
        """Joins at the reader's cursor now: what follows comes from the reader, what lies
        between the subscription's cursor and here it reads itself."""
        subscription.join = subscription.start = self.cursor
        if subscription.cursor > self.cursor:  # ahead: drop what it has had
            subscription.start = subscription.cursor
        subscription.catching_up = subscription.cursor < self.cursor
        subscription.behind, subscription.handed = False, []
        self._subscriptions.add(subscription)

    def leave(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)
        if not self._subscriptions:
            self._quit.set()

    @property
    def streams(self) -> int:
        return len(self._subscriptions)

    async def stop(self) -> None:
        """Stops reading (the app stops); the streams it fed end."""
        task = self._task
        for subscription in list(self._subscriptions):
            subscription.stop()
        self._subscriptions.clear()
        self._quit.set()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        try:
            while self._subscriptions:
                full = True
                while full and self._subscriptions:
                    rows = await run_in_threadpool(self._read, self.cursor)
                    full = len(rows) == BATCH
                    if rows:
                        # On the loop: no stream joins between the cursor's move and the handing out.
                        self.cursor = Cursor.of(rows[-1])
                        for subscription in list(self._subscriptions):
                            subscription.hand(rows)
                if not self._subscriptions:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._quit.wait(), self.interval)
                self._quit.clear()  # woken by a stream leaving: read on if others remain
        except Exception as error:  # the streams end, as each one's own read failing ended it
            for subscription in list(self._subscriptions):
                subscription.fail(error)
            self._subscriptions.clear()
        finally:
            self._task = None

    def _read(self, cursor: Cursor) -> list[EventFeedRow]:
        self.reads += 1
        return read_rows(self.engine, cursor, BATCH)

    def read_between(
        self, cursor: Cursor, until: Cursor, condition: ColumnElement[bool] | None,
    ) -> tuple[list[EventFeedRow], bool]:
        """A stream's own read: the rows after `cursor` up to `until` it may see (a batch at
        most), and whether that was all of them."""
        rows = read_rows(self.engine, cursor, BATCH, condition, until)
        return rows, len(rows) < BATCH
