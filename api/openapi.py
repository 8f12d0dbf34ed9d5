"""The OpenAPI document as the API really answers: 400 in the spec's error shape, never
FastAPI's default 422 body, the App key scheme, the paging bounds every list enforces, and
every error status an operation can answer (413 for a body too large, 503 when Temporal
cannot be reached)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import RETRY_AFTER_SECONDS
from api.limits import MAX_BODY_BYTES
from api.paging import MAX_LIMIT, MAX_PAGE

# Closed at every level, as the answer models are (see api.schemas.ApiModel).
ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["requestError"],
    "properties": {
        "requestError": {
            "type": "object",
            "additionalProperties": False,
            "required": ["serviceException"],
            "properties": {
                "serviceException": {
                    "type": "object",
                    "additionalProperties": False,
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
# Enforced by parse_paging for every list (a 400 naming the parameter).
PAGING_BOUNDS = {"page": {"minimum": 0, "maximum": MAX_PAGE}, "limit": {"minimum": 1, "maximum": MAX_LIMIT}}


def _no_null_parameters(operation: dict[str, Any]) -> None:
    """A parameter cannot be null on the wire: left out is its None. `anyOf [X, null]`
    becomes X, so a client neither sends `null` nor reads a filter as nullable."""
    for parameter in operation.get("parameters", []):
        schema = parameter["schema"]
        variants = [variant for variant in schema.get("anyOf", []) if variant != {"type": "null"}]
        if "anyOf" in schema and len(variants) == 1:
            del schema["anyOf"]
            # What was said beside the anyOf (a description, an items pattern) is kept over it.
            parameter["schema"] = {**variants[0], **schema}


def _bound_paging(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        bounds = PAGING_BOUNDS.get(parameter["name"]) if parameter.get("in") == "query" else None
        if bounds is None:
            continue
        schema = parameter["schema"]
        for variant in schema.get("anyOf", [schema]):
            if variant.get("type") == "integer":
                variant.update(bounds)


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
            _no_null_parameters(operation)
            _bound_paging(operation)
            for status, description in ERRORS.items():
                responses.setdefault(status, {"description": description, **error})
            if "requestBody" in operation:
                responses.setdefault("413", {
                    "description": f"Request body larger than {MAX_BODY_BYTES} bytes", **error})
            responses.setdefault("503", {
                "description": "Temporal cannot be reached now; nothing was changed. Try again after "
                f"Retry-After seconds ({RETRY_AFTER_SECONDS})",
                "headers": {"Retry-After": {"schema": {"type": "integer"}}}, **error,
            })
    app.openapi_schema = document
    return document
