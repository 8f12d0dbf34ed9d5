"""The courier's HTTP clients, one per subscription: the same one while it is in use, a new
one after it was closed for being idle, and all closed when the courier stops."""

from __future__ import annotations

from services import courier
from services.courier import DEFAULT_COURIER, Destinations


async def test_a_subscription_keeps_its_client_until_it_is_idle(monkeypatch) -> None:
    async with Destinations(DEFAULT_COURIER) as destinations:
        first = destinations.client("a")
        assert destinations.client("a") is first and destinations.client("b") is not first
        await destinations.close_idle()
        assert destinations.client("a") is first and not first.is_closed

        monkeypatch.setattr(courier, "IDLE_SECONDS", -1.0)  # everything taken is idle now
        await destinations.close_idle()
        assert first.is_closed
        again = destinations.client("a")
        assert again is not first and not again.is_closed
    assert again.is_closed
