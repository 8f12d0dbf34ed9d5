"""Auto-assignment's claim in SQL (store.assignment), raced by several processes at once on
SQLite and PostgreSQL: never over capacity, never two agents for one conversation, waiting
order kept, skills required (a conversation nobody qualifies for holding back none behind it),
and the projection keeping holds in step with what the workflow recorded."""

from __future__ import annotations

import multiprocessing
import uuid
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from domain.conversation import ConversationState
from domain.models import Priority, Status, as_utc, utcnow
from domain.skills import RequiredSkill
from domain.working_hours import DayHours, Weekday
from services import dispatcher
from store import assignment
from store.bootstrap import bootstrap
from store.conversations import apply_projection
from store.db import make_engine, session_scope
from store.tables import (
    AgentQueueRow,
    AgentRow,
    AgentSkillRow,
    AssignmentRow,
    ConversationRow,
    QueueRow,
    WorkingHoursRow,
)
from store.working_hours import refresh_statuses

CAPACITY = 3


@pytest.fixture
def db(engine: Engine) -> Engine:
    bootstrap(engine)
    return engine


def add_queue(engine: Engine, **fields) -> str:
    now = utcnow()
    fields = {"is_auto_assignment_enabled": True, **fields}
    queue = QueueRow(id=str(uuid.uuid4()), name=f"q-{uuid.uuid4()}", created_at=now, updated_at=now, **fields)
    with session_scope(engine) as session:
        session.add(queue)
    return queue.id


def add_agent(engine: Engine, queue_ids: list[str], status: str = "ACTIVE", capacity: int | None = CAPACITY,
              **fields) -> str:
    now = utcnow()
    agent = AgentRow(id=str(uuid.uuid4()), display_name="a", role="AGENT", status=status,
                     max_conversations=capacity, created_at=now, updated_at=now, **fields)
    with session_scope(engine) as session:
        session.add(agent)
        for queue_id in queue_ids:
            session.add(AgentQueueRow(agent_id=agent.id, queue_id=queue_id, created_at=now))
    return agent.id


def waiting_conversation(engine: Engine, queue_id: str, minutes_ago: int = 0, **fields) -> ConversationState:
    at = utcnow() - timedelta(minutes=minutes_ago)
    fields = {"queued_at": at, "created_at": at, "updated_at": at, **fields}
    state = ConversationState(id=str(uuid.uuid4()), created_request_id="r", queue_id=queue_id,
                              last_seq=1, **fields)
    with session_scope(engine) as session:
        apply_projection(session, state, [])
    return state


def with_skills(engine: Engine, agent_id: str, **levels: int) -> str:
    with session_scope(engine) as session:
        for name, level in levels.items():
            session.add(AgentSkillRow(agent_id=agent_id, name=name, level=level))
    return agent_id


def needing(engine: Engine, state: ConversationState, *required: RequiredSkill) -> ConversationState:
    """The conversation's row carrying its requirements, as its workflow's projection writes them."""
    with session_scope(engine) as session:
        row = session.get(ConversationRow, state.id)
        assert row is not None
        row.required_skills = [requirement.model_dump(mode="json") for requirement in required]
        session.add(row)
    return state


def claim(engine: Engine, queue_id: str) -> list[assignment.Claim]:
    with session_scope(engine) as session:
        return assignment.claim(session, queue_id, utcnow(), default_capacity=5)


def holds(engine: Engine) -> list[AssignmentRow]:
    with session_scope(engine) as session:
        return list(session.exec(select(AssignmentRow)).all())


def _claim_repeatedly(url: str, queue_ids: list[str], rounds: int) -> None:
    engine = make_engine(url)
    for _ in range(rounds):
        for queue_id in queue_ids:
            claim(engine, queue_id)
    engine.dispose()


