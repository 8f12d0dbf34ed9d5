"""An offer's lapse as a durable timer of ConversationWorkflow, on the time-skipping test
server with fake activities: it lapses at its moment across a worker restart, once; an answer
before it cancels the lapse."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.testing import WorkflowEnvironment

from tests.workflows.test_conversation_timers import env, until
from tests.workflows.test_skill_relaxation_timers import FakeStore, start

with workflow.unsafe.imports_passed_through():
    from domain.conversation import Assignment, OfferAnswer
    from domain.models import SYSTEM_ACTOR, Actor, ActorType
from workflows.conversation import ConversationWorkflow

__all__ = ["env"]  # the time-skipping server, shared with the other timer tests

ANA = Actor(type=ActorType.AGENT, id="ana", name="Ana")
OFFER = Assignment(actor=SYSTEM_ACTOR, agent_id="ana", reason="LOAD_BALANCING", offered_in_queue_id="front",
                   offer_timeout_seconds=120)


async def test_an_offer_lapses_at_its_moment_across_a_worker_restart(env: WorkflowEnvironment):
    store, task_queue = FakeStore(), f"offers-{uuid.uuid4()}"
    async with store.worker(env, task_queue):
        handle = await start(env, task_queue, [])
        await handle.execute_update(ConversationWorkflow.assign, OFFER, id="claim-1")
        await env.sleep(timedelta(seconds=60))
    async with store.worker(env, task_queue):
        await until(env, lambda: bool(store.of_type("OFFER_EXPIRED")), "a lapse", step=timedelta(seconds=5))
        await env.sleep(timedelta(hours=1))  # once
        state = await handle.query(ConversationWorkflow.conversation)
    [offered] = store.of_type("OFFERED")
    [expired] = store.of_type("OFFER_EXPIRED")
    assert offered.expires_at == offered.at + timedelta(seconds=120) == expired.due_at
    assert expired.due_at is not None and 0 <= (expired.at - expired.due_at).total_seconds() < 1
    assert state.offer is None and [entry.agent_id for entry in state.passed_over] == ["ana"]


async def test_an_answer_in_time_cancels_the_lapse(env: WorkflowEnvironment):
    store, task_queue = FakeStore(), f"offers-{uuid.uuid4()}"
    async with store.worker(env, task_queue):
        handle = await start(env, task_queue, [])
        await handle.execute_update(ConversationWorkflow.assign, OFFER, id="claim-1")
        await env.sleep(timedelta(seconds=30))
        await handle.execute_update(ConversationWorkflow.answer_offer, OfferAnswer(actor=ANA, agent_id="ana",
                                                                                    accept=True))
        await env.sleep(timedelta(hours=1))
        state = await handle.query(ConversationWorkflow.conversation)
    assert store.of_type("OFFER_EXPIRED") == [] and state.agent_id == "ana"
    assert [event.type.value for event in store.of_type("ASSIGNED")] == ["ASSIGNED"]
