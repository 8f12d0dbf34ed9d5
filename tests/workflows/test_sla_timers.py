"""SLA clocks as durable timers of ConversationWorkflow, on the time-skipping test server with
fake activities: the warning, then the breach applying onBreach, each once and at its moment
across a worker restart; the resolution clock paused while WAITING; met by the first agent
reply and at CLOSED."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import activity, workflow
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.workflows.test_conversation_timers import env, until

with workflow.unsafe.imports_passed_through():
    from domain.activity_stubs import MATCH_SLA_ACTIVITY, SlaMatchRequest
    from domain.conversation import (
        DESCRIBE_QUEUE_ACTIVITY,
        PROJECT_ACTIVITY,
        ROUTE_ACTIVITY,
        ConversationEvent,
        ConversationStart,
        MessageRecorded,
        NewConversation,
        ProjectionRequest,
        QueueRef,
        RouteRequest,
        StatusChange,
    )
    from domain.models import Actor, ActorType, Priority, RoutingDecision, Status
    from domain.sla import OnBreach
    from domain.sla_clocks import FIRST_RESPONSE, RESOLUTION, ClockStatus, SlaTerms
    from domain.working_hours import DayHours, Hours, Weekday
from workflows.conversation import ConversationWorkflow

__all__ = ["env"]  # the time-skipping server, shared with the other timer tests

ANA = Actor(type=ActorType.AGENT, id="ana", name="Ana")
FRONT, URGENT = "front", "urgent"
# Open every day all day: business time in a time zone (computed in the workflow's sandbox),
# equal to calendar time.
ALWAYS = Hours(timezone="Europe/Zagreb", work_week={day: DayHours() for day in Weekday})
TERMS = SlaTerms(policy_id="p-1", first_response_seconds=600, resolution_seconds=3600, warn_before_seconds=120,
                 on_breach=OnBreach(priority=Priority.HIGH, queue_id=URGENT), hours=ALWAYS)


@dataclass
class FakeStore:
    """Routing sends every conversation to FRONT; the policy matched is `terms`."""

    terms: SlaTerms | None = field(default_factory=lambda: TERMS)
    matched: list[dict] = field(default_factory=list)
    events: dict[int, ConversationEvent] = field(default_factory=dict)

    def activities(self) -> list:
        @activity.defn(name=ROUTE_ACTIVITY)
        async def route(request: RouteRequest) -> RoutingDecision:
            return RoutingDecision(queue_id=FRONT, priority=Priority.NORMAL)

        @activity.defn(name=MATCH_SLA_ACTIVITY)
        async def match(request: SlaMatchRequest) -> SlaTerms | None:
            self.matched.append(request.facts)
            return self.terms

        @activity.defn(name=DESCRIBE_QUEUE_ACTIVITY)
        async def describe(queue_id: str) -> QueueRef | None:
            return QueueRef(id=queue_id)

        @activity.defn(name=PROJECT_ACTIVITY)
        async def project(request: ProjectionRequest) -> None:
            for event in request.events:
                self.events[event.seq] = event

        return [route, match, describe, project]

    def of_type(self, type_: str) -> list[ConversationEvent]:
        return [self.events[seq] for seq in sorted(self.events) if self.events[seq].type.value == type_]

    def worker(self, env: WorkflowEnvironment, task_queue: str) -> Worker:
        # No cache: the next worker replays the history from its start.
        return Worker(env.client, task_queue=task_queue, workflows=[ConversationWorkflow],
                      activities=self.activities(), max_cached_workflows=0)


async def start(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle:
    conversation_id = str(uuid.uuid4())
    new = NewConversation(id=conversation_id, request_id="r-1", actor=ANA, created_at=await env.get_current_time())
    handle = await env.client.start_workflow(
        ConversationWorkflow.run, ConversationStart(new=new), id=f"conversation-{conversation_id}",
        task_queue=task_queue,
    )
    await handle.execute_update(ConversationWorkflow.created, "r-1")
    return handle


def placed_at(store: FakeStore) -> datetime:
    return store.of_type("ROUTED")[0].at


def on_time(event: ConversationEvent, moment: datetime) -> bool:
    return event.due_at is not None and 0 <= (event.at - moment).total_seconds() < 1


async def test_warning_then_breach_once_each_across_a_worker_restart_applying_on_breach(env: WorkflowEnvironment):
    store, task_queue = FakeStore(), f"sla-{uuid.uuid4()}"
    async with store.worker(env, task_queue):
        handle = await start(env, task_queue)
        await env.sleep(timedelta(seconds=300))
    async with store.worker(env, task_queue):
        await until(env, lambda: bool(store.of_type("SLA_BREACHED")), "a breach", step=timedelta(seconds=30))
        await env.sleep(timedelta(minutes=20))  # once (the resolution clock's warning is later)
        state = await handle.query(ConversationWorkflow.conversation)
    start_at = placed_at(store)
    [warned] = store.of_type("SLA_WARNING")
    [breached] = store.of_type("SLA_BREACHED")
    assert warned.clock == breached.clock == FIRST_RESPONSE
    assert warned.due_at == breached.due_at == start_at + timedelta(seconds=600)
    assert on_time(warned, start_at + timedelta(seconds=480)) and on_time(breached, start_at + timedelta(seconds=600))
    assert (breached.priority, breached.to_queue_id) == (Priority.HIGH, URGENT)
    assert (state.priority, state.queue_id) == (Priority.HIGH, URGENT)
    assert state.sla is not None and state.sla.first_response is not None
    assert state.sla.first_response.status == ClockStatus.BREACHED
    assert store.matched == [{"conversation.priority": "NORMAL", "conversation.queueId": FRONT,
                              "conversation.tags": [], "conversation.authentication": "NONE"}]


async def test_resolution_pauses_while_waiting_and_breaches_after_what_was_left(env: WorkflowEnvironment):
    store = FakeStore(SlaTerms(policy_id="p-2", resolution_seconds=600))
    task_queue = f"sla-{uuid.uuid4()}"
    async with store.worker(env, task_queue):
        handle = await start(env, task_queue)
        await env.sleep(timedelta(seconds=200))
        await handle.execute_update(ConversationWorkflow.set_status, StatusChange(actor=ANA, status=Status.WAITING))
        waiting = await handle.query(ConversationWorkflow.conversation)
        await env.sleep(timedelta(hours=2))
        assert store.of_type("SLA_BREACHED") == []
        await handle.execute_update(ConversationWorkflow.set_status, StatusChange(actor=ANA, status=Status.OPEN))
        await until(env, lambda: bool(store.of_type("SLA_BREACHED")), "a breach", step=timedelta(seconds=30))
    assert waiting.sla is not None and waiting.sla.resolution is not None
    paused = waiting.sla.resolution
    assert paused.status == ClockStatus.PAUSED and paused.due_at is None
    assert paused.remaining_seconds is not None and 399 <= paused.remaining_seconds <= 400
    [reopened] = [event for event in store.of_type("STATUS_CHANGED") if event.reason == "OPEN"]
    [breached] = store.of_type("SLA_BREACHED")
    assert breached.clock == RESOLUTION and breached.due_at is not None
    assert abs((breached.due_at - reopened.at).total_seconds() - paused.remaining_seconds) < 0.01
    assert on_time(breached, breached.due_at)


async def test_met_by_the_first_agent_reply_and_at_closed(env: WorkflowEnvironment):
    store, task_queue = FakeStore(), f"sla-{uuid.uuid4()}"
    async with store.worker(env, task_queue):
        handle = await start(env, task_queue)
        await env.sleep(timedelta(seconds=60))
        await handle.execute_update(ConversationWorkflow.record_message, MessageRecorded(actor=ANA, from_agent=True))
        await env.sleep(timedelta(minutes=20))  # past first response's moments: no warning, no breach
        await handle.execute_update(ConversationWorkflow.set_status, StatusChange(actor=ANA, status=Status.CLOSED))
        await handle.result()
    met = store.of_type("SLA_MET")
    assert [event.clock for event in met] == [FIRST_RESPONSE, RESOLUTION]
    assert store.of_type("SLA_WARNING") == [] and store.of_type("SLA_BREACHED") == []
