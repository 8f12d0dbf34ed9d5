"""/ccaas/1/bots: chatbots that serve queues. A bot's API key is shown once, at creation
or rotation, and kept only as a salted hash.

A bot's `webhookUrl` is a webhook subscription of its own (api.webhooks, with its `botId`):
it receives the events of the conversations in the queues the bot serves. Its signing
secret is answered once, when the URL is first set, and again at each rotation."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import Field, StrictBool
from sqlmodel import Session, col, select

from api.deps import SessionDep
from api.errors import ApiError, not_found
from api.paging import order_by_param, page_of, parse_paging
from api.schemas import ApiInput, ApiKeyOut, ApiModel, IsoTime, Pagination, UtcTime, pagination, read_only
from api.webhook_checks import WebhookUrl, check_destination, check_room
from domain.models import ActorType, utcnow
from store import bots as bot_store
from store import keys
from store.subscriptions import (
    add_subscription,
    bot_subscriptions,
    lock_subscriptions,
    new_secret,
    remove_subscription,
)
from store.tables import BotRow, WebhookSubscriptionRow

router = APIRouter(prefix="/ccaas/1/bots", tags=["bots"])


class BotIn(ApiInput):
    display_name: str = Field(min_length=1, max_length=255)
    enabled: StrictBool = True
    webhook_url: WebhookUrl | None = Field(
        default=None,
        description="Where the events of the conversations in its queues are posted (http or https); "
                    "null: none. Left out of a PUT: unchanged.",
    )
    # A fetched bot sent back: its answer-only fields are tolerated and ignored. Not the
    # secrets a change or the creation answers once (webhookSecret, apiKey): no GET has them.
    id: str | None = read_only()
    webhook_id: str | None = read_only()
    created_at: IsoTime | None = read_only()
    updated_at: IsoTime | None = read_only()
    deleted_at: IsoTime | None = read_only()


class BotOut(ApiModel):
    id: str
    display_name: str
    enabled: bool
    webhook_url: str | None
    # Its webhook subscription (/ccaas/1/webhooks/{id}, with the deliveries), when it has a URL.
    webhook_id: str | None
    created_at: UtcTime
    updated_at: UtcTime
    deleted_at: UtcTime | None


class BotChangedOut(BotOut):
    """The answer to a change: `webhookSecret` is the signing secret of a webhook this change
    created (a `webhookUrl` set where there was none), shown this once; else null."""

    webhook_secret: str | None


class BotWithKey(BotChangedOut):
    api_key: str


class BotWebhookSecretOut(ApiModel):
    """The bot's webhook's new signing secret, shown this once."""

    webhook_secret: str


class BotListOut(ApiModel):
    bots: list[BotOut]
    pagination: Pagination


def bot_out(row: BotRow, webhook: WebhookSubscriptionRow | None) -> BotOut:
    return BotOut.of(row, webhook_url=webhook.url if webhook else None, webhook_id=webhook.id if webhook else None)


def _webhook(session: Session, bot_id: str) -> WebhookSubscriptionRow | None:
    return bot_subscriptions(session, [bot_id]).get(bot_id)


def _changed(row: BotRow, webhook: WebhookSubscriptionRow | None, created: bool) -> BotChangedOut:
    return BotChangedOut(**bot_out(row, webhook).model_dump(),
                         webhook_secret=webhook.secret if created and webhook else None)


def _set_webhook(session: Session, bot_id: str, webhook: WebhookSubscriptionRow | None,
                 url: str | None) -> tuple[WebhookSubscriptionRow | None, bool]:
    """The bot's webhook after its `webhookUrl` is given as `url` (under lock_subscriptions),
    and whether it is new. A new URL re-enables a webhook Switchboard disabled (the old
    receiver answered 410); one a supervisor disabled stays so."""
    if url is None:
        if webhook is not None:
            remove_subscription(session, webhook)
        return None, False
    if webhook is None:
        check_room(session)
        return add_subscription(session, url, [], bot_id=bot_id), True
    if webhook.url != url:
        webhook.url, webhook.updated_at = url, utcnow()
        if webhook.disabled_reason is not None:
            webhook.enabled, webhook.disabled_reason = True, None
        session.add(webhook)
    return webhook, False


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
    session: SessionDep,
    page: int = 0,
    limit: int = 20,
    order_by: str | None = order_by_param(["displayName", "createdAt"]),
):
    orderable = {"displayName": BotRow.display_name, "createdAt": BotRow.created_at}
    paging = parse_paging(page, limit, order_by, set(orderable), "createdAt:asc")
    query = select(BotRow).where(col(BotRow.deleted_at).is_(None))
    rows, total = page_of(session, query, paging, orderable[paging.field], BotRow.id)
    webhooks = bot_subscriptions(session, [row.id for row in rows])
    return {
        "bots": [bot_out(row, webhooks.get(row.id)).model_dump(by_alias=True) for row in rows],
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }


@router.post("", status_code=201, response_model=BotWithKey)
def create_bot(body: BotIn, request: Request, session: SessionDep) -> BotWithKey:
    """201 with its API key and, if a `webhookUrl` is given, its webhook's signing secret:
    both shown this once. 409 when there are 100 webhook subscriptions already."""
    if body.webhook_url is not None:
        check_destination(request, "webhookUrl", body.webhook_url)
        lock_subscriptions(session)
    now = utcnow()
    row = BotRow(id=str(uuid.uuid4()), created_at=now, updated_at=now,
                 **body.model_dump(include={"display_name", "enabled"}))
    session.add(row)
    session.flush()
    key = _new_key(session, row)
    webhook, created = _set_webhook(session, row.id, None, body.webhook_url)
    session.commit()
    return BotWithKey(**_changed(row, webhook, created).model_dump(), api_key=key)


@router.get("/{bot_id}", response_model=BotOut)
def get_bot(bot_id: str, session: SessionDep) -> BotOut:
    row = session.get(BotRow, bot_id)
    if row is None:
        raise not_found("Bot")
    return bot_out(row, _webhook(session, bot_id))


@router.put("/{bot_id}", response_model=BotChangedOut)
def update_bot(bot_id: str, body: BotIn, request: Request, session: SessionDep) -> BotChangedOut:
    """Replaces displayName and enabled; `webhookUrl` changes only when given (null removes
    the bot's webhook). `webhookSecret` is answered when this creates the webhook."""
    url_given = "webhook_url" in body.model_fields_set
    if url_given:
        if body.webhook_url is not None:
            check_destination(request, "webhookUrl", body.webhook_url)
        lock_subscriptions(session)
    row = _live(session, bot_id)
    row.display_name, row.enabled, row.updated_at = body.display_name, body.enabled, utcnow()
    session.add(row)
    webhook, created = _webhook(session, bot_id), False
    if url_given:
        webhook, created = _set_webhook(session, bot_id, webhook, body.webhook_url)
    session.commit()
    return _changed(row, webhook, created)


@router.delete("/{bot_id}", response_model=BotOut)
def delete_bot(bot_id: str, session: SessionDep) -> BotOut:
    """Refused (409) while it serves a queue. Its key stops working and its webhook is deleted."""
    lock_subscriptions(session)  # no webhook is made for it meanwhile
    row = _live(session, bot_id)
    served = bot_store.queues_served(session, bot_id)
    if served:
        raise ApiError(409, f"Bot serves {len(served)} queue(s); give them another bot or none first")
    row.deleted_at = row.updated_at = utcnow()
    session.add(row)
    keys.disable_keys(session, ActorType.BOT.value, bot_id)
    _set_webhook(session, bot_id, _webhook(session, bot_id), None)
    session.commit()
    return bot_out(row, None)


@router.post("/{bot_id}/api-key", response_model=ApiKeyOut)
def rotate_bot_key(bot_id: str, session: SessionDep) -> ApiKeyOut:
    """A new key; every earlier key of this bot stops working at once."""
    row = _live(session, bot_id)
    keys.disable_keys(session, ActorType.BOT.value, bot_id)
    key = _new_key(session, row)
    session.commit()
    return ApiKeyOut(api_key=key)


@router.post("/{bot_id}/webhook-secret", response_model=BotWebhookSecretOut)
def rotate_webhook_secret(bot_id: str, session: SessionDep) -> BotWebhookSecretOut:
    """A new signing secret for the bot's webhook, shown this once; the old one signs nothing
    more. 409 when the bot has no `webhookUrl`."""
    _live(session, bot_id)
    webhook = _webhook(session, bot_id)
    if webhook is None:
        raise ApiError(409, "Bot has no webhookUrl; set one first")
    webhook.secret, webhook.updated_at = new_secret(), utcnow()
    session.add(webhook)
    session.commit()
    return BotWebhookSecretOut(webhook_secret=webhook.secret)
