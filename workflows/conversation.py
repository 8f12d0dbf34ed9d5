"""ConversationWorkflow: one durable workflow per conversation, the only place its changes
are decided.

The transitions themselves live in domain.conversation_core (pure, unit-tested); this module
adds what needs Temporal: handlers, the routing and projection activities, durable waits,
search attributes. Updates answer actions whose caller needs an answer or a clean refusal
(validators refuse before anything reaches history), one update per intent. Moves hold one
lock, so racing requests apply one at a time and each effective change is one event. The
state stays bounded: events leave it once the store holds them.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar, assert_never

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError, CancelledError, FailureError

with workflow.unsafe.imports_passed_through():
    from domain.activity_stubs import (
        DESCRIBE_QUEUE,
        MATCH_SLA_POLICY,
        PERMANENT_ROUTING_FAILURE,
        PROJECT_CONVERSATION,
        ROUTE_CONVERSATION,
        ActivityStub,
        SlaMatchRequest,
    )
    from domain.conversation import (
        UNAVAILABLE,
        Assignment,
        AuthenticationReport,
        ConversationRun,
        ConversationStart,
        ConversationState,
        CreateResult,
        Edit,
        EditByNames,
        MessageRecorded,
        NewConversation,
        OfferAnswer,
        OfferWithdrawal,
        PriorityChange,
        QueueRef,
        Reroute,
        RouteAgain,
        RouteRequest,
        StatusChange,
        TagChange,
    )
    from domain.conversation_core import ConversationCore, Refused, edit_of, new_run
    from domain.deadlines import Deadline, DeadlineKind
    from domain.models import Authentication, RoutingDecision
    from domain.sla_clocks import SlaTerms
    from workflows import search_attributes as sa

# Routing only reads, so it runs as a local activity: in the worker, recorded in history as a
# marker, with no round-trip through the server's task queues; a workflow task that is lost
# (worker crash, aborted update) simply routes again. It is bounded: an update waiting on it
# is refused (nothing changed) after ROUTING_LIMIT, and a stored routing that cannot be read
# is not retried at all.
ROUTING_ATTEMPT = timedelta(seconds=10)
# Below the API's update deadline (api.app.UPDATE_DEADLINE_SECONDS, 20 s): a caller hears
# the refusal, rather than a 503 while the change may still happen.
ROUTING_LIMIT = timedelta(seconds=15)
ROUTING_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=[PERMANENT_ROUTING_FAILURE],
)
# Where no caller waits (creation, a bot's timeout), failed routing is tried again after a
# pause that doubles up to the longest, so a long outage adds few events to the history.
ROUTING_AGAIN_AFTER = timedelta(seconds=30)
ROUTING_AGAIN_AT_MOST = timedelta(minutes=30)
# The projection writes, so it is a regular activity: it runs only once its command is
# committed to history, so it never writes events of a workflow task that was later thrown
# away. Its writes are idempotent upserts, so it retries until the store takes them: a
# database outage delays a conversation's reads, never loses or half-writes its events.
PROJECTION_ATTEMPT = timedelta(seconds=10)
PROJECTION_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)

# A run's workflow task timeout, set when it starts (its runs continued as new keep it): a task
# that a worker had begun when it was killed (kill -9) is handed to another worker only once it
# times out, so this is how late such a run's deadlines (a lapse) may come. Temporal's default,
# 10 s; 3 s is still above a task's own time under a burst (up to 0.9 s in the race test on a
# loaded 2-core machine; the routing's local activity does not count: the SDK extends its task
# as it runs). A task that took longer would move to another worker and be replayed there.
TASK_TIMEOUT = timedelta(seconds=3)


A = TypeVar("A")
R = TypeVar("R")

# Since work distribution, POST /route unassigns first (as Infobip does); a history recorded
# before may have routed an assigned conversation again without an event, so no projection.
ROUTE_AGAIN_UNASSIGNS = "route-again-unassigns"
# POST /route records its decision (ROUTED with rule, version and trace) also when it keeps
# queue and priority; a history recorded before has no event there, and its later events'
# seqs were projected without one.
ROUTE_AGAIN_RECORDS_KEPT = "route-again-records-kept"
# Out of hours apply only while no agent keeps the conversation; a history recorded before
# answered and closed a conversation under its agent, and recorded OUT_OF_HOURS before
# unassigning an agent who did not come along.
AGENTS_KEEP_OUT_OF_HOURS = "agents-keep-out-of-hours"
# At its first placement a conversation's SLA policy is matched (a local activity: a marker
# in its history) and its clocks start; a history recorded before has no marker there.
SLA_CLOCKS = "sla-clocks"


def search_attribute_updates(state: ConversationState) -> list[SearchAttributeUpdate]:
    return [
        sa.QUEUE_ID.value_set(state.queue_id or ""),
        sa.STATUS.value_set(state.status.value),
        sa.PRIORITY.value_set(state.priority.value),
        sa.AUTHENTICATION.value_set(state.authentication.value),
    ]


def _upsert_search_attributes(state: ConversationState) -> None:
    workflow.upsert_search_attributes(search_attribute_updates(state))


@contextmanager
def refusals_as_update_failures() -> Iterator[None]:
    """A refusal fails the update (the caller gets it), never the workflow task."""
    try:
        yield
    except Refused as refused:
        raise ApplicationError(refused.text, type=refused.kind, non_retryable=True) from None


def closed_only(update: Callable[..., object]) -> Callable[..., None]:
    """The validator of an update that only a closed conversation refuses (409, before
    anything reaches history): one function, registered on each such update with
    `_validate_x = x.validator(closed_only(x))`. It takes the update's own signature, as
    Temporal requires of a validator; the argument itself is not read."""

    def validate(self: ConversationWorkflow, *_: Any) -> None:
        self._refuse_if_closed()

    validate.__signature__ = inspect.signature(update)  # type: ignore[attr-defined]
    validate.__name__ = f"_validate_{update.__name__}"
    return validate


@workflow.defn
class ConversationWorkflow:
    @workflow.init
    def __init__(self, start: ConversationStart) -> None:
        assert start.run is not None or start.new is not None
        run = start.run if start.run is not None else new_run(start.new)  # type: ignore[arg-type]
        self._core = ConversationCore(
            run, workflow.now, _upsert_search_attributes,
            agents_keep_out_of_hours=lambda: workflow.patched(AGENTS_KEEP_OUT_OF_HOURS),
        )
        self._moves = asyncio.Lock()
        self._projection_lock = asyncio.Lock()

    @property
    def _state(self) -> ConversationState:
        return self._core.state

    @property
    def _run(self) -> ConversationRun:
        return self._core.run

    @workflow.run
    async def run(self, start: ConversationStart) -> None:
        if start.new is not None:
            await self._create(start.new)
        while not self._state.closed:
            deadline = self._core.next_deadline()
            if await self._until_due(deadline):
                assert deadline is not None
                await self._when_due(deadline)
            if self._should_continue_as_new():
                await self._settle()
                # Its pending events are none once settled; carried all the same.
                workflow.continue_as_new(ConversationStart(run=self._run))
        await self._settle()

    async def _settle(self) -> None:
        """Every accepted update done and projected, including any accepted meanwhile."""
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            await self._project()
            if workflow.all_handlers_finished():
                return

    # ---- reads (for debugging: the API reads the store)

    @workflow.query
    def conversation(self) -> ConversationState:
        return self._state

    # ---- updates

    @workflow.update
    async def created(self, request_id: str) -> CreateResult:
        """Answers a create request once the conversation is routed and projected to SQL."""
        await workflow.wait_condition(lambda: self._run.placed and self._run.in_store())
        return CreateResult(created=request_id == self._state.created_request_id)

    # Updates answer nothing: callers read the store, which is projected before they return,
    # and a result would be kept in history for every change.

    @workflow.update
    async def edit(self, edit: Edit) -> None:
        """Several fields at once (a PATCH naming more than one intent): all or nothing."""
        await self._change(lambda: self._core.edit(edit))

    _validate_edit = edit.validator(closed_only(edit))

    @workflow.update
    async def reroute(self, request: Reroute) -> None:
        await self._change(lambda: self._core.reroute(request.queue, request.actor, request.reason))

    _validate_reroute = reroute.validator(closed_only(reroute))

    @workflow.update
    async def assign(self, request: Assignment) -> None:
        """By hand, or auto-assignment's offer (store.assignment made it under lock; refused if
        the conversation no longer waits unassigned in that queue)."""
        await self._change(lambda: self._core.take(request))

    @assign.validator
    def _validate_assign(self, request: Assignment) -> None:
        self._refuse_if_closed()
        if request.offered_in_queue_id is not None and self._run.placed:
            with refusals_as_update_failures():
                self._core.check_offer(request)

    @workflow.update
    async def set_priority(self, request: PriorityChange) -> None:
        await self._change(
            lambda: self._core.set_priority(request.priority, request.actor, request.reason)
        )

    _validate_set_priority = set_priority.validator(closed_only(set_priority))

    @workflow.update
    async def set_status(self, request: StatusChange) -> None:
        await self._change(
            lambda: self._core.set_status(request.status, request.actor, request.reason)
        )

    _validate_set_status = set_status.validator(closed_only(set_status))

    # Named `change` on the wire, as recorded histories and running conversations call it.
    @workflow.update(name="change")
    async def edit_by_names(self, by_names: EditByNames) -> None:
        """The one update every PATCH used before `edit` and the updates per intent; kept
        while recorded histories and running conversations may still call it."""
        await self._change(lambda: self._core.edit(edit_of(by_names)))

    _validate_edit_by_names = edit_by_names.validator(closed_only(edit_by_names))

    @workflow.update
    async def route(self, request: RouteAgain) -> None:
        """Runs routing again now, with the conversation's current facts."""
        await self._until_placed()
        with refusals_as_update_failures():
            async with self._moves:
                self._core.refuse_if_closed()
                decision = await self._decide(self._core.route_request())
                unassign = workflow.patched(ROUTE_AGAIN_UNASSIGNS)
                self._core.route_again(
                    decision, request.actor, unassign=unassign,
                    record_kept=workflow.patched(ROUTE_AGAIN_RECORDS_KEPT),
                )
        await self._project()

    _validate_route = route.validator(closed_only(route))

    @workflow.update
    async def report_authentication(self, report: AuthenticationReport) -> None:
        await self._until_placed()
        with refusals_as_update_failures():
            async with self._moves:
                # The wait may have ended while this report queued for the lock.
                wait = self._core.check_report(report.bot_id)
                authentication = (
                    Authentication.STRONG if report.succeeded else Authentication.FAILED
                )
                # The wait ends before routing runs (its timer is cancelled first, as every
                # recorded history has it); if routing fails, it resumes and nothing changed.
                self._core.end_bot_wait()
                try:
                    decision = await self._decide(
                        self._core.route_request(after_bot=wait, authentication=authentication)
                    )
                except Refused:
                    self._core.resume_bot_wait(wait)
                    raise
                self._core.complete_authentication(authentication, report.actor, decision)
        await self._project()

    @report_authentication.validator
    def _validate_report(self, report: AuthenticationReport) -> None:
        with refusals_as_update_failures():
            self._core.check_report(report.bot_id)

    @workflow.update
    async def record_message(self, message: MessageRecorded) -> None:
        await self._change(lambda: self._core.record_message(message))

    _validate_record_message = record_message.validator(closed_only(record_message))

    @workflow.update
    async def tag(self, change: TagChange) -> None:
        await self._change(lambda: self._core.tag(change))

    @tag.validator
    def _validate_tag(self, change: TagChange) -> None:
        with refusals_as_update_failures():
            self._core.check_tag(change)

    @workflow.update
    async def answer_offer(self, answer: OfferAnswer) -> None:
        """The offered agent accepts (ASSIGNED) or declines (OFFER_DECLINED)."""
        await self._change(lambda: self._core.answer_offer(answer))

    @answer_offer.validator
    def _validate_answer_offer(self, answer: OfferAnswer) -> None:
        with refusals_as_update_failures():
            self._core.check_answer(answer)

    @workflow.update
    async def withdraw_offer(self, withdrawal: OfferWithdrawal) -> None:
        """The dispatcher takes back an offer its agent can no longer take (OFFER_WITHDRAWN)."""
        await self._change(lambda: self._core.withdraw(withdrawal))

    _validate_withdraw_offer = withdraw_offer.validator(closed_only(withdraw_offer))

    # ---- the pieces

    async def _until_placed(self) -> None:
        """Handlers act on a created conversation; an update can reach a workflow before its
        first task has routed it."""
        if not self._run.placed:
            await workflow.wait_condition(lambda: self._run.placed)

    async def _change(self, apply) -> None:
        """A change that needs no routing: applied under the lock, then projected."""
        await self._until_placed()
        with refusals_as_update_failures():
            async with self._moves:
                self._core.refuse_if_closed()
                apply()
        await self._project()

    def _refuse_if_closed(self) -> None:
        with refusals_as_update_failures():
            self._core.refuse_if_closed()

    async def _create(self, new: NewConversation) -> None:
        async with self._moves:
            self._core.record_created(new)
            decision = None
            if new.queue is None:
                decision = await self._decide_when_possible(self._core.route_request())
            self._core.place_new(new, decision)
            if not self._state.closed and workflow.patched(SLA_CLOCKS):
                self._core.start_sla(await self._match_sla_when_possible())
        await self._project()

    async def _match_sla_when_possible(self) -> SlaTerms | None:
        """The matched policy's terms, read once: the workflow computes every clock moment
        from them (and never reads the policy again, so a later edit leaves these clocks be)."""
        request = SlaMatchRequest(facts=self._state.facts())
        return await self._when_possible(lambda: self._local(MATCH_SLA_POLICY, request, "matching SLA policies"))

    def _should_continue_as_new(self) -> bool:
        return workflow.info().is_continue_as_new_suggested()

    async def _until_due(self, deadline: Deadline | None) -> bool:
        """Waits for the core's next deadline on one durable timer (none while nothing is due:
        the wait lasts until a change sets a deadline, as in every history recorded before
        ladders). True once it is due; False as soon as anything moves it (a bot's report,
        a move, an assignment, closing) or the run should continue as new: the loop then
        waits anew."""

        def moved() -> bool:
            return (self._state.closed or self._should_continue_as_new()
                    or self._core.next_deadline() != deadline)

        if deadline is None:
            await workflow.wait_condition(moved)
            return False
        remaining = (deadline.at - workflow.now()).total_seconds()
        if remaining > 0:
            try:
                await workflow.wait_condition(moved, timeout=remaining)
                return False
            except TimeoutError:
                pass
        return True

    async def _when_due(self, deadline: Deadline) -> None:
        """Acts on a deadline by its kind; a new kind must say here what its moment does."""
        if deadline.kind is DeadlineKind.BOT_TIMEOUT:
            await self._time_out_bot(deadline)
        elif deadline.kind is DeadlineKind.ESCALATION:
            await self._escalate()
        elif deadline.kind is DeadlineKind.SKILL_RELAXATION:
            await self._relax_skills(deadline)
        elif deadline.kind is DeadlineKind.OFFER_LAPSE:
            await self._lapse_offer(deadline)
        elif deadline.kind is DeadlineKind.SLA_WARNING or deadline.kind is DeadlineKind.SLA_BREACH:
            await self._sla_due(deadline)
        else:
            assert_never(deadline.kind)

    async def _time_out_bot(self, deadline: Deadline) -> None:
        """The bot did not report in time: routing runs again without it."""
        async with self._moves:
            # Checked under the lock: a report that queued for it may have ended the wait.
            wait = self._core.timed_out_bot_wait(deadline)
            if wait is not None:
                self._core.end_bot_wait()
                decision = await self._decide_when_possible(
                    self._core.route_request(after_bot=wait)
                )
                self._core.time_out_bot(wait, decision)
        await self._project()

    async def _lapse_offer(self, deadline: Deadline) -> None:
        # No history recorded before offers has one, so none reaches this: no patch.
        async with self._moves:
            self._core.lapse_offer(deadline)
        await self._project()

    async def _relax_skills(self, deadline: Deadline) -> None:
        # No history recorded before skills has a requirement, so none reaches this: no patch.
        async with self._moves:
            self._core.relax_skills(deadline)
        await self._project()

    async def _sla_due(self, deadline: Deadline) -> None:
        """An SLA clock's warning or breach; a breach moving the conversation reads its queue
        as an escalation step does. (Only conversations with SLA clocks get here: no patch.)"""
        async with self._moves:
            target = None
            queue_id = self._core.sla_breach_queue(deadline)
            if queue_id is not None:
                target = await self._describe_queue_when_possible(queue_id)
            self._core.sla_due(deadline, target)
        await self._project()

    async def _escalate(self) -> None:
        """Takes the ladder's step that is due."""
        async with self._moves:
            # Checked again under the lock: a change that queued for it may have stopped
            # or moved the clock.
            step = self._core.due_escalation_step(workflow.now())
            if step is None:
                return
            target = None
            if step.queue_id is not None and step.queue_id != self._state.queue_id:
                target = await self._describe_queue_when_possible(step.queue_id)
            self._core.escalate(target)
        await self._project()

    async def _describe_queue_when_possible(self, queue_id: str) -> QueueRef | None:
        """The queue an escalation moves to, as the store has it now (None: gone); tried
        again on a durable timer while the store cannot say."""
        return await self._when_possible(lambda: self._local(
            DESCRIBE_QUEUE, queue_id, f"describing queue {queue_id}"
        ))

    async def _decide(self, request: RouteRequest) -> RoutingDecision:
        """Routing's decision, or a refusal when it cannot be had within ROUTING_LIMIT."""
        return await self._local(ROUTE_CONVERSATION, request, "routing")

    async def _local(self, stub: ActivityStub[A, R], argument: A, what: str) -> R:
        """A reading local activity, or a refusal when it cannot be had within ROUTING_LIMIT."""
        try:
            result: R = await workflow.execute_local_activity(
                stub.name,
                argument,
                result_type=stub.result,
                start_to_close_timeout=ROUTING_ATTEMPT,
                schedule_to_close_timeout=ROUTING_LIMIT,
                retry_policy=ROUTING_RETRY,
            )
            return result
        except FailureError as failure:
            # A local activity's failure arrives as the activity's own error or timeout; a
            # cancellation of the workflow (as such, or as the activity's cause) is not ours
            # to absorb.
            if isinstance(failure, CancelledError) or isinstance(failure.cause, CancelledError):
                raise
            workflow.logger.warning("%s failed: %s", what, failure.cause or failure)
            raise Refused("Routing is unavailable now; nothing was changed", UNAVAILABLE) from None

    async def _when_possible(self, attempt: Callable[[], Awaitable[R]]) -> R:
        """Where no caller waits for an answer, tried again on a durable timer until it works."""
        pause = ROUTING_AGAIN_AFTER
        while True:
            try:
                return await attempt()
            except Refused:
                await workflow.sleep(pause)
                pause = min(pause * 2, ROUTING_AGAIN_AT_MOST)

    async def _decide_when_possible(self, request: RouteRequest) -> RoutingDecision:
        """Where no caller waits for an answer, routing is tried again until it decides."""
        return await self._when_possible(lambda: self._decide(request))

    async def _project(self) -> None:
        """Writes what the store has not seen; one projection at a time, in seq order."""
        async with self._projection_lock:
            request = self._core.projection()
            if request is None:
                return
            await workflow.execute_activity(
                PROJECT_CONVERSATION.name,
                request,
                start_to_close_timeout=PROJECTION_ATTEMPT,
                retry_policy=PROJECTION_RETRY,
            )
            self._core.projected(request.conversation.last_seq)
