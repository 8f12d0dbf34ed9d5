"""api.stream_slots without a server: the bounds, the 429, and a slot given back once."""

from __future__ import annotations

import gc

import pytest

from api.errors import ApiError
from api.stream_slots import SlotResponse, StreamSlots


def test_a_key_and_the_process_are_bounded_and_a_slot_comes_back_once() -> None:
    slots = StreamSlots(per_key=2, per_process=3)
    first, _second = slots.take("a"), slots.take("a")
    with pytest.raises(ApiError) as refused:
        slots.take("a")
    assert refused.value.status == 429 and refused.value.headers and "Retry-After" in refused.value.headers
    slots.take("b")
    with pytest.raises(ApiError):
        slots.take("c")  # the process is full
    first.release()
    first.release()  # twice: given back once
    assert slots.open("a") == 1 and slots.open() == 2
    slots.take("c")
    assert slots.open() == 3


async def _nothing():
    if False:
        yield {}


def test_a_stream_answer_never_sent_gives_its_slot_back_when_dropped() -> None:
    slots = StreamSlots(per_key=1, per_process=1)
    response = SlotResponse(_nothing(), slot=slots.take("a"))
    assert slots.open("a") == 1
    del response
    gc.collect()
    assert slots.open("a") == 0
