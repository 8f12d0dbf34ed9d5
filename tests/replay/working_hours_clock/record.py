"""Records histories of real runs of WorkingHoursClock into this folder, for
tests/replay/test_replay_working_hours_clock.py to replay against the current workflow.

Run: .venv/bin/python -m tests.replay.working_hours_clock.record

On the time-skipping test server with the real activity on a scratch SQLite database: office
hours in Zagreb, the clock started on a Friday evening, woken by its timer at Monday's
opening, then signalled after an edit (a holiday today) and closing at once. Record again
(and keep the old files, in a subfolder named for what changed) when the workflow changes
in a way running clocks must survive (`workflow.patched`).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from domain.working_hours import Holiday
from store.db import make_engine, migrate, session_scope
from store.tables import WorkingHoursRow
from switchboard.temporal import DATA_CONVERTER
from tests.workflows.test_working_hours_clock import (
    RecordingActivities,
    add_hours,
    skip_to,
    start_clock,
    worker,
    zagreb,
)
from workflows.working_hours_clock import WorkingHoursClock

HERE = Path(__file__).parent
TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"


async def main() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=DATA_CONVERTER
    )
    try:
        with tempfile.TemporaryDirectory() as home:
            engine = make_engine(f"sqlite:///{home}/record.db")
            migrate(engine)
            hours_id = add_hours(engine)
            friday = await skip_to(env, 4, 18)
            monday = zagreb(friday + timedelta(days=3), 9)
            task_queue = f"record-{uuid.uuid4()}"
            activities = RecordingActivities(engine)
            async with worker(env, task_queue, activities):
                handle = await start_clock(env, task_queue)
                await activities.calls_made(1)
                await env.sleep(monday + timedelta(seconds=30) - await env.get_current_time())
                await activities.calls_made(2)
                with session_scope(engine) as session:
                    row = session.get(WorkingHoursRow, hours_id)
                    assert row is not None
                    row.holidays = [Holiday(id="h", name="Today", start_date=monday.date(),
                                            end_date=monday.date()).model_dump(mode="json")]
                await handle.signal(WorkingHoursClock.hours_edited)
                await activities.calls_made(3)
                history = await handle.fetch_history()
            engine.dispose()
        path = HERE / "opened_on_monday_then_edited.json"
        path.write_text(history.to_json())
        print(f"wrote {path.name}: {len(history.events)} events")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
