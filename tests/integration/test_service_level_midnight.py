"""GET /ccaas/1/queues/{id}/service-level-today across midnight UTC, the app's clock fixed
(SPEC "Service level", the wallboard): "today" is the app's clock's day, not the machine's; a
stay answered yesterday is not today's; each stay counts in the hour its answer or abandon
falls in (one entered before midnight and answered after is today's, one answered on the hour
is the new hour's); SLA breaches count from midnight. Timelines are crafted with known times
(tests/store/test_staffing_store's), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy.engine import Engine
from temporalio.client import Client

from domain.models import Status
from store.bootstrap import bootstrap
from switchboard.composition import api_app
from tests.helpers import create_queue
from tests.settings import stack_settings
from tests.store.test_staffing_store import NOW, E, into, timeline

MIDNIGHT = datetime(2024, 5, 2, tzinfo=UTC)  # the day after test_staffing_store's NOW
YESTERDAY = MIDNIGHT - timedelta(days=1)


def at(seconds: float) -> float:
    """A moment `seconds` after midnight (before, if negative) as timeline() takes it: minutes before NOW."""
    return (NOW - (MIDNIGHT + timedelta(seconds=seconds))).total_seconds() / 60


class Clocked:
    """An API whose clock the test sets (app.state.clock), and the time it reads."""

    def __init__(self, http: httpx.AsyncClient, now: list[datetime]) -> None:
        self.http, self._now = http, now

    async def today_at(self, seconds: float, queue_id: str) -> dict[str, Any]:
        self._now[0] = MIDNIGHT + timedelta(seconds=seconds)
        response = await self.http.get(f"/ccaas/1/queues/{queue_id}/service-level-today")
        assert response.status_code == 200, response.text
        return response.json()


@pytest_asyncio.fixture
async def clocked(engine: Engine, database_url: str, temporal_client: Client) -> AsyncIterator[Clocked]:
    key = bootstrap(engine)
    now = [MIDNIGHT]
    app = api_app(stack_settings(database_url, f"midnight-{uuid.uuid4()}"), engine, temporal_client,
                  clock=lambda: now[0])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://switchboard.test",
                                 headers={"Authorization": f"App {key}"}) as http:
        yield Clocked(http, now)


def hours(day: dict[str, Any]) -> dict[str, tuple[int, int, int, int, float | None]]:
    """Each hour's start -> (answered, within the target, abandoned, after the target, service level)."""
    return {interval["start"][11:16]: (interval["answered"], interval["answeredWithinTarget"], interval["abandoned"],
                                       interval["abandonedAfterTarget"], interval["serviceLevel"])
            for interval in day["intervals"]}


async def test_today_turns_over_at_midnight_utc_on_the_apps_clock(clocked: Clocked, engine: Engine):
    queue = (await create_queue(clocked.http))["id"]  # no working hours: the day is UTC's; target 60 s
    assign = {"agent_id": "x"}
    # Yesterday: entered 23:57:00, answered 23:58:30 (90 s: not within the target).
    timeline(engine, [(at(-180), E.ROUTED, into(queue)), (at(-90), E.ASSIGNED, assign)], Status.OPEN, queue, "x")
    # Entered 23:59:30, answered 00:00:20 (50 s: within): today's, its answer's hour.
    timeline(engine, [(at(-30), E.ROUTED, into(queue)), (at(20), E.ASSIGNED, assign)], Status.OPEN, queue, "x")
    # Entered 00:30, closed unassigned at 00:32 (120 s): abandoned after the target.
    timeline(engine, [(at(1800), E.ROUTED, into(queue)), (at(1920), E.CLOSED, {})], Status.CLOSED, queue)
    # Entered 00:59:50, answered on the hour, 01:00:00 (10 s): the 01:00 hour's.
    timeline(engine, [(at(3590), E.ROUTED, into(queue)), (at(3600), E.ASSIGNED, assign)], Status.OPEN, queue, "x")
    # SLA breaches: 23:59:00 yesterday, 00:10 today.
    for breach in (-60, 600):
        timeline(engine, [(at(breach - 60), E.ROUTED, into(queue)),
                          (at(breach), E.SLA_BREACHED, {"clock": "firstResponse"})], Status.OPEN, queue)

    # Ten seconds before midnight, it is still yesterday: only its answer, and its breach.
    before = await clocked.today_at(-10, queue)
    assert (before["timeZone"], before["dayStart"]) == ("UTC", "2024-05-01T00:00:00.000Z")
    assert before["generatedAt"] == "2024-05-01T23:59:50.000Z"
    assert (before["answered"], before["abandoned"], before["serviceLevel"]) == (1, 0, 0.0)
    assert before["slaBreaches"] == 1
    assert len(before["intervals"]) == 24
    assert hours(before)["23:00"] == (1, 0, 0, 0, 0.0)
    assert before["intervals"][-1]["end"] == "2024-05-01T23:59:50.000Z"

    # Forty seconds after midnight: a new day, without yesterday's stay or breach.
    after = await clocked.today_at(40, queue)
    assert after["dayStart"] == "2024-05-02T00:00:00.000Z"
    assert (after["answered"], after["abandoned"], after["serviceLevel"]) == (1, 0, 1.0)
    assert after["slaBreaches"] == 0
    assert hours(after) == {"00:00": (1, 1, 0, 0, 1.0)}

    # Past one o'clock: each stay in the hour of its answer or abandon, the hours adding up to the day.
    later = await clocked.today_at(3630, queue)
    assert later["dayStart"] == "2024-05-02T00:00:00.000Z"
    assert hours(later) == {"00:00": (1, 1, 1, 1, 0.5), "01:00": (1, 1, 0, 0, 1.0)}
    assert (later["answered"], later["abandoned"], later["serviceLevel"]) == (2, 1, round(2 / 3, 6))
    assert later["slaBreaches"] == 1
