"""Console sessions in the store, on SQLite and (SWITCHBOARD_TEST_DATABASE_URL) PostgreSQL: a
token that is not the key, kept only as a hash, ended by signing out, by its key's rotation and
by time (the clock is each call's `now`: no waiting)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from api.auth import principal_for_key
from console.session import open_session, session_principal
from domain.models import utcnow
from store import console_sessions, keys
from store.bootstrap import bootstrap
from store.db import session_scope
from store.tables import AgentRow, ConsoleSessionRow

HOURS = timedelta(hours=12)


@pytest.fixture
def supervisor_key(engine: Engine) -> str:
    key = bootstrap(engine)
    assert key is not None
    return key


AGENT = "00000000-0000-4000-8000-0000000000a1"


def agent_with_key(engine: Engine) -> tuple[str, str]:
    now = utcnow()
    with session_scope(engine) as session:
        session.add(AgentRow(id=AGENT, display_name="Ada", role="AGENT", status="AVAILABLE",
                             created_at=now, updated_at=now))
        key = keys.new_key()
        keys.store_key(session, key, principal_type="AGENT", principal_id=AGENT, name="Ada")
    return AGENT, key


def test_a_session_is_a_token_of_its_own_kept_only_as_a_hash(engine: Engine, supervisor_key: str):
    now = utcnow()
    token = open_session(engine, supervisor_key, now, HOURS)
    assert token is not None and token != supervisor_key and len(token) >= 43
    principal = session_principal(engine, token, now)
    assert principal is not None and principal == principal_for_key(engine, supervisor_key)
    with session_scope(engine) as session:
        (row,) = session.exec(select(ConsoleSessionRow)).all()
    assert token not in (row.id, row.key_id) and supervisor_key not in (row.id, row.key_id)
    assert row.key_id == principal.key_id
    assert session_principal(engine, supervisor_key, now) is None  # the key is not a session
    assert open_session(engine, "not a key", now, HOURS) is None


def test_signing_out_ends_the_session_only(engine: Engine, supervisor_key: str):
    now = utcnow()
    first, second = (open_session(engine, supervisor_key, now, HOURS) for _ in range(2))
    assert first is not None and second is not None and first != second
    with session_scope(engine) as session:
        console_sessions.end_session(session, first)
    assert session_principal(engine, first, now) is None
    assert session_principal(engine, second, now) is not None  # another browser stays signed in


def test_a_session_ends_at_its_expiry(engine: Engine, supervisor_key: str):
    opened = utcnow()
    token = open_session(engine, supervisor_key, opened, HOURS)
    assert token is not None
    assert session_principal(engine, token, opened + HOURS - timedelta(seconds=1)) is not None
    assert session_principal(engine, token, opened + HOURS) is None
    # An ended session is swept when the next one opens.
    open_session(engine, supervisor_key, opened + HOURS, HOURS)
    with session_scope(engine) as session:
        assert len(session.exec(select(ConsoleSessionRow)).all()) == 1


def test_rotating_a_key_ends_its_sessions_and_no_other(engine: Engine, supervisor_key: str):
    now = utcnow()
    agent_id, agent_key = agent_with_key(engine)
    agents_session = open_session(engine, agent_key, now, HOURS)
    supervisors_session = open_session(engine, supervisor_key, now, HOURS)
    assert agents_session is not None and supervisors_session is not None
    assert session_principal(engine, agents_session, now) is not None
    with session_scope(engine) as session:
        keys.disable_keys(session, "AGENT", agent_id)
        new_key = keys.new_key()
        keys.store_key(session, new_key, principal_type="AGENT", principal_id=agent_id, name="Ada")
    assert session_principal(engine, agents_session, now) is None
    with session_scope(engine) as session:  # gone from the store, not only refused
        key_ids = {row.key_id for row in session.exec(select(ConsoleSessionRow))}
    assert key_ids == {session_principal(engine, supervisors_session, now).key_id}  # type: ignore[union-attr]
    assert open_session(engine, agent_key, now, HOURS) is None  # the old key opens none
    assert open_session(engine, new_key, now, HOURS) is not None


def test_a_disabled_agent_is_signed_out_of_its_session(engine: Engine, supervisor_key: str):
    now = utcnow()
    agent_id, agent_key = agent_with_key(engine)
    token = open_session(engine, agent_key, now, HOURS)
    assert token is not None
    with session_scope(engine) as session:
        agent = session.get(AgentRow, agent_id)
        assert agent is not None
        agent.enabled = False
        session.add(agent)
    assert session_principal(engine, token, now) is None
