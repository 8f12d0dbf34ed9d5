"""ConversationWorkflow's durable waits on the time-skipping test server, with fake
activities: ten minutes of a bot's silence pass in a moment of real time."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio import activity, workflow
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from switchboard.temporal import DATA_CONVERTER

# Passed through: the workflow below is defined here, so the sandbox re-imports this module,
# and its types must be the very classes the workflow module uses.
with workflow.unsafe.imports_passed_through():
    from domain.activity_stubs import MATCH_SLA_ACTIVITY, SlaMatchRequest
    from domain.conversation import (
        DEFAULT_BOT_TIMEOUT_SECONDS,
        PROJECT_ACTIVITY,
        ROUTE_ACTIVITY,
        UNAVAILABLE,
        AuthenticationReport,
        ConversationEvent,
        ConversationStart,
        NewConversation,
        ProjectionRequest,
        RouteRequest,
    )
    from domain.models import SYSTEM_ACTOR, Priority, RoutingDecision
    from domain.sla_clocks import SlaTerms
from workflows import search_attributes
from workflows.conversation import ConversationWorkflow

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
FRONT, BOT_QUEUE = "front-desk", "auth-bot-queue"


@pytest_asyncio.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A test server per test: a conversation left open by an earlier test (its worker gone)
    could hold the server's time skipping, and a later test's env.sleep hung on it (seen
    in the full suite: the call timed out)."""
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(TEST_SERVER), data_converter=DATA_CONVERTER
    )
    await environment.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=environment.client.namespace,
        search_attributes={key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
                           for key in search_attributes.ALL},
    ))
    yield environment
    await environment.shutdown()


@activity.defn(name=MATCH_SLA_ACTIVITY)
async def no_sla_policy(request: SlaMatchRequest) -> SlaTerms | None:
    """No SLA policy matches: the timer tests' conversations have no SLA clocks."""
    return None


@dataclass
class FakeStore:
    """Stands in for routing and the projection: new conversations go to the bot's queue
    (with its default timeout); after the bot, routing finds no rule and falls back."""

    events: dict[int, ConversationEvent] = field(default_factory=dict)
    routing_failures_left: int = 0

    def activities(self) -> list:
        @activity.defn(name=ROUTE_ACTIVITY)
        async def route(request: RouteRequest) -> RoutingDecision:
            if self.routing_failures_left > 0:
                self.routing_failures_left -= 1
                raise ApplicationError("store down", non_retryable=True)
            if BOT_QUEUE in request.skip_queues:
                return RoutingDecision(queue_id=request.fallback_queue_id or FRONT,
                                       priority=Priority.NORMAL)
            return RoutingDecision(queue_id=BOT_QUEUE, priority=Priority.NORMAL, bot_id="bot-1")

        @activity.defn(name=PROJECT_ACTIVITY)
        async def project(request: ProjectionRequest) -> None:
            for event in request.events:
                self.events[event.seq] = event

        return [route, project, no_sla_policy]

    def timeline(self) -> list[ConversationEvent]:
        return [self.events[seq] for seq in sorted(self.events)]


async def start(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle:
    conversation_id = str(uuid.uuid4())
    new = NewConversation(id=conversation_id, request_id="r-1", actor=SYSTEM_ACTOR,
                          created_at=await env.get_current_time())
    return await env.client.start_workflow(
        ConversationWorkflow.run, ConversationStart(new=new),
        id=f"conversation-{conversation_id}", task_queue=task_queue,
    )


def types(events: list[ConversationEvent]) -> list[str]:
    return [event.type.value for event in events]


async def until(env: WorkflowEnvironment, condition, what: str, step=timedelta(seconds=1)) -> None:
    """Lets time pass in steps until `condition` holds (at most ten simulated hours)."""
    for _ in range(36_000):
        if condition():
            return
        await env.sleep(step)
    raise AssertionError(f"never: {what}")



async def test_a_bot_that_never_reports_times_out_after_the_default_600_s(env: WorkflowEnvironment):
    store, task_queue = FakeStore(), f"timers-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=task_queue, workflows=[ConversationWorkflow],
                      activities=store.activities()):
        await start(env, task_queue)
        await until(env, lambda: "BOT_TIMED_OUT" in types(store.timeline()), "the bot timed out",
                    step=timedelta(seconds=30))
    events = store.timeline()
    assert types(events) == ["CREATED", "ROUTED", "BOT_STARTED", "BOT_TIMED_OUT", "ROUTED"]
    started, timed_out, routed = events[2], events[3], events[4]
    waited = (timed_out.at - started.at).total_seconds()
    assert DEFAULT_BOT_TIMEOUT_SECONDS <= waited < DEFAULT_BOT_TIMEOUT_SECONDS + 31
    assert (routed.from_queue_id, routed.to_queue_id) == (BOT_QUEUE, FRONT)


