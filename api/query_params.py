"""Query parameters: an unknown one is a 400 naming it (never silently ignored), checked once
for every API route; and the helpers the list filters share."""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from api.errors import ApiError, bad_request
from api.schemas import as_utc

# The API's routes (the console, an application of its own, never reaches this check).
API_PREFIXES = ("/ccaas/", "/people/")
UNKNOWN = "Unknown query parameter"
# How a time filter reads; After is inclusive, Before exclusive.
TIME_FORMS = "ISO-8601 or Infobip's yyyy-MM-dd'T'HH:mm:ss.SSS+0000; without an offset, UTC"
AFTER = f"At or after this time ({TIME_FORMS})"
BEFORE = f"Before this time ({TIME_FORMS})"



def _true_or_false(value: Any) -> Any:
    """A boolean filter is `true` or `false` (any case), never pydantic's lax 1, yes or on."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise PydanticCustomError("bool_type", "must be true or false")


# A boolean query parameter.
QueryBool = Annotated[bool | None, BeforeValidator(_true_or_false)]

# route -> the query parameters it declares (routes are built once, at start-up).
_declared: dict[int, frozenset[str]] = {}


def declared_query_params(dependant: Dependant) -> frozenset[str]:
    """The names (aliases) of the query parameters of an endpoint and all its dependencies."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= declared_query_params(sub)
    return frozenset(names)


def known_query_params(route: APIRoute) -> frozenset[str]:
    key = id(route)
    if key not in _declared:
        _declared[key] = declared_query_params(route.dependant)
    return _declared[key]


async def reject_unknown_query_params(request: Request) -> None:
    """An app-wide dependency: a query parameter the matched route does not declare is a 400."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.path.startswith(API_PREFIXES):
        return
    known = known_query_params(route)
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in known]
    if unknown:
        raise ApiError(
            400,
            f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            {name: [UNKNOWN] for name in unknown},
        )


def enum_list_schema(enum: type[Enum]) -> dict[str, Any]:
    """`json_schema_extra` of a repeatable filter of enum values: each given value is a
    comma-separated list of them (blanks ignored), as split_values reads it."""
    names = "|".join(re.escape(member.value) for member in enum)
    part = rf"\s*(?:(?:{names})\s*)?"
    return {"items": {"type": "string", "pattern": rf"^{part}(?:,{part})*$"}}


def split_values(values: list[str] | None) -> list[str] | None:
    """A repeatable filter: accepts both ?x=a&x=b and ?x=a,b."""
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def enum_values(name: str, values: list[str] | None, enum: type[Enum]) -> list[str] | None:
    """A list filter's values, each one of the enum's (else a 400 naming the parameter)."""
    allowed = {member.value for member in enum}
    for value in values or []:
        if value not in allowed:
            raise bad_request(name, f"must be one of {sorted(allowed)}")
    return values


def within_times(query: Any, bounds: list[tuple[Any, datetime | None, datetime | None]]) -> Any:
    """`query` narrowed by `…After` (inclusive) and `…Before` (exclusive) filters: each bound
    is a column and the two times given for it (None: not given)."""
    for column, after, before in bounds:
        if after is not None:
            query = query.where(column >= as_utc(after))
        if before is not None:
            query = query.where(column < as_utc(before))
    return query
