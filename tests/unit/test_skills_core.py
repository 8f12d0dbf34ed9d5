"""Required skills in the conversation's core, without Temporal: set at creation, added by a
routing rule, replaced by a PATCH (unchanged ones keep their clock), relaxed by a deadline
while the conversation waits for an agent, restricting again in a new queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.conversation import Edit, EventType, NewConversation, QueueRef
from domain.conversation_core import ConversationCore, new_run
from domain.deadlines import Deadline, DeadlineKind
from domain.models import SYSTEM_ACTOR, Actor, ActorType, Priority, RoutingDecision
from domain.skills import SkillRequirement

BOT = Actor(type=ActorType.BOT, id="bot-1", name="Language bot")
START = datetime(2026, 1, 1, tzinfo=UTC)
ES = SkillRequirement(name="es", min_level=2, relax_after_seconds=60)
BILLING = SkillRequirement(name="billing")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def placed(clock: Clock, required: list[SkillRequirement] | None = None, **decision) -> ConversationCore:
    new = NewConversation(id="c-1", request_id="r-1", actor=BOT, created_at=clock.now,
                          required_skills=required or [])
    core = ConversationCore(new_run(new), clock)
    core.record_created(new)
    core.place_new(new, RoutingDecision(queue_id="front", priority=Priority.NORMAL, **decision))
    return core


def test_requirements_given_at_creation_relax_after_their_wait_in_the_queue():
    clock = Clock()
    core = placed(clock, [ES, BILLING])
    assert [(r.name, r.set_at, r.relaxed) for r in core.state.required_skills] == [
        ("es", START, False), ("billing", START, False)]
    deadline = core.next_deadline()
    assert deadline == Deadline(DeadlineKind.SKILL_RELAXATION, START + timedelta(seconds=60))
    clock.now = START + timedelta(seconds=60, milliseconds=300)
    core.relax_skills(deadline)
    relaxed = core.pending[-1]
    assert relaxed.type == EventType.SKILLS_RELAXED
    assert relaxed.relaxed_skills == ["es"] and relaxed.due_at == deadline.at
    assert [(r.name, r.relaxed) for r in core.state.required_skills] == [("es", True), ("billing", False)]
    assert core.next_deadline() is None  # billing never relaxes
    assert core.state.queue_id == "front"  # it keeps its queue (and its wait: queued_at)
    assert core.state.queued_at == START


def test_a_routing_rule_adds_its_requirements_replacing_those_of_the_same_name():
    clock = Clock()
    core = placed(clock, [BILLING, SkillRequirement(name="es")], route_id="rule-1", required_skills=[ES])
    assert [(r.name, r.min_level) for r in core.state.required_skills] == [("billing", 1), ("es", 2)]
    routed = next(event for event in core.pending if event.type == EventType.ROUTED)
    assert routed.reason == "matched rule; skills required: es 2+"


def test_a_patch_replaces_them_and_an_unchanged_one_keeps_its_clock():
    clock = Clock()
    core = placed(clock, [ES])
    clock.now = START + timedelta(seconds=30)
    core.edit(Edit(actor=BOT, required_skills=[ES, BILLING]))
    assert [(r.name, r.set_at) for r in core.state.required_skills] == [
        ("es", START), ("billing", START + timedelta(seconds=30))]
    assert core.pending[-1].type == EventType.UPDATED
    assert core.pending[-1].reason == "required skills: es 2+, billing"
    seq = core.state.last_seq
    core.edit(Edit(actor=BOT, required_skills=[ES, BILLING]))
    assert core.state.last_seq == seq  # nothing changed: no event
    # A changed one starts its clock anew, from when it was set.
    core.edit(Edit(actor=BOT, required_skills=[ES.model_copy(update={"min_level": 3})]))
    assert core.next_deadline() == Deadline(DeadlineKind.SKILL_RELAXATION, START + timedelta(seconds=90))
    core.edit(Edit(actor=BOT, required_skills=[]))
    assert core.state.required_skills == [] and core.next_deadline() is None


def test_the_clock_stands_while_assigned_and_a_due_requirement_relaxes_once_waiting_again():
    clock = Clock()
    core = placed(clock, [ES])
    core.assign("agent-1", BOT, "taken")
    assert core.next_deadline() is None
    clock.now = START + timedelta(minutes=5)
    core.assign(None, BOT, "released")
    assert core.next_deadline() == Deadline(DeadlineKind.SKILL_RELAXATION, START + timedelta(seconds=60))


def test_a_new_queue_is_a_new_stay_where_every_requirement_restricts_again():
    clock = Clock()
    core = placed(clock, [ES])
    clock.now = START + timedelta(seconds=61)
    deadline = core.next_deadline()
    assert deadline is not None
    core.relax_skills(deadline)
    clock.now = START + timedelta(seconds=100)
    core.reroute(QueueRef(id="back"), SYSTEM_ACTOR, "moved")
    assert [r.relaxed for r in core.state.required_skills] == [False]
    assert core.next_deadline() == Deadline(DeadlineKind.SKILL_RELAXATION, START + timedelta(seconds=160))


def test_a_moment_moved_by_a_change_meanwhile_relaxes_nothing():
    clock = Clock()
    core = placed(clock, [ES])
    deadline = core.next_deadline()
    assert deadline is not None
    clock.now = START + timedelta(seconds=30)
    core.edit(Edit(actor=BOT, required_skills=[ES.model_copy(update={"relax_after_seconds": 120})]))
    seq = core.state.last_seq
    core.relax_skills(deadline)
    assert core.state.last_seq == seq and not core.state.required_skills[0].relaxed
