"""/ccaas/1/webhooks: subscriptions to events out, their deliveries and replays (supervisors).

A subscription's signing secret (`whsec_...`, Standard Webhooks) is answered once: at
creation and at rotation. A bot's `webhookUrl` (api.bots) is a subscription too, with its
`botId`: it is listed here, and its deliveries are read here.

What is checked when one is saved, where it may point above all, is in api.webhook_checks."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator, Field, StrictBool
from pydantic_core import PydanticCustomError
from sqlmodel import Session, col, select

from api.deps import SessionDep
from api.errors import ApiError, bad_request, not_found
from api.paging import DEFAULT_LIMIT, order_by_param, page_of, parse_paging
from api.schemas import ApiInput, ApiModel, IsoTime, Pagination, UtcTime, pagination, read_only
from api.webhook_checks import WebhookUrl, check_destination, check_room
from domain.events_out import EVENT_TYPES
from domain.models import utcnow
from store import subscriptions as subscription_store
from store.events_out import DELIVERED, FAILED, PENDING
from store.tables import WebhookAttemptRow, WebhookDeliveryRow, WebhookSubscriptionRow
from store.webhooks import retry_now

router = APIRouter(prefix="/ccaas/1/webhooks", tags=["webhooks"])

MAX_DESCRIPTION = 1000


def _known_event_type(value: str) -> str:
    if value not in EVENT_TYPES:
        raise PydanticCustomError("event_type", f"unknown event type '{value}'; known: {', '.join(EVENT_TYPES)}")
    return value


def _deduplicated(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


EventTypeName = Annotated[str, AfterValidator(_known_event_type), Field(json_schema_extra={"enum": list(EVENT_TYPES)})]


class DeliveryState(str, Enum):
    PENDING = PENDING
    DELIVERED = DELIVERED
    FAILED = FAILED


class WebhookIn(ApiInput):
    """A subscription, whole: a PUT replaces every field (those left out take their defaults)."""

    url: WebhookUrl = Field(description="Where events are posted: http or https")
    event_types: Annotated[list[EventTypeName], AfterValidator(_deduplicated)] = Field(
        default_factory=list, max_length=100,
        description="The event types to receive (repeats are kept once); empty: every type",
    )
    enabled: StrictBool = True
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    # A fetched subscription sent back: its answer-only fields are tolerated and ignored
    # (`disabledReason` is cleared by enabling it). Not `secret`, which no GET answers: given,
    # it is refused, lest a client believe it chose its secret.
    id: str | None = read_only()
    disabled_reason: str | None = read_only()
    bot_id: str | None = read_only()
    created_at: IsoTime | None = read_only()
    updated_at: IsoTime | None = read_only()


class WebhookOut(ApiModel):
    id: str
    url: str
    event_types: list[str]
    enabled: bool
    description: str | None
    # Why Switchboard disabled it (a receiver's 410 Gone), else null.
    disabled_reason: str | None
    # The bot whose `webhookUrl` this is, else null.
    bot_id: str | None
    created_at: UtcTime
    updated_at: UtcTime


class WebhookWithSecret(WebhookOut):
    """Answered at creation and rotation only: the signing secret is never shown again."""

    secret: str


class WebhookListOut(ApiModel):
    webhooks: list[WebhookOut]
    pagination: Pagination


class AttemptOut(ApiModel):
    at: UtcTime
    # The receiver's answer, or null with `error` when none came (a timeout, a refused connection).
    status_code: int | None
    error: str | None
    duration_ms: int
    # The answer's first bytes.
    response_prefix: str | None


class DeliveryOut(ApiModel):
    id: str
    # The webhook-id header: the same on every attempt and replay.
    event_id: str
    event_type: str
    state: DeliveryState
    # How many times it was sent (the attempts of `attemptLog`).
    attempts: int
    next_attempt_at: UtcTime | None
    last_status_code: int | None
    last_error: str | None
    created_at: UtcTime
    updated_at: UtcTime
    attempt_log: list[AttemptOut]


class DeliveryListOut(ApiModel):
    deliveries: list[DeliveryOut]
    pagination: Pagination


def webhook_out(row: WebhookSubscriptionRow) -> WebhookOut:
    return WebhookOut.of(row)


def _subscription(session: Session, webhook_id: str) -> WebhookSubscriptionRow:
    row = session.get(WebhookSubscriptionRow, webhook_id)
    if row is None:
        raise not_found("Webhook")
    return row


def _deliveries_out(session: Session, rows: list[WebhookDeliveryRow]) -> list[DeliveryOut]:
    log: dict[str, list[AttemptOut]] = {row.id: [] for row in rows}
    if rows:
        attempts = session.exec(
            select(WebhookAttemptRow).where(col(WebhookAttemptRow.delivery_id).in_(list(log)))
            .order_by(col(WebhookAttemptRow.at), col(WebhookAttemptRow.id))
        ).all()
        for attempt in attempts:
            log[attempt.delivery_id].append(AttemptOut.of(attempt))
    return [DeliveryOut.of(row, attempts=len(log[row.id]), attempt_log=log[row.id]) for row in rows]


ORDERABLE = {
    "createdAt": col(WebhookSubscriptionRow.created_at),
    "updatedAt": col(WebhookSubscriptionRow.updated_at),
    "url": col(WebhookSubscriptionRow.url),
    "id": col(WebhookSubscriptionRow.id),
}
DELIVERY_ORDERABLE = {
    "createdAt": col(WebhookDeliveryRow.created_at),
    "updatedAt": col(WebhookDeliveryRow.updated_at),
}


@router.get("", response_model=WebhookListOut)
def list_webhooks(
    session: SessionDep,
    page: int = 0,
    limit: int = DEFAULT_LIMIT,
    order_by: str | None = order_by_param(ORDERABLE, "createdAt (default), updatedAt, url or id, "
                                          "then :asc (default) or :desc"),
):
    """Every subscription, bots' included (with their `botId`); never their secrets."""
    paging = parse_paging(page, limit, order_by, set(ORDERABLE), "createdAt:asc")
    rows, total = page_of(session, select(WebhookSubscriptionRow), paging, ORDERABLE[paging.field],
                          col(WebhookSubscriptionRow.id))
    return {
        "webhooks": [webhook_out(row).model_dump(by_alias=True, mode="json") for row in rows],
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }


@router.post("", status_code=201, response_model=WebhookWithSecret)
def create_webhook(body: WebhookIn, request: Request, session: SessionDep) -> WebhookWithSecret:
    """201 with the subscription and its signing secret, shown this once. 409 when there are
    100 subscriptions already (bots' included)."""
    check_destination(request, "url", body.url)
    subscription_store.lock_subscriptions(session)
    check_room(session)
    row = subscription_store.add_subscription(session, body.url, body.event_types, body.enabled, body.description)
    session.commit()
    return WebhookWithSecret(**webhook_out(row).model_dump(), secret=row.secret)


@router.get("/{webhook_id}", response_model=WebhookOut)
def get_webhook(webhook_id: str, session: SessionDep) -> WebhookOut:
    return webhook_out(_subscription(session, webhook_id))


@router.put("/{webhook_id}", response_model=WebhookOut)
def update_webhook(webhook_id: str, body: WebhookIn, request: Request, session: SessionDep) -> WebhookOut:
    """Replaces url, eventTypes, enabled and description; enabling it again clears
    `disabledReason`. Its secret stays (see POST /{webhookId}/secret)."""
    check_destination(request, "url", body.url)
    row = _subscription(session, webhook_id)
    row.url, row.event_types, row.description = body.url, body.event_types, body.description
    if body.enabled:
        row.disabled_reason = None
    row.enabled, row.updated_at = body.enabled, utcnow()
    session.add(row)
    session.commit()
    return webhook_out(row)


@router.delete("/{webhook_id}", response_model=WebhookOut)
def delete_webhook(webhook_id: str, session: SessionDep) -> WebhookOut:
    """The deleted subscription; its deliveries go with it, and nothing more is sent. A bot's
    subscription deleted here is its `webhookUrl` cleared."""
    row = _subscription(session, webhook_id)
    deleted = webhook_out(row)
    subscription_store.remove_subscription(session, row)
    session.commit()
    return deleted


@router.post("/{webhook_id}/secret", response_model=WebhookWithSecret)
def rotate_secret(webhook_id: str, session: SessionDep) -> WebhookWithSecret:
    """A new signing secret, shown this once; the old one signs nothing more from now on
    (a retry of an earlier event is signed with the new one)."""
    row = _subscription(session, webhook_id)
    row.secret, row.updated_at = subscription_store.new_secret(), utcnow()
    session.add(row)
    session.commit()
    return WebhookWithSecret(**webhook_out(row).model_dump(), secret=row.secret)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryListOut)
def list_deliveries(
    session: SessionDep,
    webhook_id: str,
    state: DeliveryState | None = None,
    event_type: str | None = Query(default=None, alias="eventType", json_schema_extra={"enum": list(EVENT_TYPES)}),
    page: int = 0,
    limit: int = DEFAULT_LIMIT,
    order_by: str | None = order_by_param(DELIVERY_ORDERABLE, "createdAt (default) or updatedAt, "
                                          "then :asc or :desc (default)"),
):
    """The subscription's deliveries, newest first, each with its attempts oldest first."""
    paging = parse_paging(page, limit, order_by, set(DELIVERY_ORDERABLE), "createdAt:desc")
    if event_type is not None and event_type not in EVENT_TYPES:
        raise bad_request("eventType", f"unknown event type '{event_type}'")
    _subscription(session, webhook_id)
    query = select(WebhookDeliveryRow).where(WebhookDeliveryRow.subscription_id == webhook_id)
    if state is not None:
        query = query.where(WebhookDeliveryRow.state == state.value)
    if event_type is not None:
        query = query.where(WebhookDeliveryRow.event_type == event_type)
    rows, total = page_of(session, query, paging, DELIVERY_ORDERABLE[paging.field], col(WebhookDeliveryRow.id))
    return {
        "deliveries": [delivery.model_dump(by_alias=True, mode="json") for delivery in _deliveries_out(session, rows)],
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }


@router.post("/{webhook_id}/deliveries/{delivery_id}/retry", status_code=202, response_model=DeliveryOut)
def retry_delivery(webhook_id: str, delivery_id: str, session: SessionDep) -> DeliveryOut:
    """202: the delivery is due again now, whatever its state, and goes out within a moment
    under the same webhook-id, on a fresh retry schedule. 409 while the webhook is disabled."""
    subscription = _subscription(session, webhook_id)
    row = session.get(WebhookDeliveryRow, delivery_id)
    if row is None or row.subscription_id != webhook_id:
        raise not_found("Delivery")
    if not subscription.enabled:
        raise ApiError(409, "The webhook is disabled; enable it first")
    retry_now(session, row, utcnow())
    session.commit()
    return _deliveries_out(session, [row])[0]

