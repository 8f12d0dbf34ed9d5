"""The conversation's state transitions, pure: the functional core its workflow drives.

Every change to a conversation is a method here that updates its `ConversationState` and
records the events it makes; the core owns the run (`ConversationRun`: state, events not yet
projected, projection progress) that continue-as-new carries, and answers the next deadline
the workflow waits for. Time and the search-attribute side effect are injected, so the
same code runs in the workflow (with `workflow.now` and `upsert_search_attributes`) and in
unit tests (with a fixed clock), and the workflow sandbox re-executes none of it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from domain.conversation import (
    BAD_REQUEST,
    CLOSED_TEXT,
    CONFLICT,
    DEFAULT_BOT_TIMEOUT_SECONDS,
    ESCALATING_STATUSES,
    FORBIDDEN,
    MAX_TAGS,
    NOT_FOUND,
    Agent,
    Assignment,
    BotWait,
    ConversationEvent,
    ConversationRun,
    ConversationState,
    Edit,
    EditByNames,
    Escalation,
    EscalationTaken,
    EventType,
    MessageRecorded,
    NewConversation,
    OfferAnswer,
    OfferWithdrawal,
    PassedOver,
    PendingOffer,
    ProjectionRequest,
    QueueRef,
    RoutedBy,
    RouteRequest,
    TagChange,
    Text,
    escalation_due,
)
from domain.deadlines import Deadline, DeadlineKind, earliest
from domain.models import (
    SYSTEM_ACTOR,
    Actor,
    Authentication,
    EscalationStep,
    Priority,
    RoutingDecision,
    Status,
)
from domain.skills import RequiredSkill, SkillRequirement, described, merged, relaxes_at, replaced
from domain.sla_clocks import ClockStatus, SlaClock, SlaTerms, next_moment, pause, resume, started


class Refused(Exception):
    """A change the conversation refuses; `kind` is one of the failure types of
    domain.conversation (BAD_REQUEST, CONFLICT, ...), which the API maps to a status."""

    def __init__(self, text: str, kind: str) -> None:
        super().__init__(text)
        self.text = text
        self.kind = kind


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
        required_skills=[RequiredSkill(**given.model_dump(), set_at=new.created_at) for given in new.required_skills],
        created_at=new.created_at,
        updated_at=new.created_at,
    )


def new_run(new: NewConversation) -> ConversationRun:
    """A new conversation's run: its first state, not yet placed, nothing projected."""
    return ConversationRun(state=new_state(new))


def _of_business_time(terms: SlaTerms) -> str:
    return " of the policy's working hours" if terms.hours is not None else ""


def edit_of(by_names: EditByNames) -> Edit:
    """The `change` update's field-name list, as the typed edit it stands for."""
    given = set(by_names.given)
    return Edit(
        actor=by_names.actor,
        reason=by_names.reason,
        topic=Text(value=by_names.topic) if "topic" in given else None,
        summary=Text(value=by_names.summary) if "summary" in given else None,
        priority=by_names.priority if "priority" in given else None,
        agent=Agent(agent_id=by_names.agent_id) if "agent_id" in given else None,
        queue=by_names.queue if "queue" in given else None,
        status=by_names.status if "status" in given else None,
    )


