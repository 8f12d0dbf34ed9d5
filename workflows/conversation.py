"""ConversationWorkflow: one durable workflow per conversation, holding its whole state."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from domain.conversation import (
        PROJECT_ACTIVITY,
        ROUTE_ACTIVITY,
        ConversationEvent,
        ConversationState,
        CreateResult,
        EventType,
        NewConversation,
        ProjectionRequest,
        RoutedBy,
        RouteRequest,
    )
    from domain.models import SYSTEM_ACTOR, Actor, Priority, RoutingDecision, Status
    from workflows import search_attributes as sa

# Routing and projection are short SQL work, so they run as local activities: in the worker,
# recorded in history as markers, without a round-trip through the server's task queues (and
# re-run by the next worker if this one dies before recording them). A bounded retry rides
# out a database restart without hiding a real fault forever.
ROUTE_TIMEOUT = timedelta(seconds=10)
PROJECT_TIMEOUT = timedelta(seconds=10)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=30,
)


def search_attribute_updates(state: ConversationState) -> list[SearchAttributeUpdate]:
    return [
        sa.QUEUE_ID.value_set(state.queue_id or ""),
        sa.STATUS.value_set(state.status.value),
        sa.PRIORITY.value_set(state.priority.value),
        sa.AUTHENTICATION.value_set(state.authentication.value),
    ]


@workflow.defn
class ConversationWorkflow:
    @workflow.init
    def __init__(self, new: NewConversation) -> None:
        self._state = ConversationState(
            id=new.id,
            created_request_id=new.request_id,
            external_id=new.external_id,
            topic=new.topic,
            summary=new.summary,
            priority=new.priority or Priority.NORMAL,
            channel=new.channel,
            from_=new.from_,
            to=new.to,
            tags=list(new.tags),
            customer=new.customer,
            message_content=new.message_content,
            created_at=new.created_at,
            updated_at=new.created_at,
        )
        self._projected_seq = 0
        self._placed = False
        self._projection_lock = asyncio.Lock()

    @workflow.run
    async def run(self, new: NewConversation) -> None:
        self._record(EventType.CREATED, new.actor, priority=self._state.priority)
        if new.queue_id:
            self._place_by_hand(new.queue_id, new.actor, reason="queueId given at creation")
        else:
            self._place_by_routing(await self._evaluate_routing())
        await self._project()
        await workflow.wait_condition(lambda: self._state.status == Status.CLOSED)

    @workflow.update
    async def created(self, request_id: str) -> CreateResult:
        """Answers a create request once the conversation is routed and projected to SQL."""
        await workflow.wait_condition(
            lambda: self._placed and self._projected_seq >= self._state.last_seq
        )
        return CreateResult(
            conversation=self._state, created=request_id == self._state.created_request_id
        )

    @workflow.query
    def conversation(self) -> ConversationState:
        return self._state

    async def _evaluate_routing(self) -> RoutingDecision:
        return await workflow.execute_local_activity(
            ROUTE_ACTIVITY,
            RouteRequest(conversation_id=self._state.id, facts=self._state.facts()),
            result_type=RoutingDecision,
            start_to_close_timeout=ROUTE_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    def _place_by_routing(self, decision: RoutingDecision) -> None:
        if decision.priority is not None:
            self._state.priority = decision.priority
        self._state.routed_by = RoutedBy(
            route_id=decision.route_id, routing_version=decision.routing_version
        )
        self._move(
            EventType.ROUTED,
            SYSTEM_ACTOR,
            decision.queue_id,
            reason="matched rule" if decision.route_id else "no rule matched: default queue",
            route_id=decision.route_id,
            routing_version=decision.routing_version,
            trace=decision.trace,
            facts=decision.facts,
        )

    def _place_by_hand(self, queue_id: str, actor: Actor, reason: str | None) -> None:
        self._state.routed_by = None
        self._move(EventType.ROUTED, actor, queue_id, reason=reason)

    def _move(self, type: EventType, actor: Actor, queue_id: str, **fields) -> None:
        from_queue = self._state.queue_id
        self._state.queue_id = queue_id
        self._record(
            type,
            actor,
            from_queue_id=from_queue,
            to_queue_id=queue_id,
            priority=self._state.priority,
            **fields,
        )
        self._placed = True
        workflow.upsert_search_attributes(search_attribute_updates(self._state))

    def _record(self, type: EventType, actor: Actor, **fields) -> ConversationEvent:
        now = workflow.now()
        event = ConversationEvent(
            seq=self._state.last_seq + 1, type=type, at=now, actor=actor, **fields
        )
        self._state.events.append(event)
        self._state.updated_at = now
        return event

    async def _project(self) -> None:
        """Writes what the store has not seen; one projection at a time, in seq order."""
        async with self._projection_lock:
            target = self._state.last_seq
            if target <= self._projected_seq:
                return
            unseen = [e for e in self._state.events if e.seq > self._projected_seq]
            await workflow.execute_local_activity(
                PROJECT_ACTIVITY,
                ProjectionRequest(
                    conversation=self._state.model_copy(update={"events": []}), events=unseen
                ),
                start_to_close_timeout=PROJECT_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )
            self._projected_seq = max(self._projected_seq, target)
