"""A change to a conversation is an update of its workflow: run it within the app's deadline,
turn a refusal into its HTTP status, and answer the conversation as the store holds it after."""

from __future__ import annotations

import asyncio

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import DEADLINE_PASSED, default_capacity, engine_of
from api.errors import ApiError, not_found, unavailable
from domain.conversation import CLOSED_TEXT, workflow_id
from domain.models import Status
from store import conversations as conversation_store

# Workflow refusals (ApplicationError types) and the HTTP status each becomes.
REFUSALS = {
    "BAD_REQUEST": 400, "CONFLICT": 409, "FORBIDDEN": 403, "NOT_FOUND": 404, "UNAVAILABLE": 503,
}


async def run_update(request: Request, client: Client, conversation_id: str, update, argument):
    """Runs a workflow update and answers with the conversation as it is after it.

    An update no worker answers within the app's `update_deadline` is a 503 with Retry-After.
    Temporal still holds it: it is applied once if a worker takes it up later, or not at all;
    an update is one handler, so it is never applied in part."""
    handle = client.get_workflow_handle(workflow_id(conversation_id))
    try:
        await asyncio.wait_for(
            handle.execute_update(update, argument), request.app.state.update_deadline
        )
    except DEADLINE_PASSED:
        raise unavailable(
            "The conversation's workflow did not answer in time; the change is applied once "
            "a worker takes it up, or not at all"
        ) from None
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type in REFUSALS:
            if REFUSALS[cause.type] == 503:
                raise unavailable(cause.message) from None
            raise ApiError(REFUSALS[cause.type], cause.message) from None
        raise
    except RPCError as exc:
        # The workflow has ended: the conversation is closed (or never existed).
        if exc.status == RPCStatusCode.NOT_FOUND:
            row = await run_in_threadpool(conversation_store.read, engine_of(request), conversation_id)
            if row is not None and row.status == Status.CLOSED.value:
                raise ApiError(409, CLOSED_TEXT) from None
            raise not_found("Conversation") from None
        raise
    answer = await run_in_threadpool(
        conversation_store.read_answer, engine_of(request), conversation_id, default_capacity(request))
    # The update returns only after its workflow has projected the conversation (its row is
    # written then and never deleted).
    assert answer is not None, f"conversation {conversation_id} updated but not in the store"
    return answer
