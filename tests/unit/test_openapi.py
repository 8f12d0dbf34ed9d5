"""The API's OpenAPI document is valid and describes the answers the API really gives."""

from __future__ import annotations

from typing import cast

from openapi_spec_validator import validate
from temporalio.client import Client

from api.app import create_app
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