@workflow.defn(name="ConversationWorkflow")
class ContinuingDuringABotWait(ConversationWorkflow):
    """As if the server suggested continue-as-new while the first run waits for its bot."""

    @workflow.run
    async def run(self, start: ConversationStart) -> None:
        await super().run(start)

    def _should_continue_as_new(self) -> bool:
        return workflow.info().continued_run_id is None and self._state.bot_wait is not None


async def test_continue_as_new_during_a_bot_wait_keeps_the_wait_and_its_deadline(
    env: WorkflowEnvironment,
):
    store, task_queue = FakeStore(), f"timers-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=task_queue, workflows=[ContinuingDuringABotWait],
                      activities=store.activities()):
        handle = await start(env, task_queue)
        first_run = (await handle.describe()).run_id
        await until(env, lambda: "BOT_TIMED_OUT" in types(store.timeline()), "the bot timed out",
                    step=timedelta(seconds=30))
        current = await env.client.get_workflow_handle(handle.id).describe()
    assert current.run_id != first_run, "the workflow did not continue as new"
    events = store.timeline()
    assert types(events) == ["CREATED", "ROUTED", "BOT_STARTED", "BOT_TIMED_OUT", "ROUTED"]
    assert [event.seq for event in events] == [1, 2, 3, 4, 5]
    # The new run waited out the same deadline, not a fresh 600 s.
    waited = (events[3].at - events[2].at).total_seconds()
    assert DEFAULT_BOT_TIMEOUT_SECONDS <= waited < DEFAULT_BOT_TIMEOUT_SECONDS + 31


async def test_routing_that_fails_at_creation_is_tried_again_on_a_durable_timer(
    env: WorkflowEnvironment,
):
    store, task_queue = FakeStore(routing_failures_left=2), f"timers-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=task_queue, workflows=[ConversationWorkflow],
                      activities=store.activities()):
        await start(env, task_queue)
        await until(env, lambda: "ROUTED" in types(store.timeline()), "routed")
    assert store.routing_failures_left == 0
    assert types(store.timeline())[:2] == ["CREATED", "ROUTED"]


async def test_a_report_whose_routing_fails_is_refused_whole_and_the_wait_goes_on(
    env: WorkflowEnvironment,
):
    store, task_queue = FakeStore(), f"timers-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=task_queue, workflows=[ConversationWorkflow],
                      activities=store.activities()):
        handle = await start(env, task_queue)
        await until(env, lambda: "BOT_STARTED" in types(store.timeline()), "the bot's wait began")
        store.routing_failures_left = 1
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await handle.execute_update(ConversationWorkflow.report_authentication, AuthenticationReport(
                actor=SYSTEM_ACTOR, bot_id="bot-1", succeeded=True))
        assert isinstance(failed.value.cause, ApplicationError)
        assert failed.value.cause.type == UNAVAILABLE
        state = await handle.query(ConversationWorkflow.conversation)
        assert state.bot_wait is not None and state.authentication.value == "NONE"
        assert types(store.timeline()) == ["CREATED", "ROUTED", "BOT_STARTED"]
        # The wait resumed: the bot can report again, and routing moves the conversation on.
        await handle.execute_update(ConversationWorkflow.report_authentication, AuthenticationReport(
            actor=SYSTEM_ACTOR, bot_id="bot-1", succeeded=True))
    assert types(store.timeline())[3:] == ["AUTHENTICATION_COMPLETED", "ROUTED"]
