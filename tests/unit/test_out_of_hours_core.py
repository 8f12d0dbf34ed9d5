"""Out of hours in the conversation's functional core, without Temporal: entering a closed
queue records OUT_OF_HOURS with its hours' auto-reply, and closes the conversation when those
hours say so; staying in the queue, or an open one, records nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.conversation import Edit, EventType, NewConversation, QueueRef
from domain.conversation_core import ConversationCore, new_run
from domain.messages import Channel
from domain.models import SYSTEM_ACTOR, Actor, ActorType, OutOfHours, Priority, RoutingDecision, Status
from store.out_of_hours import MESSAGE_CHANNELS

AGENT = Actor(type=ActorType.AGENT, id="agent-1", name="Ana")
START = datetime(2026, 1, 1, tzinfo=UTC)
HELD = OutOfHours(working_hours_id="hours-1", message="We are closed.")
CLOSING = OutOfHours(working_hours_id="hours-2", message="We are closed.", close_conversation=True)


def created(patched: bool = True, **fields) -> tuple[ConversationCore, NewConversation]:
    new = NewConversation(id="c-1", request_id="r-1", actor=AGENT, created_at=START, **fields)
    core = ConversationCore(new_run(new), lambda: START, lambda state: None,
                            agents_keep_out_of_hours=lambda: patched)
    core.record_created(new)
    return core, new


def types(core: ConversationCore) -> list[EventType]:
    return [event.type for event in core.pending]


def test_routed_into_a_closed_queue_the_conversation_is_answered_and_held():
    core, new = created()
    core.place_new(new, RoutingDecision(queue_id="night", priority=Priority.NORMAL, out_of_hours=HELD))
    assert types(core) == [EventType.CREATED, EventType.ROUTED, EventType.OUT_OF_HOURS]
    event = core.pending[-1]
    assert (event.out_of_hours, event.to_queue_id, event.actor) == (HELD, "night", SYSTEM_ACTOR)
    assert (core.state.queue_id, core.state.status) == ("night", Status.OPEN)


def test_hours_that_close_conversations_close_one_created_without_an_agent():
    core, new = created(status=Status.WAITING)
    core.place_new(new, RoutingDecision(queue_id="night", out_of_hours=CLOSING))
    assert types(core) == [EventType.CREATED, EventType.ROUTED, EventType.OUT_OF_HOURS, EventType.CLOSED]
    assert core.state.closed and core.state.agent_id is None


def test_a_conversation_created_with_an_agent_is_the_agents_whatever_the_hours():
    core, new = created(agent_id="agent-1", status=Status.WAITING)
    core.place_new(new, RoutingDecision(queue_id="night", out_of_hours=CLOSING))
    assert types(core) == [EventType.CREATED, EventType.ROUTED, EventType.ASSIGNED, EventType.STATUS_CHANGED]
    assert (core.state.agent_id, core.state.status) == ("agent-1", Status.WAITING)


def test_an_assigned_conversation_moved_into_a_closed_queue_stays_with_its_agent():
    for queue in (QueueRef(id="night", out_of_hours=CLOSING),
                  QueueRef(id="night", out_of_hours=CLOSING, members=["agent-1"])):
        core, new = created()
        core.place_new(new, RoutingDecision(queue_id="day"))
        core.assign("agent-1", AGENT, "taken")
        core.reroute(queue, AGENT, "night shift")
        assert types(core)[-1] == EventType.REROUTED
        assert EventType.OUT_OF_HOURS not in types(core)
        assert (core.state.queue_id, core.state.status, core.state.agent_id) == ("night", Status.OPEN, "agent-1")
    # After a bot, routing moves it on with its agent: no auto-reply, no close either.
    core, new = created()
    core.place_new(new, RoutingDecision(queue_id="bot", bot_id="bot-1"))
    core.assign("agent-1", AGENT, "taken")
    wait = core.state.bot_wait
    assert wait is not None
    core.end_bot_wait()
    core.time_out_bot(wait, RoutingDecision(queue_id="night", out_of_hours=CLOSING))
    assert EventType.OUT_OF_HOURS not in types(core) and not core.state.closed


def test_an_agent_who_is_not_a_member_there_is_unassigned_before_the_hours_answer():
    for hours, last in ((HELD, [EventType.OUT_OF_HOURS]), (CLOSING, [EventType.OUT_OF_HOURS, EventType.CLOSED])):
        core, new = created()
        core.place_new(new, RoutingDecision(queue_id="day"))
        core.assign("agent-1", AGENT, "taken")
        core.reroute(QueueRef(id="night", out_of_hours=hours, members=[]), AGENT, "night shift")
        assert types(core)[-2 - len(last):] == [EventType.REROUTED, EventType.UNASSIGNED, *last]
        assert core.state.agent_id is None


def test_histories_recorded_before_agents_kept_them_still_have_the_hours_apply():
    """Without the workflow's patch marker (conversations started before), the hours answer and
    close a conversation created with an agent, and answer before a move's unassignment."""
    core, new = created(patched=False, agent_id="agent-1", status=Status.WAITING)
    core.place_new(new, RoutingDecision(queue_id="night", out_of_hours=CLOSING))
    assert types(core) == [EventType.CREATED, EventType.ROUTED, EventType.OUT_OF_HOURS, EventType.CLOSED]
    core, new = created(patched=False)
    core.place_new(new, RoutingDecision(queue_id="day"))
    core.assign("agent-1", AGENT, "taken")
    core.reroute(QueueRef(id="night", out_of_hours=HELD, members=["agent-1"]), AGENT, "night shift")
    assert types(core)[-2:] == [EventType.REROUTED, EventType.OUT_OF_HOURS]


