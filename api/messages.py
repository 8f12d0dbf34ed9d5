"""/ccaas/1/conversations/{id}/messages: a conversation's messages, as Infobip shapes them.

A message is stored in SQL (the `messages` table) and then told to the conversation's
workflow (`record_message`): its first message becomes the `message.*` routing facts, and a
customer's message reopens a SOLVED conversation. Who the author is follows from the key
and the direction (`author_of`). Sending to the real channel is the channel integration's job.

If the workflow does not take the message in (no worker in time: 503), the message stays
stored: a retry with the same `externalId` finds it instead of storing it twice, and tells
the workflow again (which is harmless: the first message sets the facts only once, and only
a SOLVED conversation reopens). A refusal (the conversation closed meanwhile) removes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client, WorkflowFailureError
from temporalio.service import RPCError

from api.auth import Principal
from api.deps import PrincipalDep, SessionDep, TemporalDep, engine_of
from api.errors import ApiError, bad_request, not_found, unavailable
from api.paging import DEFAULT_LIMIT, order_by_param, page_of, parse_paging
from api.query_params import AFTER, BEFORE, enum_list_schema, enum_values, split_values
from api.schemas import (
    ApiInput,
    ApiModel,
    IsoTime,
    Pagination,
    as_utc,
    pagination,
    strip_space,
    trimmed_strings,
)
from api.workflow_updates import run_update
from contract.messages import CONTENT_DESCRIPTION, MessageOut, message_out
from domain.conversation import CLOSED_TEXT, MessageRecorded, workflow_id
from domain.messages import AuthorType, Channel, Direction, content_problem
from domain.models import ActorType, Status, utcnow
from store import events_out
from store import messages as message_store
from store import out_of_hours as out_of_hours_store
from store.db import session_scope
from store.out_of_hours import closed_out_of_hours
from store.tables import ConversationRow, MessageRow
from workflows.conversation import ConversationWorkflow

router = APIRouter(prefix="/ccaas/1/conversations", tags=["messages"])

# A repeated externalId within one conversation maps to one message id.
EXTERNAL_ID_NAMESPACE = uuid.UUID("2d0f5c3a-8b7e-4e61-9a51-6c2f0e4b7d19")
MAX_TEXT = 4096
# The column's width (store/tables.py: MessageRow.content_type).
MAX_CONTENT_TYPE = 32


class ContentType(str, Enum):
    """The content types whose `content` is checked: the common ones of Infobip's ContentType."""

    TEXT = "TEXT"
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    AUDIO = "AUDIO"
    DOCUMENT = "DOCUMENT"
    LOCATION = "LOCATION"


# Infobip's ContentType has 104 values, and INFOBIP.md (our copy of its document) gives only
# the count. Any name of that form is taken, so a ported client is never refused one of
# Infobip's; the content of the six above is checked, any other's is stored as sent.
CONTENT_TYPE_PATTERN = r"^[A-Z][A-Z0-9_]*$"
ContentTypeName = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_CONTENT_TYPE, pattern=CONTENT_TYPE_PATTERN),
    Field(description="One of Infobip's content types, e.g. TEXT, IMAGE, LOCATION, BUTTON, TEMPLATE"),
]


def _storable_content(content: dict[str, Any]) -> dict[str, Any]:
    problem = content_problem(content)
    if problem is not None:
        raise PydanticCustomError("content", problem)
    return content


Content = Annotated[dict[str, Any], AfterValidator(_storable_content), Field(description=CONTENT_DESCRIPTION)]


# What each checked content type's `content` must hold (beyond it, anything goes), as JSON
# Schema: the document carries it (`if contentType is X then content is ...`), and
# check_content enforces the same.
_NON_BLANK = {"type": "string", "minLength": 1, "pattern": r"\S"}
_NUMBER = {"type": "number"}
REQUIRED_CONTENT: dict[ContentType, dict[str, dict[str, Any]]] = {
    ContentType.TEXT: {"text": {**_NON_BLANK, "maxLength": MAX_TEXT}},
    ContentType.IMAGE: {"url": _NON_BLANK},
    ContentType.VIDEO: {"url": _NON_BLANK},
    ContentType.AUDIO: {"url": _NON_BLANK},
    ContentType.DOCUMENT: {"url": _NON_BLANK},
    ContentType.LOCATION: {"latitude": _NUMBER, "longitude": _NUMBER},
}


def _content_by_type(schema: dict[str, Any]) -> None:
    trimmed_strings(schema)
    schema["allOf"] = [
        {
            "if": {"properties": {"contentType": {"const": content_type.value}}, "required": ["contentType"]},
            "then": {"properties": {"content": {"required": list(fields), "properties": fields}}},
        }
        for content_type, fields in REQUIRED_CONTENT.items()
    ]


class MessageIn(ApiInput):
    """Infobip's CreateMessageApiRequest, and ours: `direction` (default OUTBOUND) and
    `externalId` (the client's id for the message: a retry with it never stores it twice)."""

    model_config = ConfigDict(json_schema_extra=_content_by_type)

    channel: Channel
    from_: str = Field(alias="from", min_length=1, max_length=255)
    to: str = Field(min_length=1, max_length=255)
    content_type: ContentTypeName
    content: Content
    direction: Direction = Direction.OUTBOUND
    external_id: str | None = Field(default=None, min_length=1, max_length=255)


