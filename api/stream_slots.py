"""How many live streams may be open at once: at most `per_key` for one API key and
`per_process` in this API process (SWITCHBOARD_STREAMS_PER_KEY, SWITCHBOARD_STREAMS_PER_PROCESS).
Beyond either, a new stream is refused with 429 and `Retry-After` before it starts.

Every open stream costs the process a task, a buffer of events and a reading of its caller's
rights every few seconds (api.event_stream, api.feed_reader), so without a bound one key could
open hundreds and slow every other request of the process. A stream holds its slot from the moment it is
let in until its answer ends, however it ends: the client hanging up, its key no longer
signing anyone in, the server stopping (SlotResponse below).

Counted per key (the principal's `key_id`), not per agent or bot: a rotated key is a new key
with its own slots, and the streams of the old one end at their next reading of rights
(within api.event_stream.RIGHTS_SECONDS) and give theirs back. The console's stream counts
against the key its session was opened with, as the user's API calls do. The counts are this process's
only: with several API processes a key may hold `per_key` streams in each (a load balancer
spreads them); bounding them across processes would take a shared store on every open and
close, which the bound per process already makes unnecessary for the process's health."""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from typing import Any

from sse_starlette import EventSourceResponse
from starlette.types import Receive, Scope, Send

from api.errors import ApiError

DEFAULT_PER_KEY = 5
DEFAULT_PER_PROCESS = 100
# What a refused client is asked to wait: long enough that a client retrying in a loop costs
# little, short enough that a stream whose client vanished without a word (noticed at the next
# ping, at most PING_SECONDS + SEND_TIMEOUT_SECONDS later) is soon retried.
RETRY_AFTER_SECONDS = 10


class Slot:
    """One stream's place; given back once, however often `release` is called."""

    def __init__(self, slots: StreamSlots, key_id: str) -> None:
        self._slots = slots
        self._key_id = key_id
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._slots._give_back(self._key_id)


class StreamSlots:
    def __init__(self, per_key: int = DEFAULT_PER_KEY, per_process: int = DEFAULT_PER_PROCESS) -> None:
        self.per_key = per_key
        self.per_process = per_process
        self._lock = threading.Lock()
        self._by_key: Counter[str] = Counter()
        self._total = 0

    def take(self, key_id: str) -> Slot:
        """A slot for a new stream of this key, or the 429 that refuses it."""
        with self._lock:
            if self._by_key[key_id] >= self.per_key:
                raise too_many(f"At most {self.per_key} live streams per API key; close one first")
            if self._total >= self.per_process:
                raise too_many("Too many live streams on this server now; try again later")
            self._by_key[key_id] += 1
            self._total += 1
        return Slot(self, key_id)

    def open(self, key_id: str | None = None) -> int:
        """Streams open now: of this key, or of the process."""
        with self._lock:
            return self._total if key_id is None else self._by_key[key_id]

    def _give_back(self, key_id: str) -> None:
        with self._lock:
            self._by_key[key_id] -= 1
            if self._by_key[key_id] <= 0:
                del self._by_key[key_id]
            self._total -= 1


# The stream operation's 429 in the OpenAPI document.
TOO_MANY_STREAMS: dict[str, Any] = {
    "description": "Too many live streams open, of this key or on this server (TOO_MANY_REQUESTS); "
                   f"try again after Retry-After seconds ({RETRY_AFTER_SECONDS})",
    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def too_many(text: str) -> ApiError:
    return ApiError(429, text, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class SlotResponse(EventSourceResponse):
    """A stream that gives its slot back when its answer ends (or, were it never sent, when it
    is dropped)."""

    def __init__(self, *args: Any, slot: Slot, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slot = slot
        weakref.finalize(self, slot.release)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()