def test_the_patch_is_asked_only_where_an_agent_meets_closed_hours():
    asked: list[bool] = []

    def patched() -> bool:
        asked.append(True)
        return True

    new = NewConversation(id="c-1", request_id="r-1", actor=AGENT, created_at=START)
    core = ConversationCore(new_run(new), lambda: START, agents_keep_out_of_hours=patched)
    core.record_created(new)
    core.place_new(new, RoutingDecision(queue_id="night", out_of_hours=HELD))
    core.reroute(QueueRef(id="day"), AGENT, "day shift")
    core.assign("agent-1", AGENT, "taken")
    assert asked == []
    core.reroute(QueueRef(id="night", out_of_hours=HELD), AGENT, "night shift")
    assert asked == [True]


def test_route_again_unassigns_first_so_the_closed_queue_answers():
    core, new = created()
    core.place_new(new, RoutingDecision(queue_id="day"))
    core.assign("agent-1", AGENT, "taken")
    core.route_again(RoutingDecision(queue_id="night", out_of_hours=CLOSING), AGENT)
    assert types(core)[-4:] == [EventType.UNASSIGNED, EventType.ROUTED, EventType.OUT_OF_HOURS, EventType.CLOSED]


def test_an_open_queue_records_nothing_and_staying_in_a_closed_one_records_it_once():
    core, new = created()
    core.place_new(new, RoutingDecision(queue_id="day"))
    assert types(core) == [EventType.CREATED, EventType.ROUTED]
    core.route_again(RoutingDecision(queue_id="night", out_of_hours=HELD), AGENT)
    assert types(core).count(EventType.OUT_OF_HOURS) == 1
    # Routing again into the same queue with another priority is no new entry.
    core.route_again(RoutingDecision(queue_id="night", priority=Priority.HIGH, out_of_hours=HELD), AGENT)
    assert types(core).count(EventType.OUT_OF_HOURS) == 1 and core.state.priority == Priority.HIGH
    # Nor is routing again that keeps queue and priority (its ROUTED is recorded in place).
    core.route_again(RoutingDecision(queue_id="night", priority=Priority.HIGH, out_of_hours=HELD), AGENT)
    assert types(core)[-1] == EventType.ROUTED and types(core).count(EventType.OUT_OF_HOURS) == 1


def test_a_closed_bot_queue_answers_and_still_hands_off_unless_it_closes():
    core, new = created()
    core.place_new(new, RoutingDecision(queue_id="bot", bot_id="bot-1", out_of_hours=HELD))
    assert types(core)[-2:] == [EventType.OUT_OF_HOURS, EventType.BOT_STARTED]
    assert core.state.bot_wait is not None
    closing, new = created()
    closing.place_new(new, RoutingDecision(queue_id="bot", bot_id="bot-1", out_of_hours=CLOSING))
    assert closing.state.closed and closing.state.bot_wait is None


def test_an_edit_that_moves_into_closing_hours_ends_with_the_close():
    core, new = created()
    core.place_new(new, RoutingDecision(queue_id="day"))
    core.edit(Edit(actor=AGENT, queue=QueueRef(id="night", out_of_hours=CLOSING), status=Status.WAITING))
    assert types(core)[-3:] == [EventType.REROUTED, EventType.OUT_OF_HOURS, EventType.CLOSED]
    assert core.state.status == Status.CLOSED


def test_the_store_knows_the_message_apis_channels():
    """store.out_of_hours stores an auto-reply only on a channel the message API has."""
    assert {channel.value for channel in Channel} == MESSAGE_CHANNELS
