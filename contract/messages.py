"""A conversation's message as the API answers it and message.created carries it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import Field

from contract.base import ApiModel, UtcTime
from domain.messages import MAX_CONTENT_BYTES, MAX_CONTENT_DEPTH, AuthorType, Channel, Direction, content_problem

CONTENT_DESCRIPTION = (
    f"A JSON object of at most {MAX_CONTENT_BYTES} bytes (as compact UTF-8 JSON) and "
    f"{MAX_CONTENT_DEPTH} levels of objects and arrays (content itself the first), numbers finite"
)


class MessageRecord(Protocol):
    """A message as the store holds it (store.tables.MessageRow), read by attribute."""

    id: str
    conversation_id: str
    external_id: str | None
    channel: str
    from_: str
    to: str
    direction: str
    author_type: str
    author_id: str | None
    content_type: str
    content: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class MessageOut(ApiModel):
    id: str
    conversation_id: str
    external_id: str | None
    channel: Channel
    from_: str = Field(alias="from")
    to: str
    direction: Direction
    author_type: AuthorType
    author_id: str | None
    content_type: str
    content: dict[str, Any] = Field(description=f"{CONTENT_DESCRIPTION}; {{}} when contentNotShown")
    # Ours: true when the stored content cannot be shown (one an older version stored beyond
    # what content may be now); `content` is then {}. The rest of the message is as stored.
    content_not_shown: bool = Field(
        default=False, description="Ours: the stored content is withheld (it is beyond what content may be)",
    )
    created_at: UtcTime
    updated_at: UtcTime


def message_out(row: MessageRecord) -> dict[str, Any]:
    """The message as answered. Content that may not be shown (see content_problem) is
    withheld, so no stored row can make a read fail."""
    if content_problem(row.content) is None:
        return MessageOut.of(row).model_dump(by_alias=True, mode="json")
    return MessageOut.of(row, content={}, content_not_shown=True).model_dump(by_alias=True, mode="json")
