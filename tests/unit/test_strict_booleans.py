"""Where the document says boolean, a request takes only true or false: never 0, 1 or "true"
(pydantic's lax bool took those, and `isPrivate: 0` passed a Literal[False])."""

from __future__ import annotations

from typing import Any, cast

import pytest
from pydantic import BaseModel, ValidationError
from temporalio.client import Client

from api.app import create_app
from api.schemas import ApiInput
from store.db import make_engine

DOCUMENT = create_app(make_engine("sqlite://"), temporal=cast(Client, None), task_queue="unused").openapi()
SCHEMAS = DOCUMENT["components"]["schemas"]
NOT_BOOLEANS = [0, 1, 0.0, "true", "false", "", [], {}]


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[1]} if "$ref" in node else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def _input_schemas() -> set[str]:
    """Every schema a request body names, and those they name in turn."""
    names = _refs([op.get("requestBody", {}) for ops in DOCUMENT["paths"].values() for op in ops.values()])
    while True:
        more = _refs([SCHEMAS[name] for name in names]) - names
        if not more:
            return names
        names |= more


def _is_boolean(schema: dict[str, Any]) -> bool:
    kinds = [part for part in schema.get("anyOf", [schema]) if part.get("type") != "null"]
    return bool(kinds) and all(part.get("type") == "boolean" or isinstance(part.get("const"), bool) for part in kinds)


def _models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    pending: list[type[BaseModel]] = [ApiInput]
    while pending:
        model = pending.pop()
        found[model.__name__] = model
        pending.extend(model.__subclasses__())
    return found


BOOLEAN_FIELDS = sorted(
    (name, field) for name in _input_schemas() for field, schema in SCHEMAS[name].get("properties", {}).items()
    if _is_boolean(schema)
)


def test_the_document_has_boolean_inputs_to_check():
    assert ("QueueUpdateIn", "isPrivate") in BOOLEAN_FIELDS and len(BOOLEAN_FIELDS) > 20


@pytest.mark.parametrize(("schema", "field"), BOOLEAN_FIELDS)
def test_a_boolean_field_refuses_what_is_not_true_or_false(schema: str, field: str):
    model = _models()[schema.removesuffix("-Input")]
    for value in NOT_BOOLEANS:
        with pytest.raises(ValidationError) as refused:
            model.model_validate({field: value})
        assert any(error["loc"] == (field,) for error in refused.value.errors()), (schema, field, value)
    for value in (True, False):
        try:
            model.model_validate({field: value})
        except ValidationError as error:  # other fields may be missing; this one is fine
            assert all(problem["loc"] != (field,) for problem in error.errors()) or (
                field == "isPrivate" and value is True), (schema, field, value)
