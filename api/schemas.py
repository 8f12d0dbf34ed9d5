"""Shared pieces of the API's JSON: inputs (camelCase only, trimmed, strict), the times a client
gives, paging. Answers build on the outward contract (contract.base: camelCase, UTC times with
milliseconds), whose base and time type the routers take from here too."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin, overload

from annotated_types import MinLen
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from contract.base import ApiModel
from contract.base import UtcTime as UtcTime
from contract.conversations import TraceOut as TraceOut


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_NUMBER = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*")


def _not_a_number(value: Any) -> Any:
    """pydantic would read a number as Unix time; the document (and Infobip) say date-time."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("must be an ISO-8601 date-time")
    return value


# A time a client gives (a filter, or a fetched object's time sent back): ISO-8601, never a number.
IsoTime = Annotated[datetime, BeforeValidator(_not_a_number)]


def not_nullable(schema: dict[str, Any]) -> None:
    """A field's `json_schema_extra`: it may be left out but not given as null (the handler
    refuses null), so the document drops the null the `| None` default would add."""
    variants = [variant for variant in schema.pop("anyOf", []) if variant != {"type": "null"}]
    if len(variants) == 1:
        schema.update(variants[0])


def trimmed_strings(schema: dict[str, Any]) -> None:
    """An input's strings are trimmed, so one that must not be empty must hold something other
    than whitespace: the document says so with a pattern."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if (node.get("type") == "string" and node.get("minLength", 0) >= 1
                    and not {"pattern", "enum", "format"} & set(node)):
                node["pattern"] = r"\S"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema.get("properties", {}))


def _requires_text(annotation: Any, metadata: list[Any]) -> bool:
    """Whether a string (or a list's string) may not be empty: a minimum length at its level."""
    for item in metadata:
        if isinstance(item, MinLen | StringConstraints) and (item.min_length or 0) >= 1:
            return True
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _requires_text(args[0], list(args[1:]))
    if origin in (Union, UnionType):
        return any(_requires_text(arg, []) for arg in args)
    return False


# What trimming removes: ECMAScript's \s, which JSON Schema's patterns use (the document's
# pattern \S, and the validators that check requests against it). Python's str.strip() also
# takes U+001C..U+001F and U+0085 and leaves U+FEFF: a name of U+001F passed the document and
# was refused as blank.
WHITE_SPACE = ("\t\n\v\f\r \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
               + "\u2028\u2029\u202f\u205f\u3000\ufeff")


def strip_space(value: str) -> str:
    return value.strip(WHITE_SPACE)


def _trimmed(value: str, requires_text: bool) -> str:
    trimmed = strip_space(value)
    if requires_text and not trimmed:
        raise PydanticCustomError("string_blank", "must hold more than whitespace")
    return trimmed


def _is_integer(annotation: Any) -> bool:
    """`int`, `int | None`, or either Annotated."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _is_integer(args[0])
    if origin in (Union, UnionType):
        return any(_is_integer(arg) for arg in args)
    return annotation is int


def _is_boolean(annotation: Any) -> bool:
    """`bool`, `Literal[False]` (or True), either `| None`, or Annotated: a JSON boolean."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _is_boolean(args[0])
    if origin in (Union, UnionType):
        kinds = [arg for arg in args if arg is not type(None)]
        return bool(kinds) and all(_is_boolean(arg) for arg in kinds)
    if origin is Literal:
        return all(isinstance(arg, bool) for arg in args)
    return annotation is bool


def strict_boolean(value: Any) -> Any:
    """A boolean is JSON's true or false, never 0, 1 or "true": pydantic's lax bool, and a
    Literal[False] (0 == False), would take those."""
    if value is not None and not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "must be true or false")
    return value


def _item_type(annotation: Any) -> Any:
    """The item type of a `list[...]` field, through `| None` and Annotated."""
    for candidate in (annotation, *get_args(annotation)):
        while get_origin(candidate) is Annotated:
            candidate = get_args(candidate)[0]
        if get_origin(candidate) is list:
            return get_args(candidate)[0]
    return None


class ApiInput(ApiModel):
    """Input: camelCase only, strings trimmed, and (as for every ApiModel) an unknown field is
    an error, not silently dropped.

    A string's length is checked as sent, and then it is trimmed: the document's minLength and
    maxLength are then exactly what the server enforces (padding never slips a long string
    past maxLength). One that must not be empty must hold a non-space, which the document
    says with the pattern \\S."""

    model_config = ConfigDict(populate_by_name=False, json_schema_extra=trimmed_strings)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_as_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """An integer is JSON's 609 or 609.0 (one number to JSON Schema), never "609" or true:
        pydantic's lax int would take those, its strict int would refuse 609.0."""
        if info.field_name is None:
            return value
        annotation = cls.model_fields[info.field_name].annotation
        if isinstance(value, str | bool) and _is_integer(annotation):
            raise PydanticCustomError("int_type", "must be a whole number")
        # And a boolean is true or false, whether or not its field says StrictBool.
        if _is_boolean(annotation):
            return strict_boolean(value)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _trim_strings(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is None:
            return value
        field = cls.model_fields[info.field_name]
        # Plain strings only: an enum member is a str too, and stays what it is.
        if type(value) is str:
            return _trimmed(value, _requires_text(field.annotation, field.metadata))
        if isinstance(value, list) and any(type(item) is str for item in value):
            item_type = _item_type(field.annotation)
            requires_text = item_type is not None and _requires_text(item_type, [])
            return [_trimmed(item, requires_text) if type(item) is str else item for item in value]
        return value


READ_ONLY = "Read-only: accepted, so a fetched object can be sent back, and ignored"


def read_only() -> Any:
    """An answer's field that an input tolerates (a client sends back what it fetched) and
    ignores: never dumped, so it never reaches a row. Times in it take ISO-8601 and Infobip's
    `+0000` form, as every time in a body does."""
    return Field(default=None, exclude=True, description=READ_ONLY)


# A field a fetched object carries, sent back: its value is not ours to check beyond JSON.
Echoed = Any


class StatusCodeOut(ApiModel):
    """Infobip's StatusCodeResponse fields, carried beside our answer where Infobip documents it.
    An answer with them inherits this first (`class XWithStatus(StatusCodeOut, XOut)`), so they
    come after the object's fields, as `with_status` puts them."""

    # A 2xx is always SUCCESS: a failure answers the error shape.
    status_code: Literal["SUCCESS"] = "SUCCESS"
    message: str


def with_status(body: dict[str, Any], message: str) -> dict[str, Any]:
    """An answer (already camelCase) with Infobip's `statusCode` and `message` added."""
    return {**body, **StatusCodeOut(message=message).model_dump(by_alias=True)}


class ApiKeyOut(ApiModel):
    """A key, shown this once: at creation or rotation."""

    api_key: str


class Pagination(ApiModel):
    total_items: int
    page: int
    limit: int
    order_by: str


def pagination(total: int, page: int, limit: int, order_by: str) -> dict[str, Any]:
    return Pagination(total_items=total, page=page, limit=limit, order_by=order_by).model_dump(
        by_alias=True
    )
