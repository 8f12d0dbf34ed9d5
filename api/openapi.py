"""The OpenAPI document as the API really answers: 400 in the spec's error shape, never
FastAPI's default 422 body, and the App key scheme."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "requestError": {
            "type": "object",
            "properties": {
                "serviceException": {
                    "type": "object",
                    "properties": {
                        "messageId": {
                            "type": "string",
                            "enum": ["BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND",
                                     "CONFLICT", "TOO_MANY_REQUESTS", "GENERAL_ERROR"],
                        },
                        "text": {"type": "string"},
                        "validationErrors": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                    "required": ["messageId", "text"],
                }
            },
        }
    },
}
ERRORS = {"400": "Bad request", "401": "Missing or unknown API key", "403": "Not allowed",
          "404": "Not found", "409": "Conflict"}
PUBLIC = {"/health"}


def _hoist_defs(node: Any, schemas: dict[str, Any]) -> None:
    """Moves schemas nested as `$defs` (from hand-written request bodies) to components."""
    if isinstance(node, dict):
        for name, schema in node.pop("$defs", {}).items():
            schemas.setdefault(name, schema)
        for value in node.values():
            _hoist_defs(value, schemas)
    elif isinstance(node, list):
        for value in node:
            _hoist_defs(value, schemas)


def api_document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["Error"] = ERROR_SCHEMA
    _hoist_defs(document["paths"], schemas)
    components["securitySchemes"] = {
        "App": {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`App <apiKey>`"}
    }
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path, operations in document["paths"].items():
        for operation in operations.values():
            responses = operation["responses"]
            responses.pop("422", None)
            if path in PUBLIC:
                continue
            operation["security"] = [{"App": []}]
            for status, description in ERRORS.items():
                responses.setdefault(status, {"description": description, **error})
    app.openapi_schema = document
    return document
