"""Required skills as the API takes them (a conversation's creation, PATCH or PUT; a routing
rule) and as a rule answers them. SPEC "Skills"; the rules themselves are domain.skills."""

from __future__ import annotations

from typing import Annotated, Protocol, TypeVar

from pydantic import AfterValidator, Field

from api.schemas import ApiInput, ApiModel, Echoed, IsoTime, read_only
from domain.skills import (
    MAX_LEVEL,
    MAX_RELAX_AFTER_SECONDS,
    MAX_REQUIRED_SKILLS,
    MIN_LEVEL,
    SKILL_NAME_PATTERN,
    SkillRequirement,
)


class SkillRequirementIn(ApiInput):
    name: str = Field(pattern=SKILL_NAME_PATTERN, min_length=1, max_length=64)
    min_level: int = Field(default=MIN_LEVEL, ge=MIN_LEVEL, le=MAX_LEVEL)
    # Seconds after the later of entering the queue and being set; null: it never relaxes.
    relax_after_seconds: int | None = Field(default=None, ge=0, le=MAX_RELAX_AFTER_SECONDS)
    # A fetched conversation sent back: its answer-only fields are tolerated and ignored.
    relaxed: Echoed = read_only()
    relaxes_at: IsoTime | None = read_only()

    def requirement(self) -> SkillRequirement:
        return SkillRequirement(
            name=self.name, min_level=self.min_level, relax_after_seconds=self.relax_after_seconds)


class Named(Protocol):
    name: str


N = TypeVar("N", bound=Named)
# One rule for every list of skills (an agent's, a conversation's, a rule's).
NAMED_TWICE = "A skill named twice counts once, as given last."


def each_name_once(given: list[N]) -> list[N]:
    """A skill named twice counts once, as given last (as a JSON object's repeated key): the
    document cannot say "unique by name", and a request it calls valid must not be refused.
    The answer shows what was kept."""
    last = {item.name: item for item in given}
    return [item for item in given if last[item.name] is item]


RequiredSkillsIn = Annotated[
    list[SkillRequirementIn],
    Field(max_length=MAX_REQUIRED_SKILLS, description=NAMED_TWICE),
    AfterValidator(each_name_once),
]


def requirements(given: list[SkillRequirementIn]) -> list[SkillRequirement]:
    return [requirement.requirement() for requirement in given]


class SkillRequirementOut(ApiModel):
    name: str
    min_level: int
    relax_after_seconds: int | None
