"""Replay safety: recorded histories of real runs of every workflow path must replay against
the current ConversationWorkflow. A change that would break running conversations fails here.
No server is needed. Record new histories with `python -m tests.histories.record`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from switchboard.temporal import DATA_CONVERTER

# Passed through: a workflow below is defined here, so the sandbox re-imports this module,
# and its types must be the very classes the workflow module uses.
with workflow.unsafe.imports_passed_through():
    from domain.conversation import ConversationStart
from workflows.conversation import ConversationWorkflow

HERE = Path(__file__).parents[1] / "histories"
# The newest recordings lie in the folder itself; earlier ones (what running conversations
# may still look like) in a subfolder each, named for what changed after them.
HISTORIES = sorted(HERE.glob("**/*.json"))
PATHS = {
    "routed_changed_closed", "placed_and_rerouted", "bot_completed", "bot_timed_out", "continued_as_new",
    "created_with_agent_and_message", "auto_assigned_released_rerouted", "escalated",
    "out_of_hours", "routed_again_in_place", "out_of_hours_with_agent", "skills_required_relaxed",
    "offered_declined_lapsed_accepted", "offered_withdrawn", "sla_breached_paused_met",
}


def history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())


def name(path: Path) -> str:
    return str(path.relative_to(HERE).with_suffix(""))


def test_every_workflow_path_has_a_recording_of_the_current_code():
    recorded = {path.stem.split("-run")[0] for path in HERE.glob("*.json")}
    assert recorded == PATHS


@pytest.mark.parametrize("path", HISTORIES, ids=name)
async def test_recorded_history_replays_on_the_current_workflow(path: Path):
    replayer = Replayer(workflows=[ConversationWorkflow], data_converter=DATA_CONVERTER)
    await replayer.replay_workflow(history(path))


@workflow.defn(name="ConversationWorkflow")
class ConversationWorkflowWithAnExtraTimer(ConversationWorkflow):
    """The kind of change that breaks running conversations: a new command (a timer) before
    routing, without `workflow.patched`."""

    @workflow.run
    async def run(self, start: ConversationStart) -> None:
        await asyncio.sleep(1)
        await super().run(start)


async def test_a_non_deterministic_change_fails_the_replay():
    replayer = Replayer(
        workflows=[ConversationWorkflowWithAnExtraTimer], data_converter=DATA_CONVERTER
    )
    with pytest.raises(workflow.NondeterminismError):
        await replayer.replay_workflow(history(HISTORIES[0]))