def test_claims_raced_by_four_processes_over_two_queues_never_exceed_capacity(db: Engine, database_url: str):
    queues = [add_queue(db), add_queue(db, auto_assignment_algorithm="ROUND_ROBIN")]
    # Two agents work both queues, one only the first: their capacity is shared by the queues.
    agents = [add_agent(db, queues), add_agent(db, queues), add_agent(db, queues[:1])]
    for n in range(40):
        waiting_conversation(db, queues[n % 2], minutes_ago=n)

    context = multiprocessing.get_context("spawn")
    racers = [
        context.Process(target=_claim_repeatedly, args=(database_url, order, 5))
        for order in (queues, queues[::-1], queues, queues[::-1])
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=120)
        assert racer.exitcode == 0

    rows = holds(db)
    assert len(rows) == len({row.conversation_id for row in rows}) == 3 * CAPACITY
    assert Counter(row.agent_id for row in rows) == {agent: CAPACITY for agent in agents}
    assert all(row.state == assignment.CLAIMED for row in rows)


def test_waiting_order_is_priority_then_longest_in_the_queue(db: Engine):
    queue = add_queue(db)
    add_agent(db, [queue], capacity=2)
    last = waiting_conversation(db, queue, minutes_ago=30)
    urgent = waiting_conversation(db, queue, minutes_ago=1, priority=Priority.URGENT)
    oldest = waiting_conversation(db, queue, minutes_ago=60)
    claims = claim(db, queue)
    assert [made.conversation_id for made in claims] == [urgent.id, oldest.id]
    with session_scope(db) as session:
        assert assignment.queue_positions(session, [urgent.id, oldest.id, last.id]) == {last.id: 1}


def test_queue_positions_count_those_ahead_in_waiting_order_per_queue(db: Engine):
    queue, other = add_queue(db), add_queue(db)
    tied_at = utcnow() - timedelta(minutes=20)
    states = [
        waiting_conversation(db, queue, minutes_ago=30),
        waiting_conversation(db, queue, minutes_ago=5, priority=Priority.HIGH),
        waiting_conversation(db, queue, minutes_ago=50, priority=Priority.LOW),
        # Waiting since the same moment: the lower id goes first.
        *(waiting_conversation(db, queue, queued_at=tied_at, created_at=tied_at, updated_at=tied_at)
          for _ in range(2)),
        # No queued_at: waiting since it was created.
        waiting_conversation(db, queue, minutes_ago=10, queued_at=None),
        waiting_conversation(db, other, minutes_ago=40),
    ]
    assigned = waiting_conversation(db, queue, minutes_ago=90, agent_id=str(uuid.uuid4()))
    closed = waiting_conversation(db, queue, minutes_ago=90, status=Status.CLOSED)
    # Claimed for an agent: most urgent, so the claim takes it, and it waits no more.
    add_agent(db, [queue], capacity=1)
    claimed = waiting_conversation(db, queue, minutes_ago=1, priority=Priority.URGENT)
    assert [made.conversation_id for made in claim(db, queue)] == [claimed.id]

    def waited_since(state: ConversationState) -> datetime:
        return as_utc(state.queued_at or state.created_at)

    expected: dict[str, int] = {}
    for queue_id in (queue, other):
        ordered = sorted((state for state in states if state.queue_id == queue_id),
                         key=lambda state: (-state.priority.rank, waited_since(state), state.id))
        expected |= {state.id: place for place, state in enumerate(ordered, start=1)}
    asked = [state.id for state in states] + [assigned.id, closed.id, claimed.id, "no-such-conversation"]
    with session_scope(db) as session:
        assert assignment.queue_positions(session, asked) == expected
        # Asked alone, each has the same place.
        for state in states:
            assert assignment.queue_positions(session, [state.id]) == {state.id: expected[state.id]}