class MessageListOut(ApiModel):
    messages: list[MessageOut]
    pagination: Pagination


def check_content(content_type: str, content: dict[str, Any]) -> str | None:
    """Refuses content its type cannot be; returns the text routing sees (TEXT only)."""
    if content_type not in ContentType.__members__:
        return None
    for name, rule in REQUIRED_CONTENT[ContentType(content_type)].items():
        value = content.get(name)
        if value is None:
            raise bad_request(f"content.{name}", f"required for contentType {content_type}")
        if rule["type"] == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise bad_request(f"content.{name}", "must be a number")
        elif not isinstance(value, str) or not strip_space(value):
            raise bad_request(f"content.{name}", "must be a non-blank string")
        elif len(value) > rule.get("maxLength", len(value)):
            raise bad_request(f"content.{name}", f"at most {rule['maxLength']} characters")
    return content["text"] if content_type == ContentType.TEXT.value else None


def author_of(principal: Principal, direction: Direction, customer_id: str | None) -> tuple[AuthorType, str | None]:
    """Who wrote it. An agent or supervisor writes OUTBOUND (a reply); INBOUND from a bot or a
    supervisor key is the channel integration relaying the customer (the author is the
    conversation's person, if known); OUTBOUND from a bot is the bot's."""
    actor = principal.actor
    if direction == Direction.INBOUND:
        if actor.type == ActorType.AGENT:
            raise bad_request("direction", "an agent's message is OUTBOUND (a reply)")
        return AuthorType.CUSTOMER, customer_id
    if actor.type == ActorType.BOT:
        return AuthorType.BOT, actor.id
    return AuthorType.AGENT, actor.id


def message_id(conversation_id: str, external_id: str | None) -> str:
    if external_id is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(EXTERNAL_ID_NAMESPACE, f"{conversation_id}\n{external_id}"))


def _store(engine: Engine, conversation_id: str, body: MessageIn, principal: Principal) -> tuple[MessageRow, bool]:
    """The stored message and whether this call stored it (False: a retry found it)."""
    # A transaction of its own, committed before the workflow hears of the message (a retry
    # then finds it), and refused here by HTTP status: who wrote it, to a closed conversation.
    with session_scope(engine) as session:
        conversation = session.get(ConversationRow, conversation_id)
        if conversation is None:
            raise not_found("Conversation")
        new_id = message_id(conversation_id, body.external_id)
        if body.external_id is not None and (existing := session.get(MessageRow, new_id)) is not None:
            return existing, False
        author_type, author_id = author_of(principal, body.direction, conversation.customer_id)
        kept_after_close = False
        if conversation.status == Status.CLOSED.value:
            customers = author_type == AuthorType.CUSTOMER
            if not (customers and _opening_message_of_out_of_hours_close(session, conversation_id)):
                raise ApiError(409, CLOSED_TEXT)
            kept_after_close = True
        now = utcnow()
        row = MessageRow(
            id=new_id, conversation_id=conversation_id, external_id=body.external_id,
            direction=body.direction.value, author_type=author_type.value, author_id=author_id,
            channel=body.channel.value, from_=body.from_, to=body.to,
            content_type=body.content_type, content=body.content,
            created_at=now, updated_at=now,
        )
        if kept_after_close:
            # Its workflow has ended: nothing to tell it. Taken in (and published) as stored.
            row.recorded_at = now
            events_out.publish(session, [events_out.message_created(row, conversation, now)])
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # the same externalId, stored meanwhile by a racing retry
            existing = session.get(MessageRow, new_id)
            if existing is None:
                raise
            return existing, False
        session.refresh(row)
        return row, True


def _opening_message_of_out_of_hours_close(session: Session, conversation_id: str) -> bool:
    """Whether a customer's message to this CLOSED conversation is the one it was opened for:
    it was closed out of hours (entering a queue whose hours close conversations) and holds no
    customer message yet. The channel integration creates the conversation for the customer's
    message and then posts that message: the close it triggered must not refuse it."""
    if not closed_out_of_hours(session, conversation_id):
        return False
    customers = session.exec(select(MessageRow.id).where(
        MessageRow.conversation_id == conversation_id, MessageRow.author_type == AuthorType.CUSTOMER.value,
    ).limit(1)).first()
    return customers is None


async def _closed_out_of_hours_meanwhile(request: Request, client: Client, conversation_id: str) -> bool:
    """After the workflow refused a message as closed: whether that close was out of hours.
    The workflow ends once its close is projected, so the store is read after its end (or the
    app's update deadline)."""
    handle = client.get_workflow_handle(workflow_id(conversation_id))
    # Whatever ends the wait, the store says what it holds.
    with contextlib.suppress(TimeoutError, WorkflowFailureError, RPCError):
        await asyncio.wait_for(handle.result(), request.app.state.update_deadline)
    return await run_in_threadpool(out_of_hours_store.read_closed_out_of_hours, engine_of(request), conversation_id)


