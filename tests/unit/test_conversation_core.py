"""The conversation's transitions, without Temporal: each intent, its events, its refusals,
and a state that stays bounded however long the conversation runs."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import domain.conversation_core
from domain.conversation import (
    BAD_REQUEST,
    CONFLICT,
    FORBIDDEN,
    MAX_TAGS,
    NOT_FOUND,
    Agent,
    Assignment,
    ConversationStart,
    ConversationState,
    Edit,
    EditByNames,
    EventType,
    MessageRecorded,
    NewConversation,
    QueueRef,
    TagChange,
    Text,
)
from domain.conversation_core import ConversationCore, Refused, edit_of, new_run
from domain.models import (
    SYSTEM_ACTOR,
    Actor,
    ActorType,
    Authentication,
    Priority,
    RoutingDecision,
    Status,
    TraceEntry,
    TraceOutcome,
)

AGENT = Actor(type=ActorType.AGENT, id="agent-1", name="Ana")
BOT = Actor(type=ActorType.BOT, id="bot-1", name="Auth bot")
START = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def new_conversation(**fields) -> NewConversation:
    return NewConversation(id="c-1", request_id="r-1", actor=AGENT, created_at=START, **fields)


def decision(queue_id: str, **fields) -> RoutingDecision:
    return RoutingDecision(**{"priority": Priority.NORMAL, "routing_version": 3, **fields},
                           queue_id=queue_id)


def core_for(new: NewConversation | None = None, placed_in: str | None = "front") -> tuple[ConversationCore, list]:
    indexed: list[tuple] = []
    new = new or new_conversation()
    core = ConversationCore(
        new_run(new), Clock(),
        lambda state: indexed.append((state.queue_id, state.status, state.priority)),
    )
    if placed_in is not None:
        core.record_created(new)
        core.place_new(new, decision(placed_in))
    return core, indexed


def types(core: ConversationCore) -> list[str]:
    return [event.type.value for event in core.pending]


def test_creation_by_routing_records_created_then_routed_and_indexes_the_queue():
    core, indexed = core_for()
    assert types(core) == ["CREATED", "ROUTED"]
    routed = core.pending[1]
    assert (routed.from_queue_id, routed.to_queue_id, routed.routing_version) == (None, "front", 3)
    assert routed.reason == "no rule matched"
    assert core.state.routed_by.routing_version == 3
    assert indexed == [("front", Status.OPEN, Priority.NORMAL)]
    assert [event.seq for event in core.pending] == [1, 2] and core.state.last_seq == 2


def test_creation_in_a_given_queue_needs_no_routing():
    queue = QueueRef(id="given")
    core, _ = core_for(new_conversation(queue=queue), placed_in=None)
    core.record_created(new_conversation(queue=queue))
    core.place_new(new_conversation(queue=queue), None)
    assert types(core) == ["CREATED", "ROUTED"]
    assert core.pending[1].reason == "queueId given at creation"
    assert core.state.routed_by is None


def test_entering_a_bot_queue_starts_a_hand_off_that_returns_to_the_human_queue_before():
    core, _ = core_for()
    core.reroute(QueueRef(id="bot-q", bot_id="bot-1", bot_timeout_seconds=60), AGENT, "authenticate")
    wait = core.state.bot_wait
    assert types(core)[-2:] == ["REROUTED", "BOT_STARTED"]
    assert (wait.queue_id, wait.bot_id, wait.return_queue_id, wait.timeout_seconds) == (
        "bot-q", "bot-1", "front", 60)
    # From one bot queue into another, "back" still means the human queue.
    core.reroute(QueueRef(id="bot-q2", bot_id="bot-2"), AGENT, None)
    assert core.state.bot_wait.return_queue_id == "front"


def test_routing_after_a_bot_skips_its_queue_falls_back_and_evaluates_the_reported_result():
    core, _ = core_for()
    core.reroute(QueueRef(id="bot-q", bot_id="bot-1"), AGENT, None)
    wait = core.check_report("bot-1")
    request = core.route_request(after_bot=wait, authentication=Authentication.STRONG)
    assert request.skip_queues == {"bot-q": "the bot's own queue"}
    assert request.fallback_queue_id == "front"
    assert request.facts["conversation.authentication"] == "STRONG"
    assert core.state.authentication == Authentication.NONE  # nothing changed yet

    core.end_bot_wait()
    core.complete_authentication(Authentication.STRONG, BOT, decision("secure", route_id="r1"))
    assert types(core)[-2:] == ["AUTHENTICATION_COMPLETED", "ROUTED"]
    assert core.state.authentication == Authentication.STRONG
    assert (core.state.queue_id, core.state.bot_wait) == ("secure", None)


def test_a_bot_that_does_not_report_times_out_and_routing_moves_the_conversation_on():
    core, _ = core_for()
    core.reroute(QueueRef(id="bot-q", bot_id="bot-1"), AGENT, None)
    wait = core.state.bot_wait
    core.end_bot_wait()
    core.time_out_bot(wait, decision("front"))
    timed_out, routed = core.pending[-2:]
    assert (timed_out.type, timed_out.from_queue_id) == (EventType.BOT_TIMED_OUT, "bot-q")
    assert routed.reason == "bot timed out: no rule matched"


def test_a_failed_routing_resumes_the_wait_as_it_was():
    core, _ = core_for()
    core.reroute(QueueRef(id="bot-q", bot_id="bot-1"), AGENT, None)
    wait, before = core.state.bot_wait, core.state.last_seq
    core.end_bot_wait()
    core.resume_bot_wait(wait)
    assert core.state.bot_wait is wait and core.state.last_seq == before


def test_reports_are_refused_unless_the_serving_bot_reports_on_a_waiting_conversation():
    core, _ = core_for()
    with pytest.raises(Refused) as refused:
        core.check_report("bot-1")
    assert refused.value.kind == CONFLICT
    core.reroute(QueueRef(id="bot-q", bot_id="bot-1"), AGENT, None)
    with pytest.raises(Refused) as refused:
        core.check_report("another-bot")
    assert refused.value.kind == FORBIDDEN


def test_an_edit_applies_only_real_changes_in_a_fixed_order_with_status_last():
    core, indexed = core_for()
    indexed.clear()
    core.pending.clear()
    core.edit(Edit(
        actor=AGENT, reason="why",
        topic=Text(value="Refund"), summary=Text(value=None),  # summary was None already
        priority=Priority.HIGH, agent=Agent(agent_id="agent-1"),
        queue=QueueRef(id="back"), status=Status.WAITING,
    ))
    assert types(core) == ["UPDATED", "PRIORITY_CHANGED", "ASSIGNED", "REROUTED", "STATUS_CHANGED"]
    assert core.state.routed_by is None  # a manual reroute is not routing's decision
    assert indexed == [
        ("front", Status.OPEN, Priority.HIGH),
        ("back", Status.OPEN, Priority.HIGH),
        ("back", Status.WAITING, Priority.HIGH),
    ]
    core.pending.clear()
    core.edit(Edit(actor=AGENT, priority=Priority.HIGH, queue=QueueRef(id="back")))
    assert core.pending == []


def test_the_change_update_means_what_its_field_names_say():
    change = EditByNames(actor=AGENT, given=["topic", "agent_id"], topic=None, agent_id=None,
                         priority=Priority.LOW, reason="r")
    edit = edit_of(change)
    assert edit.topic == Text(value=None) and edit.agent == Agent(agent_id=None)
    assert edit.priority is None and edit.queue is None and edit.status is None
    assert edit.reason == "r"


def test_closing_ends_a_hand_off_and_refuses_every_later_change():
    core, _ = core_for()
    core.reroute(QueueRef(id="bot-q", bot_id="bot-1"), AGENT, None)
    core.set_status(Status.CLOSED, AGENT, "done")
    assert core.state.bot_wait is None and core.state.closed_at is not None
    assert core.pending[-1].type == EventType.CLOSED
    with pytest.raises(Refused) as refused:
        core.refuse_if_closed()
    assert refused.value.kind == CONFLICT


def test_tags_are_bounded_and_removing_a_missing_one_is_not_found():
    core, _ = core_for(new_conversation(tags=[f"t{i}" for i in range(MAX_TAGS)]))
    with pytest.raises(Refused) as refused:
        core.check_tag(TagChange(actor=AGENT, tag="one-more", add=True))
    assert refused.value.kind == BAD_REQUEST
    core.check_tag(TagChange(actor=AGENT, tag="t0", add=True))  # already there: a no-op
    with pytest.raises(Refused) as refused:
        core.check_tag(TagChange(actor=AGENT, tag="never", add=False))
    assert refused.value.kind == NOT_FOUND


def test_route_again_moves_only_when_routing_decides_differently_and_records_the_decision_always():
    core, _ = core_for()
    state = core.state.model_copy(deep=True)
    trace = long_trace()[:2]
    core.route_again(decision("front", route_id="r-9", routing_version=7, trace=trace), AGENT)
    kept = core.pending[-1]
    assert (kept.seq, kept.type, kept.from_queue_id, kept.to_queue_id) == (
        state.last_seq + 1, EventType.ROUTED, "front", "front")
    assert (kept.route_id, kept.routing_version, kept.priority) == ("r-9", 7, state.priority)
    assert kept.reason == "routing run again: matched rule; queue and priority kept"
    assert kept.trace == trace
    # Staying is no entry: the wait and the ladder run on; routedBy names the new decision.
    assert (core.state.queued_at, core.state.escalation) == (state.queued_at, state.escalation)
    assert core.state.routed_by is not None
    assert (core.state.routed_by.route_id, core.state.routed_by.routing_version) == ("r-9", 7)
    # Histories recorded before: no event.
    before = core.state.last_seq
    core.route_again(decision("front"), AGENT, record_kept=False)
    assert core.state.last_seq == before
    core.route_again(decision("front", priority=Priority.URGENT), AGENT)
    assert core.pending[-1].reason == "routing run again: no rule matched"


def long_trace() -> list[TraceEntry]:
    return [TraceEntry(route_id=f"r{i}", name=f"rule {i}" * 5, order=i,
                       outcome=TraceOutcome.NOT_MATCHED, reason="message.channel is not SMS" * 3)
            for i in range(100)]


def test_the_state_stays_bounded_over_500_changes_once_events_are_projected():
    core, _ = core_for()
    sizes = []
    for i in range(500):
        if i % 3 == 0:
            core.place_by_routing(decision(f"q{i % 7}", trace=long_trace(), facts={"x": "y" * 200}),
                                  SYSTEM_ACTOR, "routing run again")
        elif i % 3 == 1:
            core.set_priority([Priority.HIGH, Priority.LOW][i % 2], AGENT, None)
        else:
            tag = f"t{i % 40}"
            core.tag(TagChange(actor=AGENT, tag=tag, add=tag not in core.state.tags))
        core.projected(core.state.last_seq)
        carried = ConversationStart(run=core.run)
        sizes.append(len(carried.model_dump_json()))
    assert core.state.last_seq > 300 and core.pending == []
    assert max(sizes) < 64 * 1024
    # Not growing with the conversation's length: only the tags (at most 50) vary.
    assert max(sizes[250:]) <= max(sizes[:250]) + 50 * 8


def test_events_not_yet_projected_stay_until_the_store_has_them():
    core, _ = core_for()
    core.set_priority(Priority.HIGH, AGENT, None)
    core.projected(2)
    assert [event.seq for event in core.pending] == [3]


def test_a_state_carried_by_an_earlier_release_with_all_its_events_keeps_its_last_seq():
    earlier = {
        "id": "c-1", "created_request_id": "r-1", "created_at": START.isoformat(),
        "updated_at": START.isoformat(),
        "events": [{"seq": 1, "type": "CREATED", "at": START.isoformat(),
                    "actor": {"type": "SYSTEM"}},
                   {"seq": 2, "type": "ROUTED", "at": START.isoformat(),
                    "actor": {"type": "SYSTEM"}}],
    }
    state = ConversationState.model_validate(earlier)
    assert state.last_seq == 2
    assert "events" not in state.model_dump()


def test_adding_a_tag_past_the_limit_is_refused_even_after_the_validator_let_it_through():
    core, _ = core_for(new_conversation(tags=[f"t{i}" for i in range(MAX_TAGS)]))
    with pytest.raises(Refused):
        core.tag(TagChange(actor=AGENT, tag="one-more", add=True))
    assert len(core.state.tags) == MAX_TAGS


def test_the_core_calls_nothing_that_would_make_a_replay_differ():
    """The workflow passes this module through its sandbox, which then cannot catch a clock,
    randomness or I/O call in it: this check does instead."""
    source = Path(domain.conversation_core.__file__).read_text()
    tree = ast.parse(source)
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "collections", "datetime", "typing", "domain"}, imported
    called = {node.func.attr for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert not called & {"now", "utcnow", "today", "time", "random", "uuid4", "urandom"}
    assert "open(" not in source


def test_status_and_agent_given_at_creation_apply_once_placed():
    new = new_conversation(agent_id="agent-9", status=Status.WAITING)
    core, _ = core_for(new)
    assert types(core) == ["CREATED", "ROUTED", "ASSIGNED", "STATUS_CHANGED"]
    assert (core.state.agent_id, core.state.status) == ("agent-9", Status.WAITING)


def test_the_first_message_gives_the_routing_facts_and_a_customer_reopens_a_solved_one():
    core, _ = core_for()
    core.set_status(Status.SOLVED, AGENT, None)
    core.pending.clear()
    core.record_message(MessageRecorded(actor=AGENT, channel="SMS", from_="+1", content="hi"))
    assert types(core) == ["UPDATED"]
    assert core.state.facts()["message.content"] == "hi"
    assert core.state.status == Status.SOLVED  # an agent's message does not reopen
    core.record_message(MessageRecorded(actor=AGENT, content="again", from_customer=True))
    assert types(core) == ["UPDATED", "STATUS_CHANGED"]
    assert core.state.status == Status.OPEN and core.state.facts()["message.content"] == "hi"


def test_unassigning_records_unassigned_naming_the_agent_it_ends():
    core, _ = core_for()
    core.assign("agent-7", AGENT, "taken")
    core.assign(None, AGENT, "released")
    assigned, unassigned = core.pending[-2:]
    assert (assigned.type, assigned.agent_id) == (EventType.ASSIGNED, "agent-7")
    assert (unassigned.type, unassigned.agent_id, unassigned.reason) == (
        EventType.UNASSIGNED, "agent-7", "released")
    assert core.state.agent_id is None


def offer(agent_id: str = "agent-7", queue_id: str = "front") -> Assignment:
    return Assignment(actor=SYSTEM_ACTOR, agent_id=agent_id, reason="LOAD_BALANCING: lowest load",
                      offered_in_queue_id=queue_id)


def test_an_offer_is_recorded_once_and_refused_once_the_conversation_no_longer_waits():
    core, _ = core_for()
    core.take(offer())
    core.take(offer())  # told again: nothing more happens
    assert types(core)[-1] == "ASSIGNED" and types(core).count("ASSIGNED") == 1
    assert core.pending[-1].reason == "LOAD_BALANCING: lowest load"
    for refused_offer, why in [(offer("agent-8"), "assigned already"),
                               (offer("agent-8", "elsewhere"), "assigned already")]:
        with pytest.raises(Refused, match=why) as refused:
            core.take(refused_offer)
        assert refused.value.kind == CONFLICT

    moved, _ = core_for()
    moved.reroute(QueueRef(id="back"), AGENT, None)
    with pytest.raises(Refused, match="no longer waiting in that queue"):
        moved.take(offer())
    moved.set_status(Status.SOLVED, AGENT, None)
    with pytest.raises(Refused, match="SOLVED conversation is not assigned"):
        moved.take(offer(queue_id="back"))
    moved.set_status(Status.CLOSED, AGENT, None)
    with pytest.raises(Refused, match="Closed"):
        moved.take(offer(queue_id="back"))


def test_a_reroute_unassigns_an_agent_who_is_not_a_member_of_the_new_queue():
    core, _ = core_for()
    core.assign("agent-7", AGENT, None)
    core.reroute(QueueRef(id="sales", members=["agent-7"]), AGENT, "member")
    assert core.state.agent_id == "agent-7"
    core.reroute(QueueRef(id="billing", members=[]), AGENT, "not a member")
    assert types(core)[-2:] == ["REROUTED", "UNASSIGNED"] and core.state.agent_id is None
    # Without a membership list (histories recorded before), the agent stays.
    core.assign("agent-7", AGENT, None)
    core.reroute(QueueRef(id="front"), AGENT, None)
    assert core.state.agent_id == "agent-7"


def test_route_again_unassigns_first_and_entering_a_queue_restarts_the_wait():
    core, _ = core_for()
    entered = core.state.queued_at
    assert entered == core.pending[-1].at
    core.assign("agent-7", AGENT, None)
    core.route_again(decision("front"), AGENT)
    assert types(core)[-2:] == ["UNASSIGNED", "ROUTED"] and core.state.queued_at == entered
    core.route_again(decision("back"), AGENT)
    assert core.state.queued_at == core.pending[-1].at > entered
    # Histories recorded before route-again unassigned: no event.
    core.assign("agent-7", AGENT, None)
    before = core.state.last_seq
    core.route_again(decision("back"), AGENT, unassign=False, record_kept=False)
    assert core.state.last_seq == before


def test_a_release_is_refused_once_another_agent_has_it_and_an_edit_is_all_or_nothing():
    core, _ = core_for()
    core.assign("agent-8", AGENT, "a supervisor gave it to another")
    release = Assignment(actor=AGENT, agent_id=None, reason="released", from_agent_id="agent-7")
    with pytest.raises(Refused, match="assigned to another agent"):
        core.take(release)
    before = core.state.model_copy(deep=True)
    taking = Assignment(actor=AGENT, agent_id="agent-7", reason="taken", offered_in_queue_id="front")
    with pytest.raises(Refused, match="assigned already"):
        core.edit(Edit(actor=AGENT, topic=Text(value="new"), priority=Priority.HIGH,
                       agent=Agent(agent_id="agent-7"), assignment=taking))
    assert core.state == before
    # Its own: released.
    core.take(Assignment(actor=AGENT, agent_id=None, reason="released", from_agent_id="agent-8"))
    assert core.state.agent_id is None