def test_only_active_enabled_members_with_room_are_claimed_for(db: Engine):
    queue = add_queue(db)
    for status in ("BUSY", "AWAY", "INVISIBLE"):
        add_agent(db, [queue], status=status)
    add_agent(db, [queue], enabled=False)
    add_agent(db, [], status="ACTIVE")  # not a member
    add_agent(db, [queue], capacity=0)
    waiting_conversation(db, queue)
    assert claim(db, queue) == []
    # Without its own capacity an agent has the default (5 here).
    default = add_agent(db, [queue], capacity=None)
    for _ in range(6):
        waiting_conversation(db, queue)
    assert Counter(made.agent_id for made in claim(db, queue)) == {default: 5}


def test_a_queue_without_auto_assignment_or_with_a_bot_claims_nothing(db: Engine):
    manual = add_queue(db, is_auto_assignment_enabled=False)
    with_bot = add_queue(db, bot_id=str(uuid.uuid4()))
    add_agent(db, [manual, with_bot])
    waiting_conversation(db, manual)
    waiting_conversation(db, with_bot)
    with session_scope(db) as session:
        assert assignment.queues_to_dispatch(session) == []
    assert claim(db, manual) == claim(db, with_bot) == []


def test_a_pass_looks_only_at_queues_where_an_active_member_has_room(db: Engine):
    roomy, full, away, disabled, manual, empty = (
        add_queue(db), add_queue(db), add_queue(db), add_queue(db),
        add_queue(db, is_auto_assignment_enabled=False), add_queue(db),
    )
    add_agent(db, [roomy, full], capacity=2)
    add_agent(db, [full], capacity=1)
    add_agent(db, [away], status="AWAY")
    add_agent(db, [disabled], enabled=False)
    add_agent(db, [manual])
    add_agent(db, [empty], capacity=0)
    for queue in (full, full, away, disabled, manual, empty):
        waiting_conversation(db, queue)
    assert len(claim(db, full)) == 2  # one each: the second agent is full now
    for queue in (full, roomy):
        waiting_conversation(db, queue)
    with session_scope(db) as session:
        with_room = assignment.queues_with_room(session, default_capacity=5)
        assert with_room == {roomy, full}
        # The first agent has room for one more, in either of its queues.
        assert sorted(assignment.queues_to_dispatch(session, among=with_room)) == sorted([roomy, full])
        assert assignment.queues_to_dispatch(session, among=set()) == []
    # Full now: no queue has room, and none is looked at.
    assert len(claim(db, roomy)) == 1
    with session_scope(db) as session:
        assert assignment.queues_with_room(session, default_capacity=5) == set()
        # Capacity raised: seen by the next read.
        agent_ids = [row.agent_id for row in session.exec(select(AgentQueueRow).where(AgentQueueRow.queue_id == full))]
        for agent in session.exec(select(AgentRow).where(col(AgentRow.id).in_(agent_ids))):
            agent.max_conversations = 3
            session.add(agent)
    with session_scope(db) as session:
        assert assignment.queues_with_room(session, default_capacity=5) == {roomy, full}


def test_sticky_agent_gets_the_customer_back_if_eligible_else_the_pool(db: Engine):
    queue = add_queue(db, is_sticky_auto_assignment_enabled=True, sticky_agent_timeout_days=2)
    sticky = add_agent(db, [queue], capacity=1)
    other = add_agent(db, [queue], capacity=5)
    earlier = waiting_conversation(db, queue, from_="+385911111111", minutes_ago=10)
    earlier.agent_id, earlier.status, earlier.last_seq = sticky, Status.CLOSED, 2
    with session_scope(db) as session:
        apply_projection(session, earlier, [])
    again = waiting_conversation(db, queue, from_="+385911111111")
    [made] = claim(db, queue)
    assert (made.conversation_id, made.agent_id) == (again.id, sticky)
    assert made.reason.startswith("sticky")
    # The sticky agent is full now: the same customer's next conversation goes to the pool.
    third = waiting_conversation(db, queue, from_="+385911111111")
    [made] = claim(db, queue)
    assert (made.conversation_id, made.agent_id) == (third.id, other)
    assert made.reason.startswith("LOAD_BALANCING")


