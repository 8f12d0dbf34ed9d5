"""Escalation ladders as durable timers of ConversationWorkflow, on the time-skipping test
server with fake activities: half an hour of waiting passes in a moment of real time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.workflows.test_conversation_timers import env, no_sla_policy, types, until

with workflow.unsafe.imports_passed_through():
    from domain.conversation import (
        DESCRIBE_QUEUE_ACTIVITY,
        PROJECT_ACTIVITY,
        ROUTE_ACTIVITY,
        Assignment,
        ConversationEvent,
        ConversationStart,
        ConversationState,
        NewConversation,
        ProjectionRequest,
        QueueRef,
        Reroute,
        RouteRequest,
        StatusChange,
    )
    from domain.models import SYSTEM_ACTOR, Actor, ActorType, EscalationStep, Priority, RoutingDecision, Status
from workflows.conversation import ConversationWorkflow

__all__ = ["env"]  # the time-skipping server, shared with the other timer tests

SUPERVISOR = Actor(type=ActorType.SUPERVISOR, id="s-1", name="Sam")
FRONT, OTHER, SENIORS = "front", "other", "seniors"


def step(after: int, priority: Priority | None = None, queue_id: str | None = None) -> EscalationStep:
    return EscalationStep(after_seconds=after, priority=priority, queue_id=queue_id)


@dataclass
class FakeStore:
    """Routing sends every conversation to FRONT; each queue has the ladder in `ladders`."""

    ladders: dict[str, list[EscalationStep]] = field(default_factory=dict)
    events: dict[int, ConversationEvent] = field(default_factory=dict)

    def queue(self, queue_id: str) -> QueueRef:
        return QueueRef(id=queue_id, escalation=self.ladders.get(queue_id, []))

    def activities(self) -> list:
        @activity.defn(name=ROUTE_ACTIVITY)
        async def route(request: RouteRequest) -> RoutingDecision:
            return RoutingDecision(queue_id=FRONT, priority=Priority.NORMAL, escalation=self.ladders.get(FRONT))

        @activity.defn(name=DESCRIBE_QUEUE_ACTIVITY)
        async def describe(queue_id: str) -> QueueRef | None:
            return self.queue(queue_id)

        @activity.defn(name=PROJECT_ACTIVITY)
        async def project(request: ProjectionRequest) -> None:
            for event in request.events:
                self.events[event.seq] = event

        return [route, describe, project, no_sla_policy]

    def timeline(self) -> list[ConversationEvent]:
        return [self.events[seq] for seq in sorted(self.events)]

    def escalations(self) -> list[ConversationEvent]:
        return [event for event in self.timeline() if event.type.value == "ESCALATED"]

    def worker(self, env: WorkflowEnvironment, task_queue: str, cache: bool = True) -> Worker:
        # Without a cache, no sticky queue: a worker that stops leaves nothing for the test
        # server to hand to it alone, and the next worker replays the history from the start.
        return Worker(env.client, task_queue=task_queue, workflows=[ConversationWorkflow],
                      activities=self.activities(), max_cached_workflows=1000 if cache else 0)


async def start(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle:
    conversation_id = str(uuid.uuid4())
    new = NewConversation(id=conversation_id, request_id="r-1", actor=SYSTEM_ACTOR,
                          created_at=await env.get_current_time())
    handle = await env.client.start_workflow(
        ConversationWorkflow.run, ConversationStart(new=new),
        id=f"conversation-{conversation_id}", task_queue=task_queue,
    )
    await handle.execute_update(ConversationWorkflow.created, "r-1")
    return handle


async def escalated_times(env: WorkflowEnvironment, store: FakeStore, count: int) -> ConversationState:
    """Starts a conversation and lets time pass until `count` steps were taken; its state."""
    task_queue = f"escalation-{uuid.uuid4()}"
    async with store.worker(env, task_queue):
        handle = await start(env, task_queue)
        await until(env, lambda: len(store.escalations()) >= count, f"{count} step(s)", step=timedelta(seconds=10))
        return await handle.query(ConversationWorkflow.conversation)


def seconds_after_routing(store: FakeStore, event: ConversationEvent) -> float:
    routed = next(event for event in store.timeline() if event.type.value == "ROUTED")
    return (event.at - routed.at).total_seconds()


async def test_a_step_at_30_minutes_raises_the_priority(env: WorkflowEnvironment):
    store = FakeStore({FRONT: [step(1800, Priority.HIGH)]})
    state = await escalated_times(env, store, 1)
    [escalated] = store.escalations()
    assert 1800 <= seconds_after_routing(store, escalated) < 1801
    assert state.priority == Priority.HIGH and escalated.priority == Priority.HIGH
    assert escalated.escalation is not None and escalated.escalation.step == 0
    assert escalated.escalation.priority_raised and not escalated.escalation.moved


async def test_a_two_step_ladder_takes_both_steps_in_turn(env: WorkflowEnvironment):
    store = FakeStore({FRONT: [step(60, Priority.HIGH), step(120, Priority.URGENT)]})
    state = await escalated_times(env, store, 2)
    first, second = store.escalations()
    assert [seconds_after_routing(store, event) for event in (first, second)] == pytest.approx([60, 120], abs=1)
    assert (first.priority, second.priority, state.priority) == (Priority.HIGH, Priority.URGENT, Priority.URGENT)
    assert [event.escalation.step for event in (first, second) if event.escalation] == [0, 1]


async def test_assignment_stops_the_clock(env: WorkflowEnvironment):
    store, task_queue = FakeStore({FRONT: [step(60, Priority.HIGH)]}), f"escalation-{uuid.uuid4()}"
    async with store.worker(env, task_queue):
        handle = await start(env, task_queue)
        await handle.execute_update(ConversationWorkflow.assign, Assignment(actor=SUPERVISOR, agent_id="a-1"))
        await env.sleep(timedelta(hours=2))
        state = await handle.query(ConversationWorkflow.conversation)
    assert store.escalations() == [] and state.priority == Priority.NORMAL


async def test_closing_stops_the_clock(env: WorkflowEnvironment):
    store, task_queue = FakeStore({FRONT: [step(60, Priority.HIGH)]}), f"escalation-{uuid.uuid4()}"
    async with store.worker(env, task_queue):
        handle = await start(env, task_queue)
        await handle.execute_update(ConversationWorkflow.set_status,
                                    StatusChange(actor=SUPERVISOR, status=Status.CLOSED))
        await handle.result()
        await env.sleep(timedelta(hours=2))
    assert store.escalations() == []
    assert types(store.timeline())[-1] == "CLOSED"


async def test_a_reroute_restarts_the_clock_for_the_new_queue(env: WorkflowEnvironment):
    store = FakeStore({FRONT: [step(100, Priority.HIGH)], OTHER: [step(100, Priority.URGENT)]})
    task_queue = f"escalation-{uuid.uuid4()}"
    async with store.worker(env, task_queue):
        handle = await start(env, task_queue)
        await env.sleep(timedelta(seconds=50))
        await handle.execute_update(ConversationWorkflow.reroute,
                                    Reroute(actor=SUPERVISOR, queue=store.queue(OTHER)))
        await until(env, lambda: store.escalations(), "escalated", step=timedelta(seconds=10))
    rerouted = next(event for event in store.timeline() if event.type.value == "REROUTED")
    [escalated] = store.escalations()
    assert escalated.priority == Priority.URGENT  # OTHER's step, not FRONT's
    assert (escalated.at - rerouted.at).total_seconds() == pytest.approx(100, abs=1)


async def test_an_escalation_into_a_queue_starts_that_queues_own_ladder(env: WorkflowEnvironment):
    store = FakeStore({FRONT: [step(60, queue_id=SENIORS)], SENIORS: [step(30, Priority.URGENT)]})
    state = await escalated_times(env, store, 2)
    moved, raised = store.escalations()
    assert (moved.from_queue_id, moved.to_queue_id) == (FRONT, SENIORS)
    assert moved.escalation is not None and moved.escalation.moved
    assert raised.escalation is not None and raised.escalation.priority_raised
    assert (raised.at - moved.at).total_seconds() == pytest.approx(30, abs=1)
    assert (state.queue_id, state.priority) == (SENIORS, Priority.URGENT)


async def test_a_worker_restart_between_two_steps_changes_nothing(env: WorkflowEnvironment):
    store = FakeStore({FRONT: [step(60, Priority.HIGH), step(600, Priority.URGENT)]})
    task_queue = f"escalation-{uuid.uuid4()}"
    async with store.worker(env, task_queue, cache=False):
        handle = await start(env, task_queue)
        await until(env, lambda: store.escalations(), "the first step", step=timedelta(seconds=10))
    # No worker: time passes, the timer is the server's.
    await env.sleep(timedelta(seconds=120))
    async with store.worker(env, task_queue, cache=False):
        await until(env, lambda: len(store.escalations()) == 2, "the second step", step=timedelta(seconds=10))
        state = await handle.query(ConversationWorkflow.conversation)
    _, second = store.escalations()
    assert seconds_after_routing(store, second) == pytest.approx(600, abs=1)
    assert state.priority == Priority.URGENT
