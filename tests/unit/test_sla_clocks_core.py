"""SLA clocks in the conversation's core, without Temporal: started at the first placement,
counted in the policy's working hours, the resolution clock paused while WAITING and from
SOLVED until a reopening, met by the first agent reply and at CLOSED, each warning and breach
once, a breach applying onBreach like an escalation step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.conversation import EventType, MessageRecorded, NewConversation, QueueRef
from domain.conversation_core import ConversationCore, new_run
from domain.deadlines import Deadline, DeadlineKind
from domain.models import SYSTEM_ACTOR, Actor, ActorType, Priority, RoutingDecision, Status
from domain.sla import OnBreach
from domain.sla_clocks import FIRST_RESPONSE, RESOLUTION, ClockStatus, SlaTerms
from domain.working_hours import DayHours, Hours, Weekday

ANA = Actor(type=ActorType.AGENT, id="ana", name="Ana")
SUPERVISOR = Actor(type=ActorType.SUPERVISOR, id="sue", name="Sue")
CUSTOMER = Actor(type=ActorType.BOT, id="channel", name="Channel")
START = datetime(2026, 1, 1, tzinfo=UTC)
TERMS = SlaTerms(policy_id="p-1", first_response_seconds=600, resolution_seconds=3600, warn_before_seconds=120,
                 on_breach=OnBreach(priority=Priority.HIGH, queue_id="urgent"))


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> None:
        self.now = START + timedelta(seconds=seconds)


def placed(clock: Clock, terms: SlaTerms | None = TERMS, status: Status | None = None) -> ConversationCore:
    new = NewConversation(id="c-1", request_id="r-1", actor=SYSTEM_ACTOR, created_at=clock.now, status=status)
    core = ConversationCore(new_run(new), clock)
    core.record_created(new)
    core.place_new(new, RoutingDecision(queue_id="front", priority=Priority.NORMAL))
    core.start_sla(terms)
    return core


def after(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def types(core: ConversationCore) -> list[str]:
    return [event.type.value for event in core.pending]


def test_both_clocks_start_at_the_first_placement_and_warn_first():
    core = placed(Clock())
    sla = core.state.sla
    assert sla is not None and sla.terms.policy_id == "p-1"
    assert sla.first_response is not None and sla.resolution is not None
    assert (sla.first_response.status, sla.first_response.due_at) == (ClockStatus.ACTIVE, after(600))
    assert (sla.resolution.status, sla.resolution.due_at) == (ClockStatus.ACTIVE, after(3600))
    assert core.next_deadline() == Deadline(DeadlineKind.SLA_WARNING, after(480), clock=FIRST_RESPONSE)


def test_no_matching_policy_no_clocks():
    core = placed(Clock(), terms=None)
    assert core.state.sla is None and core.next_deadline() is None


def test_business_time_friday_afternoon_is_due_monday_morning():
    week = {day: DayHours(start_time=9 * 60, end_time=17 * 60) for day in list(Weekday)[:5]}
    week |= {Weekday.SATURDAY: DayHours(enabled=False), Weekday.SUNDAY: DayHours(enabled=False)}
    hours = Hours(timezone="Europe/Zagreb", work_week=week)
    friday = datetime(2026, 1, 9, 15, 30, tzinfo=UTC)  # 16:30 in Zagreb
    core = placed(Clock(friday), SlaTerms(policy_id="p", first_response_seconds=3600, hours=hours))
    assert core.state.sla is not None and core.state.sla.first_response is not None
    assert core.state.sla.first_response.due_at == datetime(2026, 1, 12, 8, 30, tzinfo=UTC)  # Monday 9:30


def test_warning_then_breach_each_once_and_the_breach_applies_on_breach():
    clock = Clock()
    core = placed(clock)
    warning = core.next_deadline()
    assert warning is not None
    clock.at(480.4)
    core.sla_due(warning)
    core.sla_due(warning)  # once: the deadline has moved on
    [warned] = [event for event in core.pending if event.type == EventType.SLA_WARNING]
    assert (warned.clock, warned.due_at) == (FIRST_RESPONSE, after(600))
    breach = core.next_deadline()
    assert breach == Deadline(DeadlineKind.SLA_BREACH, after(600), clock=FIRST_RESPONSE)
    assert core.sla_breach_queue(breach) == "urgent"
    clock.at(600.2)
    core.sla_due(breach, QueueRef(id="urgent"))
    core.sla_due(breach, QueueRef(id="urgent"))
    [breached] = [event for event in core.pending if event.type == EventType.SLA_BREACHED]
    assert (breached.clock, breached.due_at, breached.priority) == (FIRST_RESPONSE, after(600), Priority.HIGH)
    assert (breached.from_queue_id, breached.to_queue_id) == ("front", "urgent")
    assert (core.state.priority, core.state.queue_id) == (Priority.HIGH, "urgent")
    assert core.state.sla is not None and core.state.sla.first_response is not None
    assert core.state.sla.first_response.status == ClockStatus.BREACHED
    # The resolution clock runs on: its warning next.
    assert core.next_deadline() == Deadline(DeadlineKind.SLA_WARNING, after(3480), clock=RESOLUTION)


def test_a_breach_never_lowers_the_priority_and_a_gone_queue_is_no_move():
    clock = Clock()
    core = placed(clock, SlaTerms(policy_id="p", resolution_seconds=60,
                                  on_breach=OnBreach(priority=Priority.LOW, queue_id="gone")))
    breach = core.next_deadline()
    assert breach is not None and breach.kind is DeadlineKind.SLA_BREACH
    clock.at(60)
    core.sla_due(breach, None)
    breached = core.pending[-1]
    assert breached.type == EventType.SLA_BREACHED and breached.reason is not None
    assert "target queue no longer exists" in breached.reason
    assert (core.state.priority, core.state.queue_id) == (Priority.NORMAL, "front")


def test_resolution_pauses_while_waiting_and_resumes_with_what_was_left():
    clock = Clock()
    core = placed(clock)
    clock.at(600)
    core.set_status(Status.WAITING, ANA, None)
    resolution = core.state.sla.resolution if core.state.sla else None
    assert resolution is not None
    assert (resolution.status, resolution.due_at, resolution.remaining_seconds) == (ClockStatus.PAUSED, None, 3000)
    # The first-response clock never pauses: it still has its deadline.
    assert core.next_deadline() == Deadline(DeadlineKind.SLA_WARNING, after(480), clock=FIRST_RESPONSE)
    clock.at(5000)
    core.set_status(Status.OPEN, ANA, None)
    assert (resolution.status, resolution.due_at, resolution.remaining_seconds) == (ClockStatus.ACTIVE, after(8000),
                                                                                    None)


def test_resolution_pauses_from_solved_until_the_customer_reopens_it():
    clock = Clock()
    core = placed(clock)
    clock.at(1000)
    core.set_status(Status.SOLVED, ANA, None)
    clock.at(9000)
    core.record_message(MessageRecorded(actor=CUSTOMER, from_customer=True))
    assert core.state.status == Status.OPEN
    resolution = core.state.sla.resolution if core.state.sla else None
    assert resolution is not None and resolution.due_at == after(9000 + 2600)


def test_a_conversation_placed_waiting_starts_its_resolution_paused():
    core = placed(Clock(), status=Status.WAITING)
    resolution = core.state.sla.resolution if core.state.sla else None
    assert resolution is not None and (resolution.status, resolution.remaining_seconds) == (ClockStatus.PAUSED, 3600)


def test_first_response_is_met_by_the_first_agent_reply_only():
    clock = Clock()
    core = placed(clock)
    core.record_message(MessageRecorded(actor=SUPERVISOR, from_agent=False))
    assert EventType.SLA_MET.value not in types(core)
    clock.at(300)
    core.record_message(MessageRecorded(actor=ANA, from_agent=True))
    core.record_message(MessageRecorded(actor=ANA, from_agent=True))
    [met] = [event for event in core.pending if event.type == EventType.SLA_MET]
    assert (met.clock, met.due_at, met.at) == (FIRST_RESPONSE, after(600), after(300))
    assert core.next_deadline() == Deadline(DeadlineKind.SLA_WARNING, after(3480), clock=RESOLUTION)


def test_resolution_is_met_only_at_closed_even_from_solved():
    clock = Clock()
    core = placed(clock)
    core.set_status(Status.SOLVED, ANA, None)
    assert EventType.SLA_MET.value not in types(core)
    core.set_status(Status.CLOSED, ANA, None)
    assert types(core)[-2:] == ["CLOSED", "SLA_MET"]
    assert core.pending[-1].clock == RESOLUTION
    resolution = core.state.sla.resolution if core.state.sla else None
    assert resolution is not None and resolution.status == ClockStatus.MET


def test_a_clock_resumed_past_its_warning_warns_at_once():
    clock = Clock()
    core = placed(clock, SlaTerms(policy_id="p", resolution_seconds=1000, warn_before_seconds=300))
    clock.at(800)
    core.set_status(Status.WAITING, ANA, None)
    clock.at(5000)
    core.set_status(Status.OPEN, ANA, None)
    assert core.next_deadline() == Deadline(DeadlineKind.SLA_WARNING, after(5000), clock=RESOLUTION)