def test_the_projection_holds_what_the_workflow_recorded_and_frees_it_when_it_ends(db: Engine):
    queue = add_queue(db, is_auto_assignment_enabled=False)
    agent = add_agent(db, [queue])
    state = waiting_conversation(db, queue)
    state.agent_id, state.last_seq = agent, 2
    with session_scope(db) as session:
        apply_projection(session, state, [])
    assert [(row.agent_id, row.state) for row in holds(db)] == [(agent, assignment.HELD)]
    state.status, state.last_seq = Status.SOLVED, 3
    with session_scope(db) as session:
        apply_projection(session, state, [])
    assert holds(db) == []
    # A customer reopening it: its agent holds it again.
    state.status, state.last_seq = Status.OPEN, 4
    with session_scope(db) as session:
        apply_projection(session, state, [])
    assert len(holds(db)) == 1


def test_a_claim_outlives_projections_until_accepted_or_withdrawn(db: Engine):
    queue = add_queue(db)
    agent = add_agent(db, [queue])
    state = waiting_conversation(db, queue)
    [made] = claim(db, queue)
    # A projection of another change (no agent yet) leaves the claim in flight.
    state.last_seq = 2
    with session_scope(db) as session:
        apply_projection(session, state, [])
        assert assignment.stale_claims(session, utcnow() + timedelta(seconds=1)) == [made]
    state.agent_id, state.last_seq = agent, 3
    with session_scope(db) as session:
        apply_projection(session, state, [])
    [row] = holds(db)
    assert (row.state, row.reason) == (assignment.HELD, made.reason)
    with session_scope(db) as session:
        assignment.withdraw(session, made)  # only a claim still CLAIMED is withdrawn
    assert len(holds(db)) == 1


def test_outside_its_working_hours_a_queue_assigns_only_if_it_says_so(db: Engine):
    """Weekdays 09:00-17:00 in Zagreb: once the hours' status is decided closed (Saturday
    noon) the queue pauses; decided open (Monday 10:00, the working-hours clock's refresh)
    it assigns again, with no one acting; a queue that assigns outside its hours does on
    Saturday too. The dispatcher reads the stored status, never the time."""
    weekend = (Weekday.SATURDAY, Weekday.SUNDAY)
    week = {day.value: DayHours(start_time=540, end_time=1020, enabled=day not in weekend).model_dump()
            for day in Weekday}
    now = utcnow()
    hours = WorkingHoursRow(id=str(uuid.uuid4()), name="office", timezone="Europe/Zagreb", message="closed",
                            work_week=week, created_at=now, updated_at=now)
    with session_scope(db) as session:
        session.add(hours)
    paused = add_queue(db, working_hours_id=hours.id)
    anyway = add_queue(db, working_hours_id=hours.id, is_auto_assignment_outside_of_working_hours_enabled=True)
    for queue in (paused, anyway):
        add_agent(db, [queue])
        waiting_conversation(db, queue)
    saturday_noon = datetime(2026, 11, 28, 12, 0, tzinfo=ZoneInfo("Europe/Zagreb"))
    monday_ten = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Europe/Zagreb"))
    with session_scope(db) as session:
        refreshed = refresh_statuses(session, saturday_noon)
    assert (refreshed.opened, refreshed.closed) == ([], [hours.id])
    # Opening on Monday at 09:00 is when the clock wakes next.
    assert refreshed.next_boundary_at == monday_ten - timedelta(hours=1)
    with session_scope(db) as session:
        assert assignment.queues_to_dispatch(session) == [anyway]
    with session_scope(db) as session:
        assert refresh_statuses(session, monday_ten).opened == [hours.id]
    with session_scope(db) as session:
        assert sorted(assignment.queues_to_dispatch(session)) == sorted([paused, anyway])
        row = session.get(WorkingHoursRow, hours.id)
        assert row is not None and row.is_open
        # Dated by the opening, not by when the clock looked.
        assert row.status_changed_at is not None and as_utc(row.status_changed_at) == monday_ten - timedelta(hours=1)


