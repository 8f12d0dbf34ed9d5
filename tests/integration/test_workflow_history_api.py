"""The raw workflow history a supervisor downloads replays on the current workflow code."""

from __future__ import annotations

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from domain.conversation import workflow_id
from switchboard.temporal import DATA_CONVERTER
from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation, create_queue
from workflows.conversation import ConversationWorkflow


async def test_the_downloaded_history_replays_and_links_to_the_temporal_ui(stack: Stack):
    queue = await create_queue(stack.http)
    conversation = await create_conversation(stack.http, queueId=queue["id"])
    cid = conversation["id"]
    assert (await stack.http.post(f"/ccaas/1/conversations/{cid}/tags", json={"tagName": "x"})).status_code == 200
    assert (await stack.http.patch(f"/ccaas/1/conversations/{cid}", json={"status": "CLOSED"})).status_code == 200

    response = await stack.http.get(f"/ccaas/1/conversations/{cid}/workflow-history")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["workflowId"] == workflow_id(cid)
    assert body["temporalUiUrl"] == (
        f"http://127.0.0.1:8233/namespaces/default/workflows/{workflow_id(cid)}/{body['runId']}/history"
    )
    event_types = [event["eventType"] for event in body["history"]["events"]]
    assert event_types[0] in ("EVENT_TYPE_WORKFLOW_EXECUTION_STARTED", "WorkflowExecutionStarted")
    assert event_types[-1] in ("EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED", "WorkflowExecutionCompleted")

    history = WorkflowHistory.from_json(body["workflowId"], body["history"])
    replayer = Replayer(workflows=[ConversationWorkflow], data_converter=DATA_CONVERTER)
    await replayer.replay_workflow(history)


async def test_an_unknown_conversation_has_no_history(stack: Stack):
    assert_error(await stack.http.get("/ccaas/1/conversations/nope/workflow-history"), 404, "NOT_FOUND")
