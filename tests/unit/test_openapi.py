"""The API's OpenAPI document is valid and describes the answers the API really gives."""

from __future__ import annotations

import re
from typing import cast

import pytest
from openapi_spec_validator import validate
from pydantic import TypeAdapter, ValidationError
from temporalio.client import Client

from api.app import create_app
from api.schemas import IsoTime
from store.db import make_engine


def document() -> dict:
    # The document is built from the routes alone: no database or Temporal is touched.
    return create_app(make_engine("sqlite://"), temporal=cast(Client, None), task_queue="unused").openapi()


def test_the_document_is_valid_openapi():
    validate(document())


def test_every_guarded_operation_documents_the_error_shape_and_the_key():
    for path, operations in document()["paths"].items():
        for operation in operations.values():
            assert "422" not in operation["responses"], path
            if path != "/health":
                assert operation["security"] == [{"App": []}], path
                assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }


def test_the_routing_put_documents_its_rule_array():
    body = document()["paths"]["/ccaas/1/routing"]["put"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["type"] == "array" and body["schema"]["maxItems"] == 999
    # Infobip's CreateRuleApiRequest: a rule's name is optional.
    assert {"queueId", "expression"} <= set(body["schema"]["items"]["required"])


def test_lists_document_their_paging_bounds_and_order_fields():
    parameters = {p["name"]: p["schema"] for p in document()["paths"]["/ccaas/1/queues"]["get"]["parameters"]}
    assert (parameters["page"]["minimum"], parameters["page"]["maximum"]) == (0, 1_000_000)
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 999)
    pattern = re.compile(parameters["orderBy"]["pattern"])
    assert all(pattern.search(v) for v in ("", "name", "name:desc", "createdAt:asc"))
    assert not any(pattern.search(v) for v in ("nope", "name:up", "name:"))


def test_every_guarded_operation_documents_503_and_a_body_413():
    for path, operations in document()["paths"].items():
        for operation in operations.values():
            if path != "/health":
                assert "503" in operation["responses"], path
                assert ("413" in operation["responses"]) == ("requestBody" in operation), path
    assert "200" in document()["paths"]["/ccaas/1/conversations"]["post"]["responses"]


def test_fields_that_refuse_null_are_not_documented_nullable():
    schemas = document()["components"]["schemas"]
    assert schemas["QueueUpdateIn"]["properties"]["isRestricted"] == {"type": "boolean", "title": "Isrestricted"}
    assert "anyOf" not in schemas["ConversationChangeIn"]["properties"]["queueId"]
    assert schemas["EmailIn"]["properties"]["address"]["pattern"]


def test_times_documented_as_date_time_refuse_numbers():
    # pydantic alone would read `?createdAfter=0.5` as Unix time; the document says date-time.
    times = TypeAdapter(IsoTime)
    assert times.validate_python("2024-05-01T10:00:00.000+0000").year == 2024
    for number in ("0.5", 0, "1e5", " 12 "):
        with pytest.raises(ValidationError):
            times.validate_python(number)


def test_input_strings_that_must_not_be_empty_must_hold_more_than_whitespace():
    # Inputs are trimmed before their length is checked: "  " is an empty name.
    name = document()["components"]["schemas"]["QueueIn"]["properties"]["name"]
    assert name["minLength"] == 1 and name["pattern"] == r"\S"


def test_parameters_are_never_null():
    for operations in document()["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                assert {"type": "null"} not in parameter["schema"].get("anyOf", []), parameter
    status = next(p for p in document()["paths"]["/ccaas/1/conversations"]["get"]["parameters"]
                  if p["name"] == "status")
    assert status["schema"]["type"] == "array" and "OPEN" in status["schema"]["items"]["pattern"]


def test_every_answer_with_a_body_documents_its_schema():
    # A client generated from the document is right about every answer: no 2xx is `{}` or
    # left without a schema; only a 204 has no body.
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2"):
                    continue
                where = (method.upper(), path, status)
                if status == "204":
                    assert "content" not in response, where
                    continue
                content = response.get("content", {})
                # JSON, or the live stream's server-sent events (text, an event per message).
                media = content.get("application/json") or content.get("text/event-stream") or {}
                assert media.get("schema") not in (None, {}), where


def test_every_object_of_the_document_is_closed():
    # An answer carrying a field its schema does not name fails the fuzz test's schema check.
    for name, schema in document()["components"]["schemas"].items():
        if "properties" in schema:
            assert schema.get("additionalProperties") is False, name


def test_the_domain_enums_keep_their_schema_names_and_values():
    # AgentStatus and AutoAssignmentAlgorithm live in domain/ (the store uses them too); the
    # document names and lists them as it did when the routers defined them.
    schemas = document()["components"]["schemas"]
    assert schemas["AgentStatus"] == {
        "type": "string", "enum": ["ACTIVE", "BUSY", "AWAY", "INVISIBLE"], "title": "AgentStatus",
    }
    assert schemas["AutoAssignmentAlgorithm"] == {
        "type": "string", "enum": ["LOAD_BALANCING", "ROUND_ROBIN", "PERFORMANCE_BASED"],
        "title": "AutoAssignmentAlgorithm",
    }