@router.post("/{conversation_id}/messages", status_code=201, response_model=MessageOut,
             responses={200: {"model": MessageOut}})
async def create_message(
    conversation_id: str, body: MessageIn, request: Request,
    principal: PrincipalDep, client: TemporalDep,
):
    """201 with the stored message (200 with the one stored before for a repeated
    `externalId`). The conversation's workflow learns of it: a customer's message (INBOUND)
    reopens a SOLVED conversation, and the first message is the conversation's `message.*`
    routing facts. 409 on a closed conversation, but for the customer's message a
    conversation closed out of hours was opened for (kept, 201); 503 if the workflow does not
    answer in time (the message is kept: retry with the same `externalId`)."""
    text = check_content(body.content_type, body.content)
    engine = engine_of(request)
    row, stored_now = await run_in_threadpool(_store, engine, conversation_id, body, principal)
    if row.recorded_at is not None:  # a retry, or the customer's message after an out-of-hours close
        return JSONResponse(message_out(row), status_code=201 if stored_now else 200)
    recorded = MessageRecorded(
        actor=principal.actor, channel=row.channel, from_=row.from_, to=row.to, content=text,
        from_customer=row.author_type == AuthorType.CUSTOMER.value,
        # The first agent reply (SPEC "Service level"): a supervisor's or a bot's does not count.
        from_agent=row.direction == Direction.OUTBOUND.value and principal.actor.type == ActorType.AGENT,
    )
    try:
        await run_update(request, client, conversation_id, ConversationWorkflow.record_message, recorded)
    except ApiError as error:
        if error.status == 503:
            raise unavailable(
                f"Message {row.id} is stored, but the conversation's workflow did not take it in "
                "time; it does once a worker takes it up. Retry with the same externalId to "
                "learn the outcome without storing the message twice"
            ) from None
        customers = row.author_type == AuthorType.CUSTOMER.value
        if (stored_now and customers and error.status == 409
                and await _closed_out_of_hours_meanwhile(request, client, conversation_id)):
            # The customer wrote while the conversation was being closed out of hours: the
            # message arrived before the close took effect, so it is kept (not told to the
            # ended workflow).
            row = await run_in_threadpool(message_store.mark_recorded, engine, row.id)
            return JSONResponse(message_out(row), status_code=201)
        if stored_now:  # refused (closed meanwhile): nothing happened, the message neither
            await run_in_threadpool(message_store.remove, engine, row.id)
        raise
    row = await run_in_threadpool(message_store.mark_recorded, engine, row.id)
    return JSONResponse(message_out(row), status_code=201 if stored_now else 200)


ORDERABLE = {
    "createdAt": col(MessageRow.created_at),
    "updatedAt": col(MessageRow.updated_at),
    "id": col(MessageRow.id),
}


CHANNEL_LIST = enum_list_schema(Channel)
DIRECTION_LIST = enum_list_schema(Direction)


@router.get("/{conversation_id}/messages", response_model=MessageListOut)
def list_messages(
    conversation_id: str,
    session: SessionDep,
    message_ids: list[str] | None = Query(default=None, alias="messageIds"),
    channel: list[str] | None = Query(
        default=None, description="One or more of Infobip's channels", json_schema_extra=CHANNEL_LIST
    ),
    direction: list[str] | None = Query(
        default=None, description="INBOUND or OUTBOUND", json_schema_extra=DIRECTION_LIST
    ),
    created_after: IsoTime | None = Query(default=None, alias="createdAfter", description=AFTER),
    created_before: IsoTime | None = Query(default=None, alias="createdBefore", description=BEFORE),
    page: int = Query(default=0),
    limit: int = Query(default=DEFAULT_LIMIT),
    order_by: str | None = order_by_param(ORDERABLE, "createdAt (default, :asc), updatedAt or id, then :asc or :desc"),
):
    """The conversation's messages, oldest first unless `orderBy` says otherwise."""
    paging = parse_paging(page, limit, order_by, set(ORDERABLE), "createdAt:asc")
    where: list[Any] = []
    if (ids := split_values(message_ids)) is not None:
        where.append(col(MessageRow.id).in_(ids))
    if (channels := enum_values("channel", split_values(channel), Channel)) is not None:
        where.append(col(MessageRow.channel).in_(channels))
    if (directions := enum_values("direction", split_values(direction), Direction)) is not None:
        where.append(col(MessageRow.direction).in_(directions))
    if created_after is not None:
        where.append(col(MessageRow.created_at) >= as_utc(created_after))
    if created_before is not None:
        where.append(col(MessageRow.created_at) < as_utc(created_before))
    if session.get(ConversationRow, conversation_id) is None:
        raise not_found("Conversation")
    query = select(MessageRow).where(MessageRow.conversation_id == conversation_id, *where)
    rows, total = page_of(session, query, paging, ORDERABLE[paging.field], col(MessageRow.created_at),
                          col(MessageRow.id))
    return {
        "messages": [message_out(row) for row in rows],
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }
