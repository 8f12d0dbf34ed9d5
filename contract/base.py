"""What every answer shares: camelCase on the wire, exactly the fields a model names, and
UTC times with milliseconds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema
from pydantic.alias_generators import to_camel

from domain.models import as_utc


def format_time(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


UtcTime = Annotated[
    datetime, PlainSerializer(format_time, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class ApiModel(BaseModel):
    """Output: camelCase on the wire, and exactly the fields the model names.

    Unknown fields are forbidden rather than only checked by the fuzz test: the document then
    says `additionalProperties: false` (pydantic writes it), and a field an endpoint answers
    that its model lacks fails (500) wherever it is answered, in every test, instead of being
    dropped without a word by FastAPI's response_model. Answers read rows and domain objects by
    attribute (`from_attributes`, `of`), so a column the answer does not name is never taken."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", from_attributes=True,
        # Every field is answered, those with a default too: the document requires them all.
        json_schema_serialization_defaults_required=True,
    )

    @classmethod
    def of(cls, source: object, **values: Any) -> Self:
        """The answer read from `source` (a row, a domain object) by field name, `values` over it."""
        read = {name: getattr(source, name) for name in cls.model_fields
                if name not in values and hasattr(source, name)}
        return cls(**read, **values)
