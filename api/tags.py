"""/ccaas/1/tags: tags as a resource. Conversations are tagged by name
(`/ccaas/1/conversations/{id}/tags`); a name used there for the first time becomes a tag
here too (the projection creates it, see `store.tags.ensure_tags`)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from api.conversation_fields import Tag
from api.deps import PrincipalDep, SessionDep
from api.errors import ApiError, not_found
from api.paging import DEFAULT_LIMIT, order_by_param, page_of, parse_paging
from api.permissions import visible_queues
from api.schemas import ApiInput, ApiModel, Pagination, StatusCodeOut, UtcTime, pagination
from domain.models import utcnow
from store import conversations as conversation_store
from store import tags as tag_store
from store.tables import ConversationRow, ConversationTagRow, TagRow

router = APIRouter(prefix="/ccaas/1/tags", tags=["tags"])


class TagIn(ApiInput):
    name: Tag  # as a conversation's tag: 1..255 characters, trimmed


class TagOut(ApiModel):
    id: str
    name: str
    created_at: UtcTime
    updated_at: UtcTime


class TagDeletedOut(StatusCodeOut, TagOut):
    """The deleted tag, with Infobip's StatusCodeResponse fields."""

    message: str = "Tag deleted"


class TagListOut(ApiModel):
    tags: list[TagOut]
    pagination: Pagination


def tag_out(row: TagRow) -> TagOut:
    return TagOut.of(row)


ORDERABLE = {
    "name": col(TagRow.name),
    "createdAt": col(TagRow.created_at),
    "updatedAt": col(TagRow.updated_at),
    "id": col(TagRow.id),
}


@router.get("", response_model=TagListOut)
def list_tags(
    principal: PrincipalDep,
    session: SessionDep,
    request: Request,
    conversation_id: str | None = Query(
        default=None, alias="conversationId", max_length=36,
        description="Only the tags this conversation carries (none if the caller may not see it).",
    ),
    name: str | None = Query(
        default=None, max_length=255, description="Tags whose name contains this, ignoring case.",
    ),
    page: int = Query(default=0),
    limit: int = Query(default=DEFAULT_LIMIT),
    order_by: str | None = order_by_param(ORDERABLE, "name, createdAt, updatedAt or id, then :asc or :desc"),
):
    paging = parse_paging(page, limit, order_by, set(ORDERABLE), "name:asc")
    query = select(TagRow)
    if name:
        query = query.where(func.lower(TagRow.name).contains(name.lower(), autoescape=True))
    if conversation_id is not None:
        carried = (
            select(ConversationTagRow.tag_name)
            .join(ConversationRow, col(ConversationRow.id) == ConversationTagRow.conversation_id)
            .where(ConversationTagRow.conversation_id == conversation_id)
        )
        # Agents and bots see only the tags of conversations they may work.
        visible = visible_queues(request.app.state.engine, principal)
        if visible is not None:
            carried = carried.where(conversation_store.visible_to(*visible))
        query = query.where(col(TagRow.name).in_(carried))
    rows, total = page_of(session, query, paging, ORDERABLE[paging.field], col(TagRow.id))
    return {
        "tags": [tag_out(row).model_dump(by_alias=True, mode="json") for row in rows],
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }


@router.post("", status_code=201, response_model=TagOut, responses={200: {"model": TagOut}})
def create_tag(body: TagIn, response: Response, session: SessionDep) -> TagOut:
    """201 with the new tag; 200 with the existing one if the name is taken already
    (creating a tag is idempotent: tagging a conversation creates tags too)."""
    existing = tag_store.tag_by_name(session, body.name)
    if existing is not None:
        response.status_code = 200
        return tag_out(existing)
    now = utcnow()
    row = TagRow(id=str(uuid.uuid4()), name=body.name, created_at=now, updated_at=now)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        # Made meanwhile by another request or a conversation's projection: it is that one.
        session.rollback()
        existing = tag_store.tag_by_name(session, body.name)
        if existing is None:
            raise
        response.status_code = 200
        return tag_out(existing)
    return tag_out(row)


@router.delete("/{tag_name}", response_model=TagDeletedOut)
def delete_tag(tag_name: str, session: SessionDep) -> TagDeletedOut:
    """Refused (409) while an open conversation carries the tag: untag those first. Closed
    conversations keep the tag in their fields and timeline."""
    row = tag_store.tag_by_name(session, tag_name)
    if row is None:
        raise not_found("Tag")
    deleted = tag_out(row)
    if not tag_store.delete_tag_if_unused(session, tag_name):
        session.rollback()
        count = tag_store.open_conversations_carrying(session, tag_name)
        if not count:  # deleted meanwhile by another request
            raise not_found("Tag")
        raise ApiError(409, f"Tag is carried by {count} open conversation(s)")
    session.commit()
    return TagDeletedOut(**deleted.model_dump())