class ConversationCore:
    """One conversation's run: its state, the events not yet projected to the store, and
    how far the store has them (`run`, what continue-as-new carries).

    `clock` gives the time of each event; `on_indexed_change` is called, with the state,
    wherever the fields Temporal indexes (queue, status, priority, authentication) may have
    changed: the workflow upserts its search attributes there, at the same points as every
    recorded history did.
    """

    def __init__(
        self,
        run: ConversationRun,
        clock: Callable[[], datetime],
        on_indexed_change: Callable[[ConversationState], None] = lambda state: None,
        agents_keep_out_of_hours: Callable[[], bool] = lambda: True,
    ) -> None:
        self.run = run
        self._clock = clock
        self._on_indexed_change = on_indexed_change
        # Asked only where a conversation with an agent enters a closed queue: the workflow
        # answers workflow.patched(...), so histories recorded before keep the hours applying.
        self._agents_keep_out_of_hours = agents_keep_out_of_hours

    @property
    def state(self) -> ConversationState:
        return self.run.state

    @property
    def pending(self) -> list[ConversationEvent]:
        return self.run.pending

    # ---- refusals: checked before anything changes

    def refuse_if_closed(self) -> None:
        if self.state.closed:
            raise Refused(CLOSED_TEXT, CONFLICT)

    def check_report(self, bot_id: str | None) -> BotWait:
        """The hand-off a bot's report ends; refused unless that bot serves it now."""
        self.refuse_if_closed()
        wait = self.state.bot_wait
        if wait is None:
            raise Refused("Conversation is not waiting in a bot queue", CONFLICT)
        if wait.bot_id != bot_id:
            raise Refused("Only the bot serving the conversation's queue may report", FORBIDDEN)
        return wait

    def check_tag(self, change: TagChange) -> None:
        self.refuse_if_closed()
        tags = self.state.tags
        if not change.add and change.tag not in tags:
            raise Refused(f"Conversation has no tag {change.tag!r}", NOT_FOUND)
        if change.add and change.tag not in tags and len(tags) >= MAX_TAGS:
            raise Refused(f"A conversation has at most {MAX_TAGS} tags", BAD_REQUEST)

    # ---- routing requests

    def route_request(
        self, after_bot: BotWait | None = None, authentication: Authentication | None = None
    ) -> RouteRequest:
        """What routing needs to decide. After a hand-off (`after_bot`) routing never goes back
        into the bot's own queue and, with no matching rule, returns to the queue the
        conversation came from. `authentication` evaluates with that value instead of the
        current one (a bot's report, before it is recorded)."""
        state = self.state
        if authentication is not None:
            state = state.model_copy(update={"authentication": authentication})
        return RouteRequest(
            conversation_id=state.id,
            facts=state.facts(),
            customer=state.customer,
            skip_queues={after_bot.queue_id: "the bot's own queue"} if after_bot else {},
            fallback_queue_id=after_bot.return_queue_id if after_bot else None,
        )

    # ---- transitions

    def record_created(self, new: NewConversation) -> None:
        self.record(EventType.CREATED, new.actor, priority=self.state.priority)

    def place_new(self, new: NewConversation, decision: RoutingDecision | None) -> None:
        """Places a created conversation: in the queue it was given, else where `decision`
        (routing) says."""
        # Handlers may act from here on (nothing yields before the placing is done).
        self.run.placed = True
        # The creator's agent keeps the conversation: no out-of-hours handling for it.
        keeper = new.agent_id
        if new.queue is not None:
            self.state.routed_by = None
            self.move(EventType.ROUTED, new.actor, new.queue, keeper=keeper, reason="queueId given at creation")
        else:
            assert decision is not None, "a conversation without a queue is routed"
            self.place_by_routing(decision, SYSTEM_ACTOR, None, keeper=keeper)
        if self.state.closed:  # cannot happen with an agent: out of hours applies to none
            return
        if new.agent_id is not None:
            self.assign(new.agent_id, new.actor, "agentId given at creation")
        if new.status is not None:
            self.set_status(new.status, new.actor, "status given at creation")

    def record_message(self, message: MessageRecorded) -> None:
        """A conversation's first message becomes its `message.*` routing facts, unless it
        was created with them; a customer's message reopens a SOLVED conversation."""
        state = self.state
        if state.message_content is None and message.content is not None:
            state.message_content = message.content
            state.channel = state.channel or message.channel
            state.from_ = state.from_ or message.from_
            state.to = state.to or message.to
            self.record(EventType.UPDATED, message.actor, reason="first message: routing facts")
        if message.from_customer and state.status == Status.SOLVED:
            self.set_status(Status.OPEN, message.actor, "the customer wrote again")
        if message.from_agent and state.sla is not None and state.sla.first_response is not None:
            self._meet(state.sla.first_response, message.actor, "the first agent reply")

    def route_again(
        self, decision: RoutingDecision, actor: Actor, unassign: bool = True, record_kept: bool = True
    ) -> None:
        """POST /route: unassigns (as Infobip does; not in histories recorded before), then
        moves only when routing now decides differently. When it keeps queue and priority,
        the decision is still recorded (`record_kept`; histories recorded before have no
        event then): a ROUTED event in place, with its rule, version and trace."""
        state = self.state
        if unassign:
            self.assign(None, actor, "routing run again")
        if (decision.queue_id, decision.priority or state.priority) != (
            state.queue_id, state.priority
        ):
            self.place_by_routing(decision, actor, "routing run again")
        elif record_kept:
            self.record_routing_kept(decision, actor, "routing run again")

    def record_routing_kept(self, decision: RoutingDecision, actor: Actor, why: str) -> None:
        """Routing ran and decided the queue and priority the conversation has: a ROUTED event
        from its queue to the same queue, so the timeline shows that routing ran and why. It is
        no entry: the queue's clocks (wait, escalation), its bot's hand-off and its out-of-hours
        handling go on untouched, and statistics count no move."""
        state = self.state
        state.customer_id = decision.customer_id
        state.routed_by = RoutedBy(
            route_id=decision.route_id, routing_version=decision.routing_version
        )
        outcome = "matched rule" if decision.route_id else "no rule matched"
        self.record(
            EventType.ROUTED, actor, from_queue_id=state.queue_id, to_queue_id=state.queue_id,
            priority=state.priority, reason=f"{why}: {outcome}; queue and priority kept",
            route_id=decision.route_id, routing_version=decision.routing_version,
            trace=decision.trace, trace_omitted=decision.trace_omitted, facts=decision.facts,
        )

    def end_bot_wait(self) -> None:
        """The hand-off stops waiting (its timer is cancelled) while routing decides where
        the conversation goes next; `resume_bot_wait` undoes it if routing fails."""
        self.state.bot_wait = None

    def resume_bot_wait(self, wait: BotWait) -> None:
        self.state.bot_wait = wait

    def complete_authentication(
        self, authentication: Authentication, actor: Actor, decision: RoutingDecision
    ) -> None:
        """Records a bot's report, once its wait has ended, and moves on as routing decided."""
        self.state.authentication = authentication
        self.record(
            EventType.AUTHENTICATION_COMPLETED,
            actor,
            reason="strong authentication succeeded"
            if authentication == Authentication.STRONG else "strong authentication failed",
        )
        self.place_by_routing(decision, SYSTEM_ACTOR, "authentication completed")

    def time_out_bot(self, wait: BotWait, decision: RoutingDecision) -> None:
        """Records that the bot did not report in time (its wait has ended) and moves on."""
        self.record(
            EventType.BOT_TIMED_OUT,
            SYSTEM_ACTOR,
            from_queue_id=wait.queue_id,
            reason=f"no report from the bot within {wait.timeout_seconds} s",
        )
        self.place_by_routing(decision, SYSTEM_ACTOR, "bot timed out")

    def place_by_routing(
        self, decision: RoutingDecision, actor: Actor, why: str | None, keeper: str | None = None
    ) -> None:
        """Moves where routing decided; `keeper`, an agent who will hold the conversation
        though it is not assigned yet (the creator's), as `move` says."""
        state = self.state
        if decision.priority is not None:
            state.priority = decision.priority
        state.customer_id = decision.customer_id
        state.routed_by = RoutedBy(
            route_id=decision.route_id, routing_version=decision.routing_version
        )
        outcome = "matched rule" if decision.route_id else "no rule matched"
        if decision.required_skills:
            state.required_skills = merged(state.required_skills, decision.required_skills, self._clock())
            outcome += f"; skills required: {described(decision.required_skills)}"
        self.move(
            EventType.ROUTED,
            actor,
            QueueRef(
                id=decision.queue_id,
                bot_id=decision.bot_id,
                bot_timeout_seconds=decision.bot_timeout_seconds or DEFAULT_BOT_TIMEOUT_SECONDS,
                escalation=decision.escalation,
                out_of_hours=decision.out_of_hours,
            ),
            keeper=keeper,
            reason=f"{why}: {outcome}" if why else outcome,
            route_id=decision.route_id,
            routing_version=decision.routing_version,
            trace=decision.trace,
            trace_omitted=decision.trace_omitted,
            facts=decision.facts,
        )

    def move(
        self, type: EventType, actor: Actor, queue: QueueRef, keeper: str | None = None, **fields: Any
    ) -> None:
        """Puts the conversation in a queue; a queue with a bot starts a hand-off. Entering a
        queue that is closed (`queue.out_of_hours`) records OUT_OF_HOURS with the hours'
        auto-reply, and closes the conversation if those hours say so (no hand-off then) --
        but only while no agent keeps it: its agent stays with it into the new queue (no
        `members` list, or one naming it), or `keeper` will hold it (given at creation). An
        agent's conversation is the agent's to answer and close, whatever the queue's hours."""
        state = self.state
        agent_id = state.agent_id
        previous_wait = state.bot_wait
        from_queue = state.queue_id
        if from_queue != queue.id:
            self.withdraw_offer("moved to another queue")
        state.queue_id = queue.id
        state.bot_wait = None
        moved = self.record(
            type, actor, from_queue_id=from_queue, to_queue_id=queue.id,
            priority=state.priority, **fields,
        )
        if from_queue != queue.id:
            state.queued_at = moved.at
            # A new stay: every requirement restricts again, its clock counting from the entry,
            # and every agent may be offered it again.
            for requirement in state.required_skills:
                requirement.relaxed = False
            state.passed_over = []
            # The new queue's ladder starts (histories before ladders have none: no timer).
            state.escalation = Escalation(
                queue_id=queue.id, steps=list(queue.escalation), since=moved.at
            ) if queue.escalation else None
        # Only entering the queue counts (staying in it with another priority does not).
        out_of_hours = queue.out_of_hours if from_queue != queue.id else None
        if out_of_hours is not None and (keeper is not None or agent_id is not None) \
                and self._agents_keep_out_of_hours():
            if keeper is not None or queue.members is None or agent_id in queue.members:
                out_of_hours = None  # its agent comes along (or will hold it): theirs to answer
            else:
                # Its agent does not come along (not a member there): unassigned first, so
                # the hours answer and close an unassigned conversation, never one under an
                # agent. (Elsewhere a move by hand unassigns after it, as `reroute` does.)
                self.assign(None, actor, "moved to a queue the agent is not a member of")
        if out_of_hours is not None:
            self.record(EventType.OUT_OF_HOURS, SYSTEM_ACTOR, to_queue_id=queue.id,
                        reason="queue closed: outside its working hours", out_of_hours=out_of_hours)
            if out_of_hours.close_conversation:
                self.set_status(Status.CLOSED, SYSTEM_ACTOR,
                                "out of hours: the queue's working hours close conversations")
                return
        if queue.bot_id is not None:
            started = self.record(
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
        self._on_indexed_change(state)

    # ---- deadlines

    def next_deadline(self) -> Deadline | None:
        """The earliest timed thing the workflow waits for (None: nothing is due, and the wait
        lasts until a change sets a deadline): the bot's hand-off timing out, the ladder's
        next step (whose clock stands while a bot serves the conversation), a required skill
        relaxing, or a pending offer lapsing."""
        return earliest(self._bot_timeout(), self._escalation_deadline(), self._relaxation_deadline(),
                        self._offer_deadline(), self.sla_deadline())

    def _bot_timeout(self) -> Deadline | None:
        wait = self.state.bot_wait
        if wait is None:
            return None
        return Deadline(DeadlineKind.BOT_TIMEOUT,
                        wait.started_at + timedelta(seconds=wait.timeout_seconds), seq=wait.seq)

    def _escalation_deadline(self) -> Deadline | None:
        due = self.next_escalation_at()
        return Deadline(DeadlineKind.ESCALATION, due) if due is not None else None

    def _relaxation_deadline(self) -> Deadline | None:
        """The next required skill to relax, while the conversation waits for an agent in its
        queue (its clock runs on while it is assigned or with a bot, and a requirement overdue
        when it waits again relaxes at once)."""
        state = self.state
        if (state.agent_id is not None or state.bot_wait is not None or state.queue_id is None
                or state.status not in ESCALATING_STATUSES):
            return None
        moments = [at for at in (relaxes_at(r, state.queued_at) for r in state.required_skills) if at is not None]
        return Deadline(DeadlineKind.SKILL_RELAXATION, min(moments)) if moments else None

    def _offer_deadline(self) -> Deadline | None:
        offer = self.state.offer
        return Deadline(DeadlineKind.OFFER_LAPSE, offer.expires_at, seq=offer.seq) if offer is not None else None

    # ---- SLA clocks (SPEC "Service level"; domain.sla_clocks)

    def start_sla(self, terms: SlaTerms | None) -> None:
        """The matched policy's clocks start at the first placement (its entry into the queue);
        a conversation placed WAITING has its resolution clock paused at once."""
        state = self.state
        if terms is None or state.closed:
            return
        state.sla = started(terms, state.queued_at or self._clock())
        self._sla_follows_status()

    def sla_deadline(self) -> Deadline | None:
        """The next warning or breach of a running clock."""
        sla = self.state.sla
        moment = next_moment(sla) if sla is not None else None
        if moment is None:
            return None
        at, clock, warning = moment
        return Deadline(DeadlineKind.SLA_WARNING if warning else DeadlineKind.SLA_BREACH, at, clock=clock.name)

    def sla_breach_queue(self, deadline: Deadline) -> str | None:
        """The queue a breach due at `deadline` moves the conversation to (the workflow reads
        it from the store first), if it is still due and moves it elsewhere."""
        sla = self.state.sla
        if sla is None or deadline.kind is not DeadlineKind.SLA_BREACH or self.sla_deadline() != deadline:
            return None
        on_breach = sla.terms.on_breach
        queue_id = on_breach.queue_id if on_breach is not None else None
        return queue_id if queue_id != self.state.queue_id else None

    def sla_due(self, deadline: Deadline, target: QueueRef | None = None) -> None:
        """A clock's warning (SLA_WARNING) or breach (SLA_BREACHED, then `onBreach` as an
        escalation step applies it, `target` being its queue as the workflow found it). Nothing
        if a change meanwhile moved the moment (checked again under the workflow's lock)."""
        sla = self.state.sla
        if sla is None or deadline.clock is None or self.sla_deadline() != deadline:
            return
        clock = sla.clock(deadline.clock)
        if deadline.kind is DeadlineKind.SLA_WARNING:
            clock.warned, clock.warn_at = True, None
            self.record(EventType.SLA_WARNING, SYSTEM_ACTOR, clock=clock.name, due_at=clock.due_at,
                        reason=f"{clock.name} due in {sla.terms.warn_before_seconds} s{_of_business_time(sla.terms)}")
            return
        clock.status, clock.warn_at = ClockStatus.BREACHED, None
        self._breach(clock, target)

    def _breach(self, clock: SlaClock, target: QueueRef | None) -> None:
        """SLA_BREACHED, raising the priority to `onBreach`'s (never lowering it) and moving to
        `target`: one event, as an escalation step's ESCALATED."""
        state = self.state
        on_breach = state.sla.terms.on_breach if state.sla is not None else None
        done = [f"{clock.name} not met by its due moment"]
        raised = False
        if on_breach is not None and on_breach.priority is not None:
            raised = on_breach.priority.rank > state.priority.rank
            if raised:
                state.priority = on_breach.priority
            done.append(f"priority raised to {on_breach.priority.value}" if raised
                        else f"priority already {state.priority.value}")
        moves = target is not None and target.id != state.queue_id
        if on_breach is not None and on_breach.queue_id is not None:
            done.append(f"moved to queue {on_breach.queue_id}" if moves
                        else "target queue no longer exists" if target is None else "already there")
        fields: dict[str, Any] = dict(clock=clock.name, due_at=clock.due_at, reason=", ".join(done))
        if moves:
            assert target is not None
            state.routed_by = None
            self.move(EventType.SLA_BREACHED, SYSTEM_ACTOR, target, **fields)
        else:
            self.record(EventType.SLA_BREACHED, SYSTEM_ACTOR, priority=state.priority, **fields)
            if raised:
                self._on_indexed_change(state)

    def _meet(self, clock: SlaClock, actor: Actor, by: str) -> None:
        """A clock not yet met nor breached is met: SLA_MET, once."""
        if clock.status not in (ClockStatus.ACTIVE, ClockStatus.PAUSED):
            return
        clock.status, clock.warn_at, clock.remaining_seconds = ClockStatus.MET, None, None
        self.record(EventType.SLA_MET, actor, clock=clock.name, due_at=clock.due_at, reason=f"{clock.name} met by {by}")

    def _sla_follows_status(self, actor: Actor = SYSTEM_ACTOR) -> None:
        """The resolution clock pauses while the conversation is WAITING (on the customer) and
        from SOLVED until a reopening, runs again with the open time it had left, and is met
        at CLOSED."""
        state = self.state
        clock = state.sla.resolution if state.sla is not None else None
        if clock is None or state.sla is None:
            return
        if state.status == Status.CLOSED:
            self._meet(clock, actor, "closing")
        elif state.status in (Status.WAITING, Status.SOLVED):
            pause(state.sla.terms, clock, self._clock())
        else:
            resume(state.sla.terms, clock, self._clock())

    # ---- offers (SPEC "Offers")

    def offer(self, assignment: Assignment) -> None:
        """Auto-assignment's claim in a queue that makes offers: the agent is offered it, and
        has `offer_timeout_seconds` to answer."""
        assert assignment.agent_id is not None and assignment.offer_timeout_seconds is not None
        state = self.state
        expires_at = self._clock() + timedelta(seconds=assignment.offer_timeout_seconds)
        offered = self.record(EventType.OFFERED, assignment.actor, agent_id=assignment.agent_id,
                              reason=assignment.reason, expires_at=expires_at)
        assert state.queue_id is not None, "an offer is made in a queue"
        state.offer = PendingOffer(agent_id=assignment.agent_id, queue_id=state.queue_id, offered_at=offered.at,
                                   expires_at=expires_at, reason=assignment.reason, seq=offered.seq)
        state.last_offered_agent_id = assignment.agent_id

    def check_answer(self, answer: OfferAnswer) -> PendingOffer:
        """The pending offer `answer` answers; only its agent may, once. An agent it was
        offered to before (its offer lapsed, was declined, answered or withdrawn last) is told
        so (409), even once it is offered to another; anyone else may not answer (403)."""
        self.refuse_if_closed()
        state = self.state
        offer = state.offer
        if offer is not None and offer.agent_id == answer.agent_id:
            return offer
        offered_before = {state.last_offered_agent_id, state.agent_id, *(p.agent_id for p in state.passed_over)}
        if answer.agent_id in offered_before:
            raise Refused("The offer has lapsed, been withdrawn or already been answered", CONFLICT)
        raise Refused("Only the agent it is offered to may answer the offer", FORBIDDEN)

    def answer_offer(self, answer: OfferAnswer) -> None:
        offer = self.check_answer(answer)
        self.state.offer = None
        if answer.accept:
            self._accepted(offer, answer.actor, "offer accepted")
        else:
            self.record(EventType.OFFER_DECLINED, answer.actor, agent_id=offer.agent_id,
                        reason=answer.reason or "declined")
            self._passed_over(offer.agent_id)

    def _accepted(self, offer: PendingOffer, actor: Actor, how: str) -> None:
        """ASSIGNED to the offered agent; it carries the offer's `expires_at` (an answer in
        time, which resets the agent's missed offers)."""
        self.state.agent_id = offer.agent_id
        self.record(EventType.ASSIGNED, actor, agent_id=offer.agent_id, expires_at=offer.expires_at,
                    reason=f"{how}; {offer.reason}" if offer.reason else how)

    def lapse_offer(self, deadline: Deadline) -> None:
        """Nobody answered by its moment: OFFER_EXPIRED, and the conversation waits again in
        its old place. Nothing if it was answered or withdrawn meanwhile."""
        offer = self.state.offer
        if offer is None or offer.seq != deadline.seq:
            return
        self.state.offer = None
        seconds = round((offer.expires_at - offer.offered_at).total_seconds())
        self.record(EventType.OFFER_EXPIRED, SYSTEM_ACTOR, agent_id=offer.agent_id, due_at=offer.expires_at,
                    reason=f"not answered within {seconds} s")
        self._passed_over(offer.agent_id)

    def withdraw_offer(self, reason: str, agent_id: str | None = None) -> None:
        """The pending offer (of `agent_id`, if named) is taken back: OFFER_WITHDRAWN, no miss."""
        offer = self.state.offer
        if offer is None or (agent_id is not None and offer.agent_id != agent_id):
            return
        self.state.offer = None
        self.record(EventType.OFFER_WITHDRAWN, SYSTEM_ACTOR, agent_id=offer.agent_id, reason=reason)

    def withdraw(self, withdrawal: OfferWithdrawal) -> None:
        self.withdraw_offer(withdrawal.reason, withdrawal.agent_id)

    def _passed_over(self, agent_id: str) -> None:
        passed = [entry for entry in self.state.passed_over if entry.agent_id != agent_id]
        self.state.passed_over = [*passed, PassedOver(agent_id=agent_id, at=self._clock())]

    def relax_skills(self, deadline: Deadline) -> None:
        """The requirements due at `deadline` stop restricting who may take the conversation
        (they still count in the score): one SKILLS_RELAXED event names them. Nothing if a
        change meanwhile moved the moment (checked again under the workflow's lock)."""
        if self._relaxation_deadline() != deadline:
            return
        state = self.state
        due = [r for r in state.required_skills if relaxes_at(r, state.queued_at) == deadline.at]
        for requirement in due:
            requirement.relaxed = True
        names = [requirement.name for requirement in due]
        self.record(EventType.SKILLS_RELAXED, SYSTEM_ACTOR, relaxed_skills=names, due_at=deadline.at,
                    reason=f"waited {due[0].relax_after_seconds} s: any agent of the queue may take it "
                           f"without {', '.join(names)}")

    def require_skills(self, given: list[SkillRequirement], actor: Actor, reason: str | None) -> None:
        """The required skills become `given`; unchanged ones keep their relaxation clock."""
        state = self.state
        required = replaced(state.required_skills, given, self._clock())
        if required != state.required_skills:
            state.required_skills = required
            self.record(EventType.UPDATED, actor,
                        reason=reason or f"required skills: {described(given) or 'none'}")

    def timed_out_bot_wait(self, deadline: Deadline) -> BotWait | None:
        """The hand-off whose timeout `deadline` is, if it still waits."""
        wait = self.state.bot_wait
        return wait if wait is not None and wait.seq == deadline.seq else None

    # ---- escalation

    def next_escalation_at(self) -> datetime | None:
        """When the next step of the current queue's ladder is due; None while the clock
        stands (assigned, closed or solved, waiting for a bot) or no step is left."""
        state = self.state
        return escalation_due(state.escalation, queue_id=state.queue_id, status=state.status,
                              agent_id=state.agent_id, in_bot_wait=state.bot_wait is not None)

    def due_escalation_step(self, now: datetime) -> EscalationStep | None:
        """The step due at `now`, if the clock runs and one is."""
        due = self.next_escalation_at()
        if due is None or due > now or self.state.escalation is None:
            return None
        return self.state.escalation.steps[self.state.escalation.next_step]

    def escalate(self, target: QueueRef | None = None) -> None:
        """Takes the step that is due: the priority is raised to the step's (never lowered),
        and the conversation moves to `target`, the step's queue as the workflow found it
        (None: no move, or the queue is gone). One ESCALATED event says what it did."""
        state = self.state
        ladder = state.escalation
        assert ladder is not None and ladder.next_step < len(ladder.steps), "no step is due"
        index, step = ladder.next_step, ladder.steps[ladder.next_step]
        ladder.next_step += 1
        raised = step.priority is not None and step.priority.rank > state.priority.rank
        if raised:
            assert step.priority is not None
            state.priority = step.priority
        moves = target is not None and target.id != state.queue_id
        done = []
        if step.priority is not None:
            done.append(f"priority raised to {step.priority.value}" if raised
                        else f"priority already {state.priority.value}")
        if step.queue_id is not None:
            done.append(f"moved to queue {step.queue_id}" if moves
                        else "target queue no longer exists" if target is None else "already there")
        taken = EscalationTaken(
            step=index, after_seconds=step.after_seconds, priority=step.priority,
            queue_id=step.queue_id, priority_raised=raised, moved=moves,
        )
        reason = f"escalation step {index + 1} after {step.after_seconds} s: {', '.join(done)}"
        if moves:
            assert target is not None
            state.routed_by = None
            self.move(EventType.ESCALATED, SYSTEM_ACTOR, target, reason=reason, escalation=taken)
        else:
            self.record(EventType.ESCALATED, SYSTEM_ACTOR, priority=state.priority,
                        reason=reason, escalation=taken)
            if raised:
                self._on_indexed_change(state)

    def _restart_escalation(self, at: datetime | None = None) -> None:
        """Released by its agent, or reopened: the remaining steps count from `at` (now)."""
        ladder = self.state.escalation
        if ladder is not None and ladder.queue_id == self.state.queue_id:
            ladder.since = at or self._clock()

    def edit_text(self, field: str, value: str | None, actor: Actor) -> None:
        if getattr(self.state, field) != value:
            setattr(self.state, field, value)
            self.record(EventType.UPDATED, actor, reason=f"{field} changed")

    def set_priority(self, priority: Priority, actor: Actor, reason: str | None) -> None:
        if priority != self.state.priority:
            self.state.priority = priority
            self.record(EventType.PRIORITY_CHANGED, actor, priority=priority, reason=reason)
            self._on_indexed_change(self.state)

    def assign(self, agent_id: str | None, actor: Actor, reason: str | None) -> None:
        offer = self.state.offer
        if offer is not None and agent_id is not None:
            if agent_id == offer.agent_id:  # the offered agent taking it by hand accepts
                self.state.offer = None
                self._accepted(offer, actor, reason or "taken by hand")
                return
            self.withdraw_offer("assigned by hand")
        previous = self.state.agent_id
        if agent_id == previous:
            return
        self.state.agent_id = agent_id
        if agent_id is None:
            released = self.record(EventType.UNASSIGNED, actor, agent_id=previous, reason=reason)
            self._restart_escalation(released.at)
        else:
            self.record(EventType.ASSIGNED, actor, agent_id=agent_id, reason=reason)

    def check_offer(self, assignment: Assignment) -> None:
        """Auto-assignment offered the conversation to an agent while it waited unassigned in
        a queue (or an agent took it so): refused unless it still does (already accepted:
        nothing to do)."""
        self.refuse_if_closed()
        state = self.state
        if state.agent_id == assignment.agent_id:
            return
        if state.offer is not None:
            if state.offer.agent_id == assignment.agent_id:
                return  # this claim was offered already
            raise Refused("Conversation is offered to another agent", CONFLICT)
        if state.agent_id is not None:
            raise Refused("Conversation is assigned already", CONFLICT)
        if state.queue_id != assignment.offered_in_queue_id:
            raise Refused("Conversation is no longer waiting in that queue", CONFLICT)
        if state.status not in (Status.OPEN, Status.WAITING):
            raise Refused(f"A {state.status.value} conversation is not assigned", CONFLICT)

    def check_assignment(self, assignment: Assignment) -> None:
        if assignment.offered_in_queue_id is not None:
            self.check_offer(assignment)
        if assignment.from_agent_id is not None and self.state.agent_id not in (None, assignment.from_agent_id):
            raise Refused("Conversation is assigned to another agent", CONFLICT)

    def take(self, assignment: Assignment) -> None:
        """An assignment by hand, or auto-assignment's claim (checked again under the lock),
        offered to the agent where its queue makes offers."""
        self.check_assignment(assignment)
        if assignment.offer_timeout_seconds is not None and assignment.offered_in_queue_id is not None:
            if self.state.offer is None and self.state.agent_id is None:
                self.offer(assignment)
            return
        self.assign(assignment.agent_id, assignment.actor, assignment.reason)

    def reroute(self, queue: QueueRef, actor: Actor, reason: str | None) -> None:
        if queue.id != self.state.queue_id:
            self.state.routed_by = None
            self.move(EventType.REROUTED, actor, queue, reason=reason)
            agent_id = self.state.agent_id
            stays = queue.members is None or agent_id in queue.members
            if not self.state.closed and agent_id is not None and not stays:
                self.assign(None, actor, "moved to a queue the agent is not a member of")

    def set_status(self, status: Status, actor: Actor, reason: str | None) -> None:
        state = self.state
        if status == state.status:
            return
        previous = state.status
        if status not in ESCALATING_STATUSES:
            self.withdraw_offer(f"{status.value.lower()}")
        state.status = status
        if status in ESCALATING_STATUSES and previous not in ESCALATING_STATUSES:
            self._restart_escalation()
        if status == Status.CLOSED:
            state.bot_wait = None
            state.closed_at = self._clock()
            self.record(EventType.CLOSED, actor, reason=reason, status=status)
        else:
            self.record(EventType.STATUS_CHANGED, actor, reason=reason or status.value, status=status)
        self._sla_follows_status(actor)
        self._on_indexed_change(state)

    def edit(self, edit: Edit) -> None:
        """Several changes at once, in a fixed order: texts, priority, agent, queue, status
        last (closing ends every other change)."""
        actor, reason = edit.actor, edit.reason
        if edit.assignment is not None:
            self.check_assignment(edit.assignment)  # before anything changes: all or nothing
        for field in ("topic", "summary"):
            text = getattr(edit, field)
            if text is not None:
                self.edit_text(field, text.value, actor)
        if edit.priority is not None:
            self.set_priority(edit.priority, actor, reason)
        if edit.required_skills is not None:
            self.require_skills(edit.required_skills, actor, reason)
        if edit.assignment is not None:
            self.take(edit.assignment)
        elif edit.agent is not None:
            self.assign(edit.agent.agent_id, actor, reason)
        if edit.queue is not None:
            self.reroute(edit.queue, actor, reason)
        if edit.status is not None and not self.state.closed:  # closed by moving out of hours
            self.set_status(edit.status, actor, reason)

    def tag(self, change: TagChange) -> None:
        # Checked again here, under the workflow's lock: two adds racing past the validator
        # must not take a conversation over its limit.
        self.check_tag(change)
        tags = self.state.tags
        if change.add and change.tag not in tags:
            tags.append(change.tag)
            self.record(EventType.TAGGED, change.actor, reason=change.tag)
        elif not change.add and change.tag in tags:
            tags.remove(change.tag)
            self.record(EventType.UNTAGGED, change.actor, reason=change.tag)

    def record(self, type: EventType, actor: Actor, **fields: Any) -> ConversationEvent:
        now = self._clock()
        event = ConversationEvent(
            seq=self.state.last_seq + 1, type=type, at=now, actor=actor, **fields
        )
        self.run.pending.append(event)
        self.state.last_seq = event.seq
        self.state.updated_at = now
        return event

    # ---- projection

    def projection(self) -> ProjectionRequest | None:
        """What the store has not seen (None: it has every event): the conversation as it is
        now, a copy, and the events after the last one projected."""
        run = self.run
        if self.state.last_seq <= run.projected_seq:
            return None
        return ProjectionRequest(
            conversation=self.state.model_copy(deep=True),
            events=[event for event in run.pending if event.seq > run.projected_seq],
        )

    def projected(self, seq: int) -> None:
        """The store holds every event up to `seq`: the run need not keep them."""
        run = self.run
        run.projected_seq = max(run.projected_seq, seq)
        run.pending = [event for event in run.pending if event.seq > run.projected_seq]