def test_a_dispatcher_pass_tells_stale_claims_again_once_an_interval_and_gives_up_old_ones(db: Engine):
    queue = add_queue(db)
    add_agent(db, [queue])
    waiting_conversation(db, queue)
    abandoned = waiting_conversation(db, queue)
    [told, dropped] = claim(db, queue)  # their teller died: nobody told them
    assert dropped.conversation_id == abandoned.id
    with session_scope(db) as session:
        for made, age in ((told, dispatcher.CLAIM_RETELL_AFTER), (dropped, dispatcher.CLAIM_GIVE_UP_AFTER)):
            row = session.get(AssignmentRow, made.conversation_id)
            assert row is not None
            row.at = made.at - age - timedelta(seconds=1)
            session.add(row)
    passes = dispatcher.Dispatcher(db, client=None, default_capacity=5)  # type: ignore[arg-type]
    # The abandoned one is withdrawn and claimed anew (a new claim, not stale); the other is told again.
    first, _ = passes._claim_all()
    assert [made.claim_id for made in first if made.conversation_id == told.conversation_id] == [told.claim_id]
    [again] = [made for made in first if made.conversation_id == abandoned.id]
    assert again.claim_id != dropped.claim_id
    # A pass woken within the interval does not look for stale claims again.
    assert passes._claim_all() == ([], [])


def test_a_conversation_nobody_qualifies_for_holds_back_none_behind_it_and_keeps_its_place(
    db: Engine, monkeypatch: pytest.MonkeyPatch,
):
    # Pages of two: the passed-over ones fill the first page, and those behind are still found.
    monkeypatch.setattr(assignment, "CLAIM_BATCH", 2)
    queue = add_queue(db)
    english = with_skills(db, add_agent(db, [queue]), en=3)
    spanish = [needing(db, waiting_conversation(db, queue, minutes_ago=60 - n), RequiredSkill(name="es"))
               for n in range(2)]
    plain = waiting_conversation(db, queue, minutes_ago=30)
    in_english = needing(db, waiting_conversation(db, queue, minutes_ago=20), RequiredSkill(name="en", min_level=2))
    claims = claim(db, queue)
    assert [(made.conversation_id, made.agent_id) for made in claims] == [(plain.id, english), (in_english.id, english)]
    assert claims[0].reason.startswith("LOAD_BALANCING: lowest load; load 0/3; candidates: ")
    assert claims[1].reason.startswith("LOAD_BALANCING: lowest load; load 1/3; skills en 3; candidates: ")
    with session_scope(db) as session:
        assert assignment.queue_positions(session, [one.id for one in spanish]) == {spanish[0].id: 1, spanish[1].id: 2}
    # Nobody has room now: the claim stops at once, and nothing is claimed.
    waiting_conversation(db, queue, minutes_ago=10)
    assert len(claim(db, queue)) == 1
    assert claim(db, queue) == []


def test_an_agent_lacking_an_unrelaxed_skill_or_its_level_never_gets_it(db: Engine):
    queue = add_queue(db)
    with_skills(db, add_agent(db, [queue]), en=5)
    with_skills(db, add_agent(db, [queue]), es=1, billing=5)
    needs = (RequiredSkill(name="es", min_level=2), RequiredSkill(name="billing"))
    conversation = needing(db, waiting_conversation(db, queue), *needs)
    assert claim(db, queue) == []
    fluent = with_skills(db, add_agent(db, [queue]), es=2, billing=1)
    [made] = claim(db, queue)
    assert (made.conversation_id, made.agent_id) == (conversation.id, fluent)
    assert made.reason == (f"LOAD_BALANCING: lowest load; load 0/3; skills es 2, billing 1; "
                           f"candidates: {fluent} 0/3 score 3")


