"""ConversationWorkflow: one durable workflow per conversation, holding its whole state.

Every change goes through a handler: updates for actions whose caller needs an answer or a
clean refusal (validators refuse before anything reaches history), queries for reads. Moves
(routing, reroutes, the bot hand-off) hold one lock, so racing requests apply one at a time
and each effective change is one event.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.conversation import (
        CLOSED_TEXT,
        DEFAULT_BOT_TIMEOUT_SECONDS,
        MAX_TAGS,
        BAD_REQUEST,
        CONFLICT,
        FORBIDDEN,
        NOT_FOUND,
        PROJECT_ACTIVITY,
        ROUTE_ACTIVITY,
        AuthenticationReport,
        BotWait,
        Change,
        ConversationEvent,
        ConversationStart,
        ConversationState,
        CreateResult,
        EventType,
        NewConversation,
        ProjectionRequest,
        QueueRef,
        RouteAgain,
        RoutedBy,
        RouteRequest,
        TagChange,
    )
    from domain.models import (
        SYSTEM_ACTOR,
        Actor,
        Authentication,
        Priority,
        RoutingDecision,
        Status,
    )
    from workflows import search_attributes as sa

# Routing only reads, so it runs as a local activity: in the worker, recorded in history as a
# marker, with no round-trip through the server's task queues; a workflow task that is lost
# (worker crash, aborted update) simply routes again. The projection writes, so it is a
# regular activity: it runs only once its command is committed to history, so it never
# writes events of a workflow task that was later thrown away. Both retry without end: a
# database outage delays a conversation, it never fails or half-changes it.
ROUTE_TIMEOUT = timedelta(seconds=10)
PROJECT_TIMEOUT = timedelta(seconds=10)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)


def search_attribute_updates(state: ConversationState) -> list[SearchAttributeUpdate]:
    return [
        sa.QUEUE_ID.value_set(state.queue_id or ""),
        sa.STATUS.value_set(state.status.value),
        sa.PRIORITY.value_set(state.priority.value),
        sa.AUTHENTICATION.value_set(state.authentication.value),
    ]


def refuse(text: str, kind: str) -> ApplicationError:
    return ApplicationError(text, type=kind, non_retryable=True)


def new_state(new: NewConversation) -> ConversationState:
    return ConversationState(
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


@workflow.defn
class ConversationWorkflow:
    @workflow.init
    def __init__(self, start: ConversationStart) -> None:
        self._state = start.state if start.state is not None else new_state(start.new)
        self._projected_seq = start.projected_seq
        self._placed = start.state is not None
        self._moves = asyncio.Lock()
        self._projection_lock = asyncio.Lock()

    @workflow.run
    async def run(self, start: ConversationStart) -> None:
        if start.new is not None:
            await self._create(start.new)
        while not self._state.closed:
            if self._state.bot_wait is not None:
                await self._wait_for_bot(self._state.bot_wait)
            else:
                await workflow.wait_condition(
                    lambda: self._state.closed
                    or self._state.bot_wait is not None
                    or self._should_continue_as_new()
                )
            if self._should_continue_as_new():
                await self._settle()
                workflow.continue_as_new(
                    ConversationStart(state=self._state, projected_seq=self._projected_seq)
                )
        await self._settle()

    async def _settle(self) -> None:
        """Every accepted update done and projected, including any accepted meanwhile."""
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            await self._project()
            if workflow.all_handlers_finished():
                return

    # ---- reads

    @workflow.query
    def conversation(self) -> ConversationState:
        return self._state

    # ---- updates

    @workflow.update
    async def created(self, request_id: str) -> CreateResult:
        """Answers a create request once the conversation is routed and projected to SQL."""
        await workflow.wait_condition(
            lambda: self._placed and self._projected_seq >= self._state.last_seq
        )
        return CreateResult(created=request_id == self._state.created_request_id)

    # Updates answer nothing: callers read the store, which is projected before they return,
    # and a result would be kept in history for every change.

    @workflow.update
    async def change(self, change: Change) -> None:
        async with self._moves:
            self._refuse_if_closed()
            self._apply(change)
        await self._project()

    @change.validator
    def _validate_change(self, change: Change) -> None:
        self._refuse_if_closed()

    @workflow.update
    async def route(self, request: RouteAgain) -> None:
        """Runs routing again now, with the conversation's current facts."""
        async with self._moves:
            self._refuse_if_closed()
            decision = await self._evaluate_routing()
            if (decision.queue_id, decision.priority or self._state.priority) != (
                self._state.queue_id, self._state.priority
            ):
                self._place_by_routing(decision, request.actor, "routing run again")
        await self._project()

    @route.validator
    def _validate_route(self, request: RouteAgain) -> None:
        self._refuse_if_closed()

    @workflow.update
    async def report_authentication(self, report: AuthenticationReport) -> None:
        async with self._moves:
            # The wait may have ended while this report queued for the lock.
            wait = self._check_report(report)
            self._state.authentication = (
                Authentication.STRONG if report.succeeded else Authentication.FAILED
            )
            self._record(
                EventType.AUTHENTICATION_COMPLETED,
                report.actor,
                reason="strong authentication succeeded" if report.succeeded
                else "strong authentication failed",
            )
            await self._route_on_from_bot(wait, "authentication completed")
        await self._project()

    @report_authentication.validator
    def _validate_report(self, report: AuthenticationReport) -> None:
        self._check_report(report)

    @workflow.update
    async def tag(self, change: TagChange) -> None:
        async with self._moves:
            self._refuse_if_closed()
            self._apply_tag(change)
        await self._project()

    @tag.validator
    def _validate_tag(self, change: TagChange) -> None:
        self._refuse_if_closed()
        if not change.add and change.tag not in self._state.tags:
            raise refuse(f"Conversation has no tag {change.tag!r}", NOT_FOUND)
        if change.add and change.tag not in self._state.tags and len(self._state.tags) >= MAX_TAGS:
            raise refuse(f"A conversation has at most {MAX_TAGS} tags", BAD_REQUEST)

    # ---- the pieces

    async def _create(self, new: NewConversation) -> None:
        self._record(EventType.CREATED, new.actor, priority=self._state.priority)
        async with self._moves:
            if new.queue is not None:
                self._state.routed_by = None
                self._move(EventType.ROUTED, new.actor, new.queue, reason="queueId given at creation")
            else:
                self._place_by_routing(await self._evaluate_routing(), SYSTEM_ACTOR, None)
        self._placed = True
        await self._project()

    def _refuse_if_closed(self) -> None:
        if self._state.closed:
            raise refuse(CLOSED_TEXT, CONFLICT)

    def _check_report(self, report: AuthenticationReport) -> BotWait:
        self._refuse_if_closed()
        wait = self._state.bot_wait
        if wait is None:
            raise refuse("Conversation is not waiting in a bot queue", CONFLICT)
        if wait.bot_id != report.bot_id:
            raise refuse("Only the bot serving the conversation's queue may report", FORBIDDEN)
        return wait

    def _should_continue_as_new(self) -> bool:
        return workflow.info().is_continue_as_new_suggested()

    async def _wait_for_bot(self, wait: BotWait) -> None:
        deadline = wait.started_at + timedelta(seconds=wait.timeout_seconds)
        remaining = (deadline - workflow.now()).total_seconds()
        if remaining > 0:
            try:
                await workflow.wait_condition(
                    lambda: self._state.bot_wait is not wait or self._should_continue_as_new(),
                    timeout=remaining,
                )
                return
            except asyncio.TimeoutError:
                pass
        async with self._moves:
            if self._state.bot_wait is wait:
                self._record(
                    EventType.BOT_TIMED_OUT,
                    SYSTEM_ACTOR,
                    from_queue_id=wait.queue_id,
                    reason=f"no report from the bot within {wait.timeout_seconds} s",
                )
                await self._route_on_from_bot(wait, "bot timed out")
        await self._project()

    async def _route_on_from_bot(self, wait: BotWait, why: str) -> None:
        """Routing again after a hand-off: never back into the bot's own queue; with no
        matching rule, back to the queue the conversation came from."""
        self._state.bot_wait = None
        decision = await self._evaluate_routing(
            skip_queues={wait.queue_id: "the bot's own queue"},
            fallback_queue_id=wait.return_queue_id,
        )
        self._place_by_routing(decision, SYSTEM_ACTOR, why)

    async def _evaluate_routing(
        self, skip_queues: dict[str, str] | None = None, fallback_queue_id: str | None = None
    ) -> RoutingDecision:
        return await workflow.execute_local_activity(
            ROUTE_ACTIVITY,
            RouteRequest(
                conversation_id=self._state.id,
                facts=self._state.facts(),
                customer=self._state.customer,
                skip_queues=skip_queues or {},
                fallback_queue_id=fallback_queue_id,
            ),
            result_type=RoutingDecision,
            start_to_close_timeout=ROUTE_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    def _place_by_routing(self, decision: RoutingDecision, actor: Actor, why: str | None) -> None:
        if decision.priority is not None:
            self._state.priority = decision.priority
        self._state.customer_id = decision.customer_id
        self._state.routed_by = RoutedBy(
            route_id=decision.route_id, routing_version=decision.routing_version
        )
        outcome = "matched rule" if decision.route_id else "no rule matched"
        self._move(
            EventType.ROUTED,
            actor,
            QueueRef(
                id=decision.queue_id,
                bot_id=decision.bot_id,
                bot_timeout_seconds=decision.bot_timeout_seconds or DEFAULT_BOT_TIMEOUT_SECONDS,
            ),
            reason=f"{why}: {outcome}" if why else outcome,
            route_id=decision.route_id,
            routing_version=decision.routing_version,
            trace=decision.trace,
            trace_omitted=decision.trace_omitted,
            facts=decision.facts,
        )

    def _move(self, type: EventType, actor: Actor, queue: QueueRef, **fields) -> None:
        """Puts the conversation in a queue; a queue with a bot starts a hand-off."""
        state = self._state
        previous_wait = state.bot_wait
        from_queue = state.queue_id
        state.queue_id = queue.id
        state.bot_wait = None
        self._record(
            type, actor, from_queue_id=from_queue, to_queue_id=queue.id,
            priority=state.priority, **fields,
        )
        if queue.bot_id is not None:
            started = self._record(
                EventType.BOT_STARTED,
                SYSTEM_ACTOR,
                to_queue_id=queue.id,
                reason=f"waiting up to {queue.bot_timeout_seconds} s for the queue's bot",
            )
            state.bot_wait = BotWait(
                queue_id=queue.id,
                bot_id=queue.bot_id,
                # From one bot queue into another, "back" still means the human queue before.
                return_queue_id=previous_wait.return_queue_id if previous_wait else from_queue,
                started_at=started.at,
                timeout_seconds=queue.bot_timeout_seconds,
                seq=started.seq,
            )
        workflow.upsert_search_attributes(search_attribute_updates(state))

    def _apply(self, change: Change) -> None:
        """Applies a PATCH: one event per field that really changes, status last."""
        state, actor = self._state, change.actor
        for field in ("topic", "summary"):
            value = getattr(change, field)
            if field in change.given and getattr(state, field) != value:
                setattr(state, field, value)
                self._record(EventType.UPDATED, actor, reason=f"{field} changed")
        if "priority" in change.given and change.priority and change.priority != state.priority:
            state.priority = change.priority
            self._record(EventType.PRIORITY_CHANGED, actor, priority=state.priority,
                         reason=change.reason)
            workflow.upsert_search_attributes(search_attribute_updates(state))
        if "agent_id" in change.given and change.agent_id != state.agent_id:
            state.agent_id = change.agent_id
            self._record(EventType.ASSIGNED, actor, agent_id=change.agent_id, reason=change.reason)
        if "queue" in change.given and change.queue.id != state.queue_id:
            state.routed_by = None
            self._move(EventType.REROUTED, actor, change.queue, reason=change.reason)
        if "status" in change.given and change.status and change.status != state.status:
            self._set_status(change.status, actor, change.reason)

    def _set_status(self, status: Status, actor: Actor, reason: str | None) -> None:
        state = self._state
        state.status = status
        if status == Status.CLOSED:
            state.bot_wait = None
            state.closed_at = workflow.now()
            self._record(EventType.CLOSED, actor, reason=reason)
        else:
            self._record(EventType.STATUS_CHANGED, actor, reason=reason or status.value)
        workflow.upsert_search_attributes(search_attribute_updates(state))

    def _apply_tag(self, change: TagChange) -> None:
        tags = self._state.tags
        if change.add and change.tag not in tags:
            tags.append(change.tag)
            self._record(EventType.TAGGED, change.actor, reason=change.tag)
        elif not change.add and change.tag in tags:
            tags.remove(change.tag)
            self._record(EventType.UNTAGGED, change.actor, reason=change.tag)

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
            await workflow.execute_activity(
                PROJECT_ACTIVITY,
                ProjectionRequest(
                    conversation=self._state.model_copy(update={"events": []}), events=unseen
                ),
                start_to_close_timeout=PROJECT_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )
            self._projected_seq = max(self._projected_seq, target)
