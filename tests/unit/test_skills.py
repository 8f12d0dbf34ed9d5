"""domain.skills: eligibility, score and relaxation moments, as SPEC "Skills" defines them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.skills import RequiredSkill, SkillLevel, matched, relaxes_at, restricting, score, why_not

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_an_agent_lacking_a_skill_or_its_level_is_told_which() -> None:
    required = [RequiredSkill(name="es", min_level=3), RequiredSkill(name="billing")]
    assert why_not({"billing": 1}, required) == "missing skill es"
    assert why_not({"es": 2, "billing": 1}, required) == "es level 2 below 3"
    assert why_not({"es": 3, "billing": 1}, required) is None


def test_a_relaxed_requirement_no_longer_restricts_but_still_scores() -> None:
    required = [RequiredSkill(name="es", min_level=3, relaxed=True), RequiredSkill(name="billing", min_level=2)]
    assert [r.name for r in restricting(required)] == ["billing"]
    assert why_not({"billing": 2}, required) is None
    assert score({"billing": 2}, required) == 2
    assert score({"billing": 2, "es": 4}, required) == 6
    assert matched({"billing": 2, "es": 4, "fr": 5}, required) == "es 4, billing 2"


def test_relaxation_counts_from_the_later_of_entry_and_being_set() -> None:
    requirement = RequiredSkill(name="es", relax_after_seconds=60, set_at=T0 + timedelta(seconds=30))
    assert relaxes_at(requirement, T0) == T0 + timedelta(seconds=90)
    assert relaxes_at(requirement, T0 + timedelta(minutes=5)) == T0 + timedelta(minutes=6)
    assert relaxes_at(requirement, None) is None
    assert relaxes_at(requirement.model_copy(update={"relaxed": True}), T0) is None
    assert relaxes_at(RequiredSkill(name="es"), T0) is None


@pytest.mark.parametrize("bad", [{"name": "", "level": 1}, {"name": "a b", "level": 1}, {"name": "x" * 65, "level": 1},
                                 {"name": "es", "level": 0}, {"name": "es", "level": 6}])
def test_names_and_levels_are_bounded(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SkillLevel.model_validate(bad)