def test_a_relaxed_requirement_no_longer_restricts_but_still_ranks_by_score(db: Engine):
    queue = add_queue(db)
    none = add_agent(db, [queue], capacity=1)
    some = with_skills(db, add_agent(db, [queue], capacity=1), es=1)
    relaxed = RequiredSkill(name="es", min_level=3, relaxed=True)
    first = needing(db, waiting_conversation(db, queue, minutes_ago=2), relaxed)
    second = needing(db, waiting_conversation(db, queue, minutes_ago=1), relaxed)
    # Equal load: the higher score first (es 1, though below the relaxed 3); then the one
    # without the skill at all, whom a relaxed requirement no longer keeps out.
    assert [(made.conversation_id, made.agent_id) for made in claim(db, queue)] == [(first.id, some), (second.id, none)]


def test_performance_based_picks_the_highest_score_before_the_lowest_load(db: Engine):
    queue = add_queue(db, auto_assignment_algorithm="PERFORMANCE_BASED")
    with_skills(db, add_agent(db, [queue]), es=1, billing=1)
    expert = with_skills(db, add_agent(db, [queue]), es=5, billing=3)
    with session_scope(db) as session:  # the expert already holds one
        session.add(AssignmentRow(conversation_id=str(uuid.uuid4()), agent_id=expert, queue_id=queue,
                                  state=assignment.HELD, at=utcnow()))
    needing(db, waiting_conversation(db, queue), RequiredSkill(name="es"), RequiredSkill(name="billing"))
    [made] = claim(db, queue)
    assert made.agent_id == expert
    assert made.reason.startswith("PERFORMANCE_BASED: highest score; score 8; load 1/3; skills es 5, billing 3; ")


def test_round_robin_turns_among_the_eligible_only(db: Engine):
    queue = add_queue(db, auto_assignment_algorithm="ROUND_ROBIN")
    first = with_skills(db, add_agent(db, [queue]), es=2)
    add_agent(db, [queue])  # joined between them, without the skill
    third = with_skills(db, add_agent(db, [queue]), es=4)
    for n in range(4):
        needing(db, waiting_conversation(db, queue, minutes_ago=10 - n), RequiredSkill(name="es"))
    turns = [made.agent_id for made in claim(db, queue)]
    assert set(turns) == {first, third} and turns[0] != turns[1] and turns[:2] == turns[2:]


def test_in_a_queue_that_makes_offers_an_agent_gets_one_at_a_time_and_passers_wait_behind(db: Engine):
    queue = add_queue(db, offer_timeout_seconds=30)
    ana, bo = add_agent(db, [queue]), add_agent(db, [queue])
    declined_by_ana = waiting_conversation(db, queue, minutes_ago=3,
                                           passed_over=[{"agent_id": ana, "at": utcnow()}])
    behind = [waiting_conversation(db, queue, minutes_ago=2 - n) for n in range(2)]
    # One offer each (the claim's timeout told with it); not to Ana the one she passed over.
    made = claim(db, queue)
    assert {(c.conversation_id, c.agent_id, c.offer_timeout_seconds) for c in made} == {
        (declined_by_ana.id, bo, 30), (behind[0].id, ana, 30)}
    # Bo's offer pending; Ana's answered, and behind[0] gone from the queue: Ana is free again.
    with session_scope(db) as session:
        session.exec(delete(AssignmentRow).where(col(AssignmentRow.agent_id) == ana))
        bo_offer = session.get(AssignmentRow, declined_by_ana.id)
        assert bo_offer is not None
        bo_offer.conversation_id, bo_offer.state = behind[0].id, assignment.OFFERED
        session.add(bo_offer)
    # The one Ana passed over waits for Bo (who has not passed it) rather than going back to her,
    # and Bo gets no second offer: Ana is offered the one behind.
    [again] = claim(db, queue)
    assert (again.conversation_id, again.agent_id) == (behind[1].id, ana)
