"""Agents' skills: an agent's list read and replaced whole, the names in use, and the levels of
many agents at once (what a claim filters and scores candidates by)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, and_, delete, func, insert
from sqlmodel import Session, col, select

from domain.skills import SkillLevel
from store.db import take_write_lock
from store.tables import AgentRow, AgentSkillRow

# SQLModel makes __table__ for every table=True class but does not declare it.
SKILLS: Table = AgentSkillRow.__table__  # type: ignore[attr-defined]


def skills_of(session: Session, agent_id: str) -> list[SkillLevel]:
    """The agent's skills, by name."""
    rows = session.exec(
        select(AgentSkillRow).where(AgentSkillRow.agent_id == agent_id).order_by(col(AgentSkillRow.name))
    ).all()
    return [SkillLevel(name=row.name, level=row.level) for row in rows]


def replace(session: Session, agent_id: str, skills: Sequence[SkillLevel]) -> bool:
    """Replaces all the agent's skills with these (names distinct, checked by the caller), in
    the caller's transaction; False, with nothing changed, if there is no such agent.

    Must be the transaction's first statement (SQLite: store.db.take_write_lock). The agent's
    row is locked first (PostgreSQL `FOR UPDATE`, as a claim locks its candidates): two
    replacements of one agent follow each other instead of colliding on the key, and a claim
    reads the agent's skills as they were before or after, never half-way."""
    take_write_lock(session)
    agent = session.exec(select(AgentRow.id).where(AgentRow.id == agent_id).with_for_update()).first()
    if agent is None:
        return False
    session.exec(delete(AgentSkillRow).where(col(AgentSkillRow.agent_id) == agent_id))
    # One statement for all the rows, and no ORM objects to keep in the session.
    if skills:
        session.connection().execute(
            insert(SKILLS), [{"agent_id": agent_id, "name": skill.name, "level": skill.level} for skill in skills]
        )
    return True


# How many enabled agents hold a name: an outer join, so a name only disabled agents hold
# counts 0 rather than vanishing.
ENABLED_HOLDERS: Any = func.count(col(AgentRow.id))


def in_use() -> Any:
    """Every name some agent holds, with how many enabled agents hold it (`agents`): a query
    for the caller to order and page (columns `AgentSkillRow.name` and ENABLED_HOLDERS).

    Disabled agents are not counted, as they take no conversation; their names still show
    (with 0 if no enabled agent holds them), so a supervisor sees a skill nobody can serve."""
    return (
        select(col(AgentSkillRow.name), ENABLED_HOLDERS.label("agents"))
        .select_from(AgentSkillRow)
        .outerjoin(AgentRow, and_(col(AgentRow.id) == col(AgentSkillRow.agent_id), col(AgentRow.enabled)))
        .group_by(col(AgentSkillRow.name))
    )


def levels_of(session: Session, agent_ids: list[str]) -> dict[str, dict[str, int]]:
    """Each agent's levels by skill name, in one query; every agent asked for has an entry,
    empty if it holds no skill (or does not exist)."""
    levels: dict[str, dict[str, int]] = {agent_id: {} for agent_id in agent_ids}
    if not agent_ids:
        return levels
    rows = session.exec(select(AgentSkillRow).where(col(AgentSkillRow.agent_id).in_(set(agent_ids)))).all()
    for row in rows:
        levels[row.agent_id][row.name] = row.level
    return levels
