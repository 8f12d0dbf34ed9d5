"""Skill rows read from a posted form into the API's lists (console.skill_rows), without a browser."""

from __future__ import annotations

import pytest

from console.forms import FormProblem
from console.skill_rows import HELD, held_body, posted, required_body, required_rows, shown


def test_rows_keep_their_order_drop_the_nameless_and_the_removed_one():
    form = {"skills": "rows", "skills-7-name": "billing", "skills-7-level": "2", "skills-2-name": "es",
            "skills-2-level": "3", "skills-9-name": " ", "skills-9-level": "1", "skills-4-name": "fr",
            "skills-4-level": "1"}
    assert posted(form, "skills", HELD) == [{"name": "es", "level": "3"}, {"name": "fr", "level": "1"},
                                            {"name": "billing", "level": "2"}]
    assert posted(form, "skills", HELD, removed="4") == [{"name": "es", "level": "3"},
                                                         {"name": "billing", "level": "2"}]
    assert held_body(posted(form, "skills", HELD)) == [{"name": "es", "level": 3}, {"name": "fr", "level": 1},
                                                       {"name": "billing", "level": 2}]
    assert shown(form, "skills", HELD) == posted(form, "skills", HELD)
    assert shown({"displayName": "Ada"}, "skills", HELD) is None  # another form: the API's list is shown


def test_a_requirements_empty_boxes_are_the_apis_defaults_and_a_word_is_refused_at_its_item():
    rows = [{"name": "es", "minLevel": "3", "relaxAfterSeconds": ""}, {"name": "billing", "minLevel": "",
                                                                       "relaxAfterSeconds": "0"}]
    assert required_body(rows) == [{"name": "es", "minLevel": 3}, {"name": "billing", "relaxAfterSeconds": 0}]
    with pytest.raises(FormProblem) as refused:
        required_body([*rows, {"name": "vip", "minLevel": "1", "relaxAfterSeconds": "soon"}])
    assert refused.value.path == "requiredSkills[2].relaxAfterSeconds"
    assert refused.value.message == "must be a whole number"


def test_requirements_from_the_api_as_rows():
    assert required_rows([{"name": "es", "minLevel": 2, "relaxAfterSeconds": None, "relaxed": False},
                          {"name": "billing", "minLevel": 1, "relaxAfterSeconds": 0, "relaxed": True}]) == [
        {"name": "es", "minLevel": "2", "relaxAfterSeconds": ""},
        {"name": "billing", "minLevel": "1", "relaxAfterSeconds": "0"}]
