"""The store on SQLite and, when SWITCHBOARD_TEST_DATABASE_URL is set, on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from domain.conversation import ConversationEvent, ConversationState, EventType
from domain.models import SYSTEM_ACTOR, Actor, ActorType, Priority, RoutingRule, utcnow
from store import keys
from store import routing as routing_store
from store.bootstrap import DEFAULT_QUEUE_NAME, bootstrap
from store.conversations import ConversationFilter, apply_projection, list_conversations
from store.db import session_scope
from store.tables import ApiKeyRow, ConversationEventRow, ConversationRow, QueueRow


@pytest.fixture
def db(engine: Engine) -> Engine:
    bootstrap(engine)
    return engine


def state_with_events(count: int, **fields) -> tuple[ConversationState, list[ConversationEvent]]:
    """A conversation whose last event is `count`, and its events."""
    now = utcnow()
    events = [
        ConversationEvent(seq=seq, type=EventType.CREATED if seq == 1 else EventType.TAGGED,
                          at=now, actor=SYSTEM_ACTOR)
        for seq in range(1, count + 1)
    ]
    values = dict(id=str(uuid.uuid4()), created_request_id="r", created_at=now, updated_at=now,
                  last_seq=count)
    return ConversationState(**{**values, **fields}), events


def test_bootstrap_is_idempotent_and_makes_one_default_queue(db: Engine):
    assert bootstrap(db) is None, "a second start makes no new supervisor key"
    with session_scope(db) as session:
        defaults = session.exec(select(QueueRow).where(QueueRow.name == DEFAULT_QUEUE_NAME)).all()
        assert len(defaults) == 1
        assert routing_store.default_queue_id(session) == defaults[0].id


def test_a_short_supervisor_key_is_refused(engine: Engine):
    with pytest.raises(ValueError):
        bootstrap(engine, supervisor_key="k" * 31)


def test_the_supervisors_id_is_not_derived_from_its_key(db: Engine):
    with session_scope(db) as session:
        row = session.exec(select(ApiKeyRow).where(ApiKeyRow.principal_type == "SUPERVISOR")).one()
        assert row.principal_id and row.principal_id != row.id
        uuid.UUID(row.principal_id)


def test_a_given_supervisor_key_is_stored_and_found(engine: Engine):
    bootstrap(engine, supervisor_key="k" * 43)
    with session_scope(engine) as session:
        found = keys.find_key(session, "k" * 43)
        assert found is not None and found.principal_type == "SUPERVISOR"
        assert found.secret_hash != "k" * 43 and "k" * 43 not in found.secret_hash
        assert keys.find_key(session, "k" * 42) is None
        assert keys.find_key(session, "") is None
        found.enabled = False
        session.add(found)
    with session_scope(engine) as session:
        assert keys.find_key(session, "k" * 43) is None


def test_a_repeated_projection_writes_each_event_once(db: Engine):
    state, events = state_with_events(3, tags=["a", "b"])
    for _ in range(2):
        with session_scope(db) as session:
            apply_projection(session, state, events)
    with session_scope(db) as session:
        seqs = session.exec(
            select(ConversationEventRow.seq).where(ConversationEventRow.conversation_id == state.id)
        ).all()
        assert sorted(seqs) == [1, 2, 3]
        row = session.get(ConversationRow, state.id)
        assert row is not None and row.last_seq == 3


def test_a_projection_of_only_the_unseen_events_moves_the_row_forward(db: Engine):
    state, events = state_with_events(3, topic="first")
    with session_scope(db) as session:
        apply_projection(session, state, events[:2])
    # As the workflow sends it: the state without its events, and the events not yet seen.
    with session_scope(db) as session:
        apply_projection(
            session, state.model_copy(update={"topic": "second"}), events[2:]
        )
    with session_scope(db) as session:
        row = session.get(ConversationRow, state.id)
        assert row is not None
        assert (row.topic, row.last_seq) == ("second", 3)


def test_a_stale_projection_never_overwrites_newer_state(db: Engine):
    newer, events = state_with_events(3, priority=Priority.URGENT)
    older = newer.model_copy(update={"last_seq": 2, "priority": Priority.LOW})
    with session_scope(db) as session:
        apply_projection(session, newer, events)
    with session_scope(db) as session:
        apply_projection(session, older, events[:2])
    with session_scope(db) as session:
        row = session.get(ConversationRow, newer.id)
        assert row is not None
        assert (row.priority, row.priority_rank, row.last_seq) == ("URGENT", 3, 3)


def test_tags_are_replaced_and_filterable(db: Engine):
    state, events = state_with_events(1, tags=["a", "b"])
    with session_scope(db) as session:
        apply_projection(session, state, events)
    retagged, retagged_events = state_with_events(2, id=state.id, tags=["c"])
    with session_scope(db) as session:
        apply_projection(session, retagged, retagged_events[1:])

    def ids_tagged(*tags: str) -> list[str]:
        with session_scope(db) as session:
            rows, _ = list_conversations(
                session, ConversationFilter(tag_names=list(tags)), order_field="createdAt",
                descending=False, offset=0, limit=10,
            )
            return [row.id for row in rows]

    assert ids_tagged("a") == []
    assert ids_tagged("c") == [state.id]


def test_waiting_order_is_priority_then_oldest(db: Engine):
    start = utcnow()
    states = [
        state_with_events(1, priority=priority, created_at=start + timedelta(seconds=i))
        for i, priority in enumerate([Priority.LOW, Priority.URGENT, Priority.NORMAL, Priority.URGENT])
    ]
    with session_scope(db) as session:
        for state, events in states:
            apply_projection(session, state, events)
        rows, total = list_conversations(
            session, ConversationFilter(), order_field="priority", descending=True, offset=0, limit=10
        )
    assert total == 4
    assert [row.id for row in rows] == [states[i][0].id for i in (1, 3, 2, 0)]


def test_live_queue_names_are_unique_but_a_deleted_name_can_return(db: Engine):
    now = utcnow()

    def queue(**fields) -> QueueRow:
        return QueueRow(id=str(uuid.uuid4()), name="Sales", created_at=now, updated_at=now, **fields)

    with session_scope(db) as session:
        session.add(queue(deleted_at=now))
        session.add(queue())
    with pytest.raises(IntegrityError), session_scope(db) as session:
        session.add(queue())


def test_each_version_is_compiled_once_and_a_racing_save_is_refused(db: Engine):
    author = Actor(type=ActorType.SUPERVISOR, id="s", name="S")
    with session_scope(db) as session:
        queue_id = routing_store.default_queue_id(session)
        rules = [RoutingRule(id="r1", name="r", queue_id=queue_id,
                             expression={"$eq": {"message.channel": "SMS"}})]
        assert routing_store.save_version(session, rules, author).number == 1
    loader = routing_store.RoutingLoader()
    with session_scope(db) as session:
        first = loader.current(session).compiled
        assert loader.current(session).compiled is first
        decision = loader.decide(session, {"message.channel": "SMS"})
        assert (decision.route_id, decision.routing_version) == ("r1", 1)

    # Two saves that both read version 1 as the latest: the later insert collides.
    with session_scope(db) as session:
        stale = routing_store.latest_version_number(session)
    with session_scope(db) as session:
        routing_store.save_version(session, [], author)
    with pytest.raises(IntegrityError), session_scope(db) as session:
        session.add(routing_store.RoutingVersionRow(
            number=stale + 1, author_type="SUPERVISOR", created_at=utcnow(), rules=[]))
        session.flush()
