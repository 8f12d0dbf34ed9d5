"""Replay safety of WorkingHoursClock: recorded histories of real runs (in
tests/replay/working_hours_clock/, recorded by its record.py) must replay against the current
workflow, so a change that would break the running clock of a deployment fails here. Kept
apart from tests/histories/, which holds ConversationWorkflow's."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from switchboard.temporal import DATA_CONVERTER
from workflows.working_hours_clock import ClockStart, WorkingHoursClock

HERE = Path(__file__).parent / "working_hours_clock"
HISTORIES = sorted(HERE.glob("**/*.json"))


def history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())


def test_the_clock_has_a_recording():
    assert [path.name for path in HERE.glob("*.json")] == ["opened_on_monday_then_edited.json"]


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: str(path.relative_to(HERE).with_suffix("")))
async def test_recorded_history_replays_on_the_current_clock(path: Path):
    replayer = Replayer(workflows=[WorkingHoursClock], data_converter=DATA_CONVERTER)
    await replayer.replay_workflow(history(path))


@workflow.defn(name="WorkingHoursClock")
class ClockWithAnExtraTimer(WorkingHoursClock):
    """A change that would break running clocks: a new command before the first refresh."""

    @workflow.run
    async def run(self, start: ClockStart) -> None:
        await asyncio.sleep(1)
        await super().run(start)


async def test_a_non_deterministic_change_fails_the_replay():
    replayer = Replayer(workflows=[ClockWithAnExtraTimer], data_converter=DATA_CONVERTER)
    with pytest.raises(workflow.NondeterminismError):
        await replayer.replay_workflow(history(HISTORIES[0]))
