"""Skill relaxation as a durable timer of ConversationWorkflow, on the time-skipping test
server with fake activities: a requirement relaxes at its moment, in its queue, once; a worker
that stops and another that starts (replaying the history) keep the moment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import activity, workflow
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.workflows.test_conversation_timers import env, no_sla_policy, until

with workflow.unsafe.imports_passed_through():
    from domain.conversation import (
        PROJECT_ACTIVITY,
        ROUTE_ACTIVITY,
        ConversationEvent,
        ConversationStart,
        Edit,
        NewConversation,
        ProjectionRequest,
        RouteRequest,
    )
    from domain.models import Actor, ActorType, Priority, RoutingDecision
    from domain.skills import SkillRequirement
from workflows.conversation import ConversationWorkflow

__all__ = ["env"]  # the time-skipping server, shared with the other timer tests

BOT = Actor(type=ActorType.BOT, id="bot-1", name="Language bot")
FRONT = "front"


@dataclass
class FakeStore:
    """Routing sends every conversation to FRONT with the rule's `rule_skills`."""

    rule_skills: list[SkillRequirement] = field(default_factory=list)
    events: dict[int, ConversationEvent] = field(default_factory=dict)

    def activities(self) -> list:
        @activity.defn(name=ROUTE_ACTIVITY)
        async def route(request: RouteRequest) -> RoutingDecision:
            return RoutingDecision(queue_id=FRONT, priority=Priority.NORMAL, route_id="rule-1",
                                   required_skills=self.rule_skills)

        @activity.defn(name=PROJECT_ACTIVITY)
        async def project(request: ProjectionRequest) -> None:
            for event in request.events:
                self.events[event.seq] = event

        return [route, project, no_sla_policy]

    def of_type(self, type_: str) -> list[ConversationEvent]:
        return [self.events[seq] for seq in sorted(self.events) if self.events[seq].type.value == type_]

    def worker(self, env: WorkflowEnvironment, task_queue: str) -> Worker:
        # No cache: the next worker replays the history from its start.
        return Worker(env.client, task_queue=task_queue, workflows=[ConversationWorkflow],
                      activities=self.activities(), max_cached_workflows=0)


async def start(env: WorkflowEnvironment, task_queue: str, required: list[SkillRequirement]) -> WorkflowHandle:
    conversation_id = str(uuid.uuid4())
    new = NewConversation(id=conversation_id, request_id="r-1", actor=BOT, created_at=await env.get_current_time(),
                          required_skills=required)
    handle = await env.client.start_workflow(
        ConversationWorkflow.run, ConversationStart(new=new), id=f"conversation-{conversation_id}",
        task_queue=task_queue,
    )
    await handle.execute_update(ConversationWorkflow.created, "r-1")
    return handle


def entered(store: FakeStore) -> datetime:
    return store.of_type("ROUTED")[0].at


async def test_a_requirement_relaxes_at_its_moment_across_a_worker_restart(env: WorkflowEnvironment):
    store, task_queue = FakeStore(), f"skills-{uuid.uuid4()}"
    required = [SkillRequirement(name="es", min_level=3, relax_after_seconds=300), SkillRequirement(name="vip")]
    async with store.worker(env, task_queue):
        handle = await start(env, task_queue, required)
        await env.sleep(timedelta(seconds=120))
    async with store.worker(env, task_queue):
        await until(env, lambda: len(store.of_type("SKILLS_RELAXED")) >= 1, "a relaxation", step=timedelta(seconds=10))
        await env.sleep(timedelta(hours=1))  # and no second one, for either requirement
        state = await handle.query(ConversationWorkflow.conversation)
    [relaxed] = store.of_type("SKILLS_RELAXED")
    assert relaxed.relaxed_skills == ["es"] and relaxed.due_at == entered(store) + timedelta(seconds=300)
    assert 0 <= (relaxed.at - relaxed.due_at).total_seconds() < 1
    assert [(r.name, r.relaxed) for r in state.required_skills] == [("es", True), ("vip", False)]
    assert state.queue_id == FRONT and state.queued_at == entered(store)


async def test_a_requirement_set_later_counts_from_when_it_was_set(env: WorkflowEnvironment):
    # A bot learns the language a minute in; the rule's own requirement relaxes from the entry.
    store = FakeStore(rule_skills=[SkillRequirement(name="billing", relax_after_seconds=30)])
    task_queue = f"skills-{uuid.uuid4()}"
    async with store.worker(env, task_queue):
        handle = await start(env, task_queue, [])
        await env.sleep(timedelta(seconds=60))
        state = await handle.query(ConversationWorkflow.conversation)
        await handle.execute_update(ConversationWorkflow.edit, Edit(actor=BOT, required_skills=[
            *[SkillRequirement(**r.model_dump(include={"name", "min_level", "relax_after_seconds"}))
              for r in state.required_skills],
            SkillRequirement(name="es", relax_after_seconds=120),
        ]))
        set_at = store.of_type("UPDATED")[-1].at
        await until(env, lambda: len(store.of_type("SKILLS_RELAXED")) >= 2, "two relaxations",
                    step=timedelta(seconds=10))
    billing, es = store.of_type("SKILLS_RELAXED")
    assert billing.relaxed_skills == ["billing"] and billing.due_at == entered(store) + timedelta(seconds=30)
    assert es.relaxed_skills == ["es"] and es.due_at == set_at + timedelta(seconds=120)
