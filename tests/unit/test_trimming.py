"""Trimming agrees with the document: a string is blank to the server exactly when the
pattern \\S (ECMAScript's, as JSON Schema validators read it) says it holds nothing. Python's
str.strip() took U+001C..U+001F for space, and the fuzz test found a tag named U+001F refused."""

from __future__ import annotations

import jsonschema_rs
import pytest
from pydantic import ValidationError

from api.schemas import WHITE_SPACE, strip_space
from api.tags import TagIn

NOT_BLANK = jsonschema_rs.validator_for({"type": "string", "pattern": r"\S"})
CHARACTERS = [chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000]


def test_what_is_trimmed_is_what_the_pattern_calls_space():
    space = {c for c in CHARACTERS if not NOT_BLANK.is_valid(c)}
    assert set(WHITE_SPACE) == space
    assert all(bool(strip_space(c)) == NOT_BLANK.is_valid(c) for c in map(chr, range(0x10000)) if c in space
               or c.isspace() or c < " ")


@pytest.mark.parametrize("name", ["\x1f", "\x1c", "\x85", "a\x1f"])
def test_a_name_the_document_calls_valid_is_taken(name: str):
    assert NOT_BLANK.is_valid(name)
    assert TagIn.model_validate({"name": name}).name == name


@pytest.mark.parametrize("name", [" ", "\ufeff", "\u3000\t", "\u2028"])
def test_a_name_the_document_calls_blank_is_refused(name: str):
    assert not NOT_BLANK.is_valid(name)
    with pytest.raises(ValidationError):
        TagIn.model_validate({"name": name})
