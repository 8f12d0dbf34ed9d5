"""Skills: `/ccaas/1/agents/{id}/skills`, an agent's skills read and replaced whole, and
`/ccaas/1/skills`, the names in use. Kept apart from the agent object (SPEC "Skills"), so
Infobip's agent PUT never touches them.

A change is read by the dispatcher's next pass (at least once a second, as for an agent's
status or queues changed through the API): nothing needs waking. It publishes no event out:
as with an agent's queues, only its status goes out (`agent.status_changed`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AfterValidator, Field

from api.deps import SessionDep
from api.errors import not_found
from api.paging import DEFAULT_LIMIT, order_by_param, page_of, parse_paging
from api.schemas import ApiInput, ApiModel, Pagination, pagination
from api.skill_requirements import NAMED_TWICE, each_name_once
from domain.skills import MAX_AGENT_SKILLS, MAX_LEVEL, MIN_LEVEL, SKILL_NAME_PATTERN, SkillLevel
from store import skills as skill_store
from store.tables import AgentRow, AgentSkillRow

router = APIRouter(prefix="/ccaas/1", tags=["skills"])


class AgentSkillIn(ApiInput):
    name: str = Field(min_length=1, max_length=64, pattern=SKILL_NAME_PATTERN,
                      description="Letters, digits, `_` and `-`; compared exactly (case too)")
    level: int = Field(ge=MIN_LEVEL, le=MAX_LEVEL)


class AgentSkillsIn(ApiInput):
    """All the agent's skills: those not given are taken away. A fetched list sent back is
    accepted as it is."""

    skills: Annotated[list[AgentSkillIn], AfterValidator(each_name_once)] = Field(
        max_length=MAX_AGENT_SKILLS, description=NAMED_TWICE)


class AgentSkillOut(ApiModel):
    name: str
    level: int


class AgentSkillsOut(ApiModel):
    """The agent's skills, by name."""

    skills: list[AgentSkillOut]


class SkillInUseOut(ApiModel):
    name: str
    # Enabled agents holding it: a name only disabled agents hold shows 0.
    agents: int


class SkillsInUseOut(ApiModel):
    skills: list[SkillInUseOut]
    pagination: Pagination


ORDERABLE = {"name": AgentSkillRow.name, "agents": skill_store.ENABLED_HOLDERS}


def _skills_out(skills: list[SkillLevel]) -> AgentSkillsOut:
    return AgentSkillsOut(skills=[AgentSkillOut(name=skill.name, level=skill.level) for skill in skills])


@router.get("/agents/{agent_id}/skills", response_model=AgentSkillsOut)
def get_agent_skills(agent_id: str, session: SessionDep) -> AgentSkillsOut:
    if session.get(AgentRow, agent_id) is None:
        raise not_found("Agent")
    return _skills_out(skill_store.skills_of(session, agent_id))


@router.put("/agents/{agent_id}/skills", response_model=AgentSkillsOut)
def put_agent_skills(agent_id: str, body: AgentSkillsIn, session: SessionDep) -> AgentSkillsOut:
    """Replaces all the agent's skills at once (an empty list takes them all away)."""
    skills = [SkillLevel(name=skill.name, level=skill.level) for skill in body.skills]
    if not skill_store.replace(session, agent_id, skills):
        raise not_found("Agent")
    session.commit()
    return _skills_out(skill_store.skills_of(session, agent_id))


@router.get("/skills", response_model=SkillsInUseOut)
def list_skills(
    session: SessionDep,
    page: int = Query(default=0),
    limit: int = Query(default=DEFAULT_LIMIT),
    order_by: str | None = order_by_param(ORDERABLE, "name or agents (enabled agents holding it), then :asc or "
                                                     ":desc"),
):
    """The skill names agents hold, each with how many enabled agents hold it."""
    paging = parse_paging(page, limit, order_by, set(ORDERABLE), "name:asc")
    rows, total = page_of(session, skill_store.in_use(), paging, ORDERABLE[paging.field], AgentSkillRow.name)
    return {
        "skills": [SkillInUseOut(name=name, agents=agents).model_dump(by_alias=True) for name, agents in rows],
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }
