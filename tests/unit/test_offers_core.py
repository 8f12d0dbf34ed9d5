"""Offers in the conversation's core, without Temporal: auto-assignment's claim in a queue
that makes offers is an OFFERED with its lapse; accept, decline, lapse and withdrawal, each
once; who may answer; the agents passed over in this stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.conversation import (
    CONFLICT,
    FORBIDDEN,
    Assignment,
    EventType,
    NewConversation,
    OfferAnswer,
    OfferWithdrawal,
    QueueRef,
)
from domain.conversation_core import ConversationCore, Refused, new_run
from domain.deadlines import Deadline, DeadlineKind
from domain.models import SYSTEM_ACTOR, Actor, ActorType, Priority, RoutingDecision, Status

ANA = Actor(type=ActorType.AGENT, id="ana", name="Ana")
BO = Actor(type=ActorType.AGENT, id="bo", name="Bo")
START = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def waiting(clock: Clock) -> ConversationCore:
    new = NewConversation(id="c-1", request_id="r-1", actor=SYSTEM_ACTOR, created_at=clock.now)
    core = ConversationCore(new_run(new), clock)
    core.record_created(new)
    core.place_new(new, RoutingDecision(queue_id="front", priority=Priority.NORMAL))
    return core


def claim(agent_id: str, timeout: int = 30) -> Assignment:
    return Assignment(actor=SYSTEM_ACTOR, agent_id=agent_id, reason="LOAD_BALANCING: lowest load",
                      offered_in_queue_id="front", offer_timeout_seconds=timeout)


def offered(clock: Clock, agent_id: str = "ana") -> ConversationCore:
    core = waiting(clock)
    core.take(claim(agent_id))
    return core


def test_a_claim_in_a_queue_that_makes_offers_is_an_offer_with_its_lapse():
    clock = Clock()
    core = offered(clock)
    event = core.pending[-1]
    assert (event.type, event.agent_id, event.expires_at) == (EventType.OFFERED, "ana", START + timedelta(seconds=30))
    assert core.state.agent_id is None and core.state.offer is not None
    assert core.next_deadline() == Deadline(DeadlineKind.OFFER_LAPSE, START + timedelta(seconds=30), seq=event.seq)
    seq = core.state.last_seq
    core.take(claim("ana"))  # the same claim told again: applied once
    assert core.state.last_seq == seq
    with pytest.raises(Refused) as refused:
        core.check_offer(claim("bo"))  # one pending offer per conversation
    assert refused.value.kind == CONFLICT


def test_accepting_assigns_with_the_offers_reason_and_lapse():
    clock = Clock()
    core = offered(clock)
    clock.now += timedelta(seconds=5)
    core.answer_offer(OfferAnswer(actor=ANA, agent_id="ana", accept=True))
    event = core.pending[-1]
    assert (event.type, event.agent_id, event.reason) == (EventType.ASSIGNED, "ana",
                                                          "offer accepted; LOAD_BALANCING: lowest load")
    assert event.expires_at == START + timedelta(seconds=30)
    assert core.state.agent_id == "ana" and core.state.offer is None and core.next_deadline() is None
    # Answered already: the agent's second answer is a conflict; anyone else's forbidden.
    with pytest.raises(Refused) as again:
        core.check_answer(OfferAnswer(actor=ANA, agent_id="ana", accept=False))
    with pytest.raises(Refused) as other:
        core.check_answer(OfferAnswer(actor=BO, agent_id="bo", accept=True))
    assert (again.value.kind, other.value.kind) == (CONFLICT, FORBIDDEN)


def test_a_decline_and_a_lapse_pass_the_agent_over_and_it_waits_again():
    clock = Clock()
    core = offered(clock)
    core.answer_offer(OfferAnswer(actor=ANA, agent_id="ana", accept=False, reason="not my language"))
    assert core.pending[-1].type == EventType.OFFER_DECLINED and core.pending[-1].reason == "not my language"
    core.take(claim("bo"))
    deadline = core.next_deadline()
    assert deadline is not None
    clock.now = deadline.at
    core.lapse_offer(deadline)
    expired = core.pending[-1]
    assert (expired.type, expired.agent_id, expired.due_at) == (EventType.OFFER_EXPIRED, "bo", deadline.at)
    assert [entry.agent_id for entry in core.state.passed_over] == ["ana", "bo"]
    core.take(claim("carla"))
    # Bo's late answer, once it is offered to Carla: his offer lapsed (409), not another's (403).
    with pytest.raises(Refused) as late:
        core.check_answer(OfferAnswer(actor=BO, agent_id="bo", accept=True))
    with pytest.raises(Refused) as stranger:
        core.check_answer(OfferAnswer(actor=BO, agent_id="dan", accept=True))
    assert (late.value.kind, stranger.value.kind) == (CONFLICT, FORBIDDEN)
    core.withdraw(OfferWithdrawal(agent_id="carla", reason="agent AWAY"))
    assert core.state.offer is None and core.state.agent_id is None and core.state.queued_at == START
    seq = core.state.last_seq
    core.lapse_offer(deadline)  # once
    assert core.state.last_seq == seq


@pytest.mark.parametrize(("change", "reason"), [
    (lambda core: core.reroute(QueueRef(id="back"), SYSTEM_ACTOR, "moved"), "moved to another queue"),
    (lambda core: core.set_status(Status.CLOSED, SYSTEM_ACTOR, "done"), "closed"),
    (lambda core: core.set_status(Status.SOLVED, SYSTEM_ACTOR, "done"), "solved"),
    (lambda core: core.assign("bo", SYSTEM_ACTOR, "by hand"), "assigned by hand"),
    (lambda core: core.withdraw(OfferWithdrawal(agent_id="ana", reason="agent AWAY")), "agent AWAY"),
])
def test_an_offer_is_withdrawn_by_a_move_a_close_a_hand_or_the_dispatcher(change, reason):
    clock = Clock()
    core = offered(clock)
    change(core)
    withdrawn = next(event for event in core.pending if event.type == EventType.OFFER_WITHDRAWN)
    assert (withdrawn.agent_id, withdrawn.reason) == ("ana", reason)
    assert core.state.offer is None and core._offer_deadline() is None


def test_the_offered_agent_taking_it_by_hand_accepts_and_a_move_is_a_new_stay():
    clock = Clock()
    core = offered(clock)
    core.assign("ana", ANA, "taken by hand")
    assert [e.type for e in core.pending][-1] == EventType.ASSIGNED
    assert not any(e.type == EventType.OFFER_WITHDRAWN for e in core.pending)
    core = offered(clock)
    core.answer_offer(OfferAnswer(actor=ANA, agent_id="ana", accept=False))
    core.reroute(QueueRef(id="back"), SYSTEM_ACTOR, "moved")
    assert core.state.passed_over == []
