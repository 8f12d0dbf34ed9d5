"""Agents' skills in SQL (store.skills) on SQLite and PostgreSQL: replaced whole, counted by
enabled holders, read in bulk for a claim, and two replacements of one agent at once following
each other rather than colliding."""

from __future__ import annotations

import threading
import time
import uuid

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.models import utcnow
from domain.skills import SkillLevel
from store import skills
from store.db import session_scope
from store.tables import AgentRow


def add_agent(engine: Engine, enabled: bool = True) -> str:
    now = utcnow()
    agent = AgentRow(id=str(uuid.uuid4()), display_name="a", role="AGENT", status="ACTIVE", enabled=enabled,
                     created_at=now, updated_at=now)
    with session_scope(engine) as session:
        session.add(agent)
    return agent.id


def replace(engine: Engine, agent_id: str, **levels: int) -> bool:
    with session_scope(engine) as session:
        return skills.replace(session, agent_id, [SkillLevel(name=name, level=level) for name, level in levels.items()])


def test_replace_takes_the_old_skills_away_and_reads_back_by_name(engine: Engine):
    agent = add_agent(engine)
    assert replace(engine, agent, fr=2, es=4)
    assert replace(engine, agent, es=5, de=1)
    with session_scope(engine) as session:
        assert skills.skills_of(session, agent) == [SkillLevel(name="de", level=1), SkillLevel(name="es", level=5)]


def test_replace_of_an_unknown_agent_changes_nothing(engine: Engine):
    assert not replace(engine, str(uuid.uuid4()), es=1)
    with session_scope(engine) as session:
        assert session.exec(skills.in_use()).all() == []


def test_levels_of_answers_every_agent_asked_for_in_one_query(engine: Engine):
    first, second, bare = add_agent(engine), add_agent(engine), add_agent(engine)
    replace(engine, first, es=3, billing=2)
    replace(engine, second, es=1)
    other = add_agent(engine)
    replace(engine, other, fr=5)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as session:
            levels = skills.levels_of(session, [first, second, bare, "no-such-agent"])
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert levels == {first: {"es": 3, "billing": 2}, second: {"es": 1}, bare: {}, "no-such-agent": {}}
    assert len([s for s in statements if "agent_skills" in s]) == 1, statements
    with Session(engine) as session:
        assert skills.levels_of(session, []) == {}


def test_in_use_counts_enabled_holders_and_keeps_names_only_disabled_agents_hold(engine: Engine):
    on, also_on, off = add_agent(engine), add_agent(engine), add_agent(engine, enabled=False)
    replace(engine, on, es=1, fr=2)
    replace(engine, also_on, es=5)
    replace(engine, off, es=3, latin=4)
    with session_scope(engine) as session:
        rows = session.exec(skills.in_use().order_by(text("name"))).all()
    assert [tuple(row) for row in rows] == [("es", 2), ("fr", 1), ("latin", 0)]


def _someone_waits_for(engine: Engine, pid: int) -> bool:
    """Whether a PostgreSQL backend waits on a lock the backend `pid` holds."""
    with engine.connect() as connection:
        return bool(connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
        ), {"pid": pid}).scalar())


def test_two_replacements_of_one_agent_follow_each_other(engine: Engine):
    """The second waits for the first's commit and then wins whole: without the agent's row
    locked, on PostgreSQL it would insert beside the first's uncommitted rows and fail on the key."""
    agent = add_agent(engine)
    outcome: list[object] = []

    def second() -> None:
        try:
            outcome.append(replace(engine, agent, es=5))
        except Exception as error:  # the thread's failure is the test's to report
            outcome.append(error)

    with session_scope(engine) as session:
        assert skills.replace(session, agent, [SkillLevel(name="es", level=1), SkillLevel(name="fr", level=1)])
        thread = threading.Thread(target=second)
        thread.start()
        if engine.dialect.name == "postgresql":
            # Commit only once the second is seen waiting on this transaction's lock.
            pid = session.exec(text("SELECT pg_backend_pid()")).one()[0]  # type: ignore[call-overload]
            deadline = time.monotonic() + 20
            while not _someone_waits_for(engine, pid):
                assert time.monotonic() < deadline, "the second replacement never waited"
                time.sleep(0.01)
        # SQLite: the second's BEGIN IMMEDIATE waits for this write lock (busy timeout 30 s).
    thread.join(30)
    assert outcome == [True]
    with session_scope(engine) as session:
        assert skills.skills_of(session, agent) == [SkillLevel(name="es", level=5)]

