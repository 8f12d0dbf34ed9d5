"""The core's next deadline, without Temporal: each kind, none while nothing is due, the
earliest when several are; and the run that continue-as-new carries, in its shape and in the
shape earlier releases wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.conversation import (
    ConversationEvent,
    ConversationRun,
    ConversationStart,
    EventType,
    NewConversation,
)
from domain.conversation_core import ConversationCore, new_run
from domain.deadlines import Deadline, DeadlineKind, earliest
from domain.models import SYSTEM_ACTOR, Actor, ActorType, EscalationStep, Priority, RoutingDecision, Status

AGENT = Actor(type=ActorType.AGENT, id="agent-1", name="Ana")
START = datetime(2026, 1, 1, tzinfo=UTC)
LADDER = [EscalationStep(after_seconds=60, priority=Priority.HIGH),
          EscalationStep(after_seconds=120, priority=Priority.URGENT)]


def placed(**decision) -> ConversationCore:
    new = NewConversation(id="c-1", request_id="r-1", actor=AGENT, created_at=START)
    core = ConversationCore(new_run(new), lambda: START)
    core.record_created(new)
    core.place_new(new, RoutingDecision(queue_id="front", priority=Priority.NORMAL, **decision))
    return core


def test_nothing_is_due_in_a_queue_without_a_ladder_or_a_bot():
    assert placed().next_deadline() is None
    assert placed(escalation=[]).next_deadline() is None


def test_the_ladders_next_step_is_an_escalation_deadline():
    core = placed(escalation=LADDER)
    assert core.next_deadline() == Deadline(DeadlineKind.ESCALATION, START + timedelta(seconds=60))


def test_a_bots_hand_off_is_a_timeout_deadline_named_by_its_bot_started_event():
    core = placed(bot_id="bot-1", bot_timeout_seconds=300)
    wait = core.state.bot_wait
    assert wait is not None
    deadline = core.next_deadline()
    assert deadline == Deadline(DeadlineKind.BOT_TIMEOUT, START + timedelta(seconds=300), seq=wait.seq)
    assert core.timed_out_bot_wait(deadline) is wait


def test_a_new_hand_off_due_at_the_same_time_is_another_deadline():
    core = placed(bot_id="bot-1", bot_timeout_seconds=300)
    before = core.next_deadline()
    assert before is not None
    core.place_by_routing(RoutingDecision(queue_id="other-bots", bot_id="bot-2", bot_timeout_seconds=300),
                          SYSTEM_ACTOR, "routing run again")
    after = core.next_deadline()
    assert after is not None and after.at == before.at and after != before
    assert core.timed_out_bot_wait(before) is None


def test_the_earliest_deadline_wins():
    # While a bot serves, the ladder's clock stands: the bot's timeout is the next deadline.
    core = placed(bot_id="bot-1", bot_timeout_seconds=300, escalation=LADDER)
    deadline = core.next_deadline()
    assert deadline is not None and deadline.kind == DeadlineKind.BOT_TIMEOUT
    sooner = Deadline(DeadlineKind.ESCALATION, START + timedelta(seconds=10))
    later = Deadline(DeadlineKind.BOT_TIMEOUT, START + timedelta(seconds=20), seq=4)
    assert earliest(later, None, sooner) == sooner
    assert earliest(None, None) is None
    tied = Deadline(DeadlineKind.ESCALATION, later.at)
    assert earliest(later, tied) == later and earliest(tied, later) == tied  # the first named


def test_nothing_is_due_once_the_clocks_stand():
    core = placed(escalation=LADDER)
    core.assign("agent-1", AGENT, "taken")
    assert core.next_deadline() is None
    core = placed(bot_id="bot-1", escalation=LADDER)
    core.set_status(Status.CLOSED, AGENT, "done")
    assert core.next_deadline() is None


def test_the_run_is_carried_whole():
    core = placed(bot_id="bot-1", escalation=LADDER)
    core.projected(1)
    carried = ConversationStart.model_validate_json(ConversationStart(run=core.run).model_dump_json())
    assert carried.run == core.run and carried.new is None
    assert carried.run.placed and carried.run.projected_seq == 1
    assert [event.seq for event in carried.run.pending] == [2, 3]


def test_a_run_carried_in_pieces_by_an_earlier_release_loads_placed():
    core = placed()
    event = ConversationEvent(seq=2, type=EventType.ROUTED, at=START, actor=SYSTEM_ACTOR)
    earlier = {"new": None, "state": core.state.model_dump(mode="json"), "projected_seq": 1,
               "pending": [event.model_dump(mode="json")]}
    start = ConversationStart.model_validate_json(ConversationStart.model_validate(earlier).model_dump_json())
    assert start.run == ConversationRun(state=core.state, projected_seq=1, pending=[event], placed=True)
    # A new conversation's input named the pieces empty.
    new = NewConversation(id="c-2", request_id="r-2", actor=AGENT, created_at=START)
    start = ConversationStart.model_validate(
        {"new": new.model_dump(mode="json"), "state": None, "projected_seq": 0, "pending": []}
    )
    assert start.run is None and start.new == new
