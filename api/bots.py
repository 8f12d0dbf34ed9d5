"""/ccaas/1/bots: chatbots that serve queues. A bot's API key is shown once, at creation
or rotation, and kept only as a salted hash."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends
from pydantic import Field, StrictBool
from sqlmodel import Session, col, select

from api.deps import db
from api.errors import ApiError, not_found
from api.paging import order_by_param, page_of, parse_paging
from api.schemas import ApiInput, ApiKeyOut, ApiModel, Pagination, UtcTime, pagination
from domain.models import ActorType, utcnow
from store import bots as bot_store
from store import keys
from store.tables import BotRow

router = APIRouter(prefix="/ccaas/1/bots", tags=["bots"])


class BotIn(ApiInput):
    display_name: str = Field(min_length=1, max_length=255)
    enabled: StrictBool = True


class BotOut(ApiModel):
    id: str
    display_name: str
    enabled: bool
    created_at: UtcTime
    updated_at: UtcTime
    deleted_at: UtcTime | None


class BotWithKey(BotOut):
    api_key: str


class BotListOut(ApiModel):
    bots: list[BotOut]
    pagination: Pagination


def bot_out(row: BotRow) -> BotOut:
    return BotOut.of(row)


def _new_key(session: Session, bot: BotRow) -> str:
    key = keys.new_key()
    keys.store_key(session, key, principal_type=ActorType.BOT.value, principal_id=bot.id, name=bot.display_name)
    return key


def _live(session: Session, bot_id: str) -> BotRow:
    row = bot_store.live_bot(session, bot_id)
    if row is None:
        raise not_found("Bot")
    return row


@router.get("", response_model=BotListOut)
def list_bots(
    page: int = 0,
    limit: int = 20,
    order_by: str | None = order_by_param(["displayName", "createdAt"]),
    session: Session = Depends(db),
):
    orderable = {"displayName": BotRow.display_name, "createdAt": BotRow.created_at}
    paging = parse_paging(page, limit, order_by, set(orderable), "createdAt:asc")
    query = select(BotRow).where(col(BotRow.deleted_at).is_(None))
    rows, total = page_of(session, query, paging, orderable[paging.field], BotRow.id)
    return {
        "bots": [bot_out(row).model_dump(by_alias=True) for row in rows],
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }


@router.post("", status_code=201, response_model=BotWithKey)
def create_bot(body: BotIn, session: Session = Depends(db)) -> BotWithKey:
    now = utcnow()
    row = BotRow(id=str(uuid.uuid4()), created_at=now, updated_at=now, **body.model_dump())
    session.add(row)
    session.flush()
    key = _new_key(session, row)
    session.commit()
    return BotWithKey(**bot_out(row).model_dump(), api_key=key)


@router.get("/{bot_id}", response_model=BotOut)
def get_bot(bot_id: str, session: Session = Depends(db)) -> BotOut:
    row = session.get(BotRow, bot_id)
    if row is None:
        raise not_found("Bot")
    return bot_out(row)


@router.put("/{bot_id}", response_model=BotOut)
def update_bot(bot_id: str, body: BotIn, session: Session = Depends(db)) -> BotOut:
    row = _live(session, bot_id)
    row.display_name, row.enabled, row.updated_at = body.display_name, body.enabled, utcnow()
    session.add(row)
    session.commit()
    return bot_out(row)


@router.delete("/{bot_id}", response_model=BotOut)
def delete_bot(bot_id: str, session: Session = Depends(db)) -> BotOut:
    row = _live(session, bot_id)
    served = bot_store.queues_served(session, bot_id)
    if served:
        raise ApiError(409, f"Bot serves {len(served)} queue(s); give them another bot or none first")
    row.deleted_at = row.updated_at = utcnow()
    session.add(row)
    keys.disable_keys(session, ActorType.BOT.value, bot_id)
    session.commit()
    return bot_out(row)


@router.post("/{bot_id}/api-key", response_model=ApiKeyOut)
def rotate_bot_key(bot_id: str, session: Session = Depends(db)) -> ApiKeyOut:
    """A new key; every earlier key of this bot stops working at once."""
    row = _live(session, bot_id)
    keys.disable_keys(session, ActorType.BOT.value, bot_id)
    key = _new_key(session, row)
    session.commit()
    return ApiKeyOut(api_key=key)
