"""Escalation ladders in the conversation's functional core, without Temporal: when the next
step is due, what a step does, and what stops or restarts the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.conversation import (
    Assignment,
    ConversationState,
    EventType,
    NewConversation,
    QueueRef,
)
from domain.conversation_core import ConversationCore, new_run
from domain.models import (
    SYSTEM_ACTOR,
    Actor,
    ActorType,
    EscalationStep,
    Priority,
    RoutingDecision,
    Status,
)

AGENT = Actor(type=ActorType.AGENT, id="agent-1", name="Ana")
START = datetime(2026, 1, 1, tzinfo=UTC)
LADDER = [EscalationStep(after_seconds=60, priority=Priority.HIGH),
          EscalationStep(after_seconds=120, queue_id="seniors")]
SENIORS = QueueRef(id="seniors", escalation=[EscalationStep(after_seconds=30, priority=Priority.URGENT)])


class Clock:
    """Stands still unless moved: every event of a step happens at the same time."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def placed(ladder=LADDER, bot_id: str | None = None) -> tuple[ConversationCore, Clock, list]:
    clock, indexed = Clock(), []
    new = NewConversation(id="c-1", request_id="r-1", actor=AGENT, created_at=START)
    core = ConversationCore(new_run(new), clock, lambda state: indexed.append(state.priority))
    core.record_created(new)
    core.place_new(new, RoutingDecision(queue_id="front", priority=Priority.NORMAL,
                                        escalation=ladder, bot_id=bot_id))
    return core, clock, indexed


def escalated(core: ConversationCore) -> list:
    return [event for event in core.pending if event.type == EventType.ESCALATED]


def test_routing_into_a_queue_starts_its_ladder_from_then():
    core, clock, _ = placed()
    ladder = core.state.escalation
    assert ladder is not None and (ladder.queue_id, ladder.next_step, ladder.since) == ("front", 0, START)
    assert core.next_escalation_at() == START + timedelta(seconds=60)
    assert core.due_escalation_step(START + timedelta(seconds=59)) is None
    assert core.due_escalation_step(START + timedelta(seconds=60)) == LADDER[0]


def test_a_queue_without_a_ladder_has_no_clock():
    core, _, _ = placed(ladder=[])
    assert core.state.escalation is None and core.next_escalation_at() is None
    core, _, _ = placed(ladder=None)  # a decision from before ladders
    assert core.state.escalation is None and core.next_escalation_at() is None


def test_a_step_raises_the_priority_with_one_escalated_event():
    core, clock, indexed = placed()
    clock.advance(60)
    core.escalate()
    assert core.state.priority == Priority.HIGH and indexed[-1] == Priority.HIGH
    [event] = escalated(core)
    assert event.actor == SYSTEM_ACTOR and event.priority == Priority.HIGH
    assert event.escalation is not None
    assert (event.escalation.step, event.escalation.priority_raised, event.escalation.moved) == (0, True, False)
    assert event.to_queue_id is None
    assert core.next_escalation_at() == START + timedelta(seconds=120)


def test_a_step_never_lowers_the_priority():
    core, clock, indexed = placed()
    core.set_priority(Priority.URGENT, AGENT, None)
    clock.advance(60)
    core.escalate()
    assert core.state.priority == Priority.URGENT
    [event] = escalated(core)
    assert event.escalation is not None and not event.escalation.priority_raised
    assert "already URGENT" in (event.reason or "")


def test_a_step_that_moves_starts_the_target_queues_own_ladder():
    core, clock, _ = placed()
    clock.advance(60)
    core.escalate()
    moved_at = clock.advance(60)
    assert core.due_escalation_step(moved_at) == LADDER[1]
    core.escalate(SENIORS)
    state = core.state
    assert (state.queue_id, state.queued_at) == ("seniors", moved_at)
    event = escalated(core)[-1]
    assert (event.from_queue_id, event.to_queue_id) == ("front", "seniors")
    assert event.escalation is not None and event.escalation.moved
    assert state.escalation is not None and state.escalation.queue_id == "seniors"
    assert core.next_escalation_at() == moved_at + timedelta(seconds=30)
    clock.advance(30)
    core.escalate()
    assert state.priority == Priority.URGENT
    assert core.next_escalation_at() is None  # no step left


def test_a_move_into_a_queue_that_is_gone_only_records_it():
    core, clock, _ = placed(ladder=[EscalationStep(after_seconds=5, queue_id="gone")])
    clock.advance(5)
    core.escalate(None)
    assert core.state.queue_id == "front"
    event = escalated(core)[-1]
    assert "no longer exists" in (event.reason or "") and event.escalation is not None
    assert not event.escalation.moved


def test_assignment_and_closing_stop_the_clock_and_a_release_restarts_it():
    core, clock, _ = placed()
    core.take(Assignment(actor=AGENT, agent_id="agent-1"))
    assert core.next_escalation_at() is None
    released = clock.advance(500)
    core.assign(None, AGENT, "released")
    assert core.next_escalation_at() == released + timedelta(seconds=60)
    core.set_status(Status.CLOSED, AGENT, None)
    assert core.next_escalation_at() is None


def test_solved_stops_the_clock_and_reopening_restarts_it():
    core, clock, _ = placed()
    core.set_status(Status.SOLVED, AGENT, None)
    assert core.next_escalation_at() is None
    reopened = clock.advance(1000)
    core.set_status(Status.OPEN, AGENT, None)
    assert core.next_escalation_at() == reopened + timedelta(seconds=60)


def test_a_reroute_restarts_the_clock_for_the_new_queue():
    core, clock, _ = placed()
    moved_at = clock.advance(40)
    core.reroute(QueueRef(id="other", escalation=[EscalationStep(after_seconds=10, priority=Priority.HIGH)]),
                 AGENT, None)
    assert core.next_escalation_at() == moved_at + timedelta(seconds=10)
    core.reroute(QueueRef(id="plain"), AGENT, None)  # told nothing of a ladder: none
    assert core.next_escalation_at() is None


def test_no_clock_while_a_bot_serves_the_queue():
    core, _, _ = placed(bot_id="bot-1")
    assert core.state.bot_wait is not None and core.state.escalation is not None
    assert core.next_escalation_at() is None


def test_the_ladder_is_carried_in_the_state():
    core, clock, _ = placed()
    clock.advance(60)
    core.escalate()
    again = ConversationState.model_validate_json(core.state.model_dump_json())
    assert again.escalation == core.state.escalation
    assert ConversationState.model_validate({**core.state.model_dump(), "escalation": None}).escalation is None


def test_a_step_into_a_bot_queue_hands_the_conversation_to_the_bot_and_stops_the_clock():
    core, clock, _ = placed(ladder=[EscalationStep(after_seconds=60, queue_id="verify"),
                                    EscalationStep(after_seconds=120, priority=Priority.URGENT)])
    moved_at = clock.advance(60)
    core.escalate(QueueRef(id="verify", bot_id="bot-1", bot_timeout_seconds=300,
                           escalation=[EscalationStep(after_seconds=30, priority=Priority.HIGH)]))
    state = core.state
    assert state.queue_id == "verify"
    assert [event.type for event in core.pending][-2:] == [EventType.ESCALATED, EventType.BOT_STARTED]
    assert state.bot_wait is not None and state.bot_wait.bot_id == "bot-1"
    assert state.bot_wait.started_at == moved_at and state.bot_wait.timeout_seconds == 300
    # The bot queue's own ladder waits for the bot: no step is due while it serves.
    assert core.next_escalation_at() is None
    assert state.escalation is not None and state.escalation.queue_id == "verify"
