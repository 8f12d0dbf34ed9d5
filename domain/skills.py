"""Skills: what an agent holds (a name at a level) and what a conversation needs, pure.

Eligibility and score follow SPEC "Skills": an agent may take a conversation when it holds
every requirement not yet relaxed at its `min_level` or above; its score is the sum of its
levels in all the required skills, relaxed ones included. A requirement relaxes
`relax_after_seconds` after the later of the conversation's entry into its queue and the
requirement being set; the conversation keeps its queue, wait and place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

# Names: letters, digits, `_` and `-`, as a routing rule or a URL may carry them unquoted.
SKILL_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MIN_LEVEL = 1
MAX_LEVEL = 5
# Skills one agent holds, requirements one conversation carries: enough for languages,
# products and tiers together, and a bound on what each claim weighs.
MAX_AGENT_SKILLS = 50
MAX_REQUIRED_SKILLS = 10
# The longest a requirement may restrict before relaxing: a week, as a conversation waiting
# longer is a matter for its queue's escalation.
MAX_RELAX_AFTER_SECONDS = 7 * 24 * 3600


class SkillLevel(BaseModel):
    """One skill an agent holds."""

    name: str = Field(pattern=SKILL_NAME_PATTERN)
    level: int = Field(ge=MIN_LEVEL, le=MAX_LEVEL)


class SkillRequirement(BaseModel):
    """One skill a conversation needs, as a routing rule, a creation or a PATCH sets it."""

    name: str = Field(pattern=SKILL_NAME_PATTERN)
    min_level: int = Field(default=MIN_LEVEL, ge=MIN_LEVEL, le=MAX_LEVEL)
    relax_after_seconds: int | None = Field(default=None, ge=0, le=MAX_RELAX_AFTER_SECONDS)


class RequiredSkill(SkillRequirement):
    """One skill a conversation needs, as its workflow holds it."""

    # When it was set on the conversation (its relaxation counts from the later of this and
    # the entry into the queue), and whether it has relaxed during this stay.
    set_at: datetime | None = None
    relaxed: bool = False


def restricting(required: Sequence[RequiredSkill]) -> list[RequiredSkill]:
    """The requirements that still decide who may take the conversation."""
    return [requirement for requirement in required if not requirement.relaxed]


def why_not(levels: Mapping[str, int], required: Sequence[RequiredSkill]) -> str | None:
    """Why an agent with these levels may not take it, or None if it may: the first unmet
    requirement, named."""
    for requirement in restricting(required):
        level = levels.get(requirement.name)
        if level is None:
            return f"missing skill {requirement.name}"
        if level < requirement.min_level:
            return f"{requirement.name} level {level} below {requirement.min_level}"
    return None


def score(levels: Mapping[str, int], required: Sequence[RequiredSkill]) -> int:
    """The sum of the agent's levels in the required skills, relaxed ones included."""
    return sum(levels.get(requirement.name, 0) for requirement in required)


def matched(levels: Mapping[str, int], required: Sequence[RequiredSkill]) -> str:
    """The required skills the agent holds with their levels, for a reason: `es 3, billing 2`."""
    return ", ".join(
        f"{requirement.name} {levels[requirement.name]}" for requirement in required if requirement.name in levels
    )


def relaxes_at(requirement: RequiredSkill, queued_at: datetime | None) -> datetime | None:
    """When the requirement stops restricting, or None: never, already, or not in a queue."""
    if requirement.relaxed or requirement.relax_after_seconds is None or queued_at is None:
        return None
    since = max(queued_at, requirement.set_at) if requirement.set_at is not None else queued_at
    return since + timedelta(seconds=requirement.relax_after_seconds)


def _kept(current: Sequence[RequiredSkill], given: SkillRequirement, at: datetime) -> RequiredSkill:
    """`given` as the conversation holds it: an unchanged requirement keeps when it was set
    and whether it has relaxed (its clock goes on); a new or changed one starts now."""
    for held in current:
        if held.name == given.name and SkillRequirement.model_validate(held.model_dump(
                include=set(SkillRequirement.model_fields))) == given:
            return held
    return RequiredSkill(**given.model_dump(), set_at=at)


def replaced(current: Sequence[RequiredSkill], given: Sequence[SkillRequirement], at: datetime) -> list[RequiredSkill]:
    """The requirements become exactly `given` (a PATCH)."""
    return [_kept(current, requirement, at) for requirement in given]


def merged(current: Sequence[RequiredSkill], given: Sequence[SkillRequirement], at: datetime) -> list[RequiredSkill]:
    """`given` added to the requirements, replacing those of the same names (a routing rule)."""
    names = {requirement.name for requirement in given}
    return [held for held in current if held.name not in names] + replaced(current, given, at)


def described(required: Sequence[SkillRequirement]) -> str:
    """`es, billing 3+`: names, with the level where more than the least is asked."""
    return ", ".join(
        requirement.name + (f" {requirement.min_level}+" if requirement.min_level > MIN_LEVEL else "")
        for requirement in required
    )
