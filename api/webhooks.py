"""/ccaas/1/webhooks: subscriptions to events out, their deliveries and replays (supervisors).

A subscription's signing secret (`whsec_...`, Standard Webhooks) is answered once: at
creation and at rotation. A bot's `webhookUrl` (api.bots) is a subscription too, with its
`botId`: it is listed here, and its deliveries are read here.

Where a webhook may point is checked when it is saved (and again by the courier at every
send, as DNS may change): an http(s) URL with a host and no credentials, and, unless the
app allows private networks (SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE), only globally routable
addresses, literal or resolved (domain.webhook_urls.address_problem)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator, Field, StrictBool, StringConstraints
from pydantic_core import PydanticCustomError
from sqlalchemy import delete, func, text
from sqlmodel import Session, col, select

from api.deps import SessionDep
from api.errors import ApiError, bad_request, not_found
from api.paging import DEFAULT_LIMIT, order_by_param, page_of, parse_paging
from api.schemas import ApiInput, ApiModel, IsoTime, Pagination, UtcTime, pagination, read_only
from domain.events_out import EVENT_TYPES
from domain.models import utcnow
from domain.webhook_urls import (
    MAX_URL_LENGTH,
    host_of,
    needs_resolving,
    refused_destination,
    url_problem,
)
from store.db import take_write_lock
from store.events_out import DELIVERED, FAILED, PENDING
from store.tables import WebhookAttemptRow, WebhookDeliveryRow, WebhookSubscriptionRow
from store.webhooks import retry_now

router = APIRouter(prefix="/ccaas/1/webhooks", tags=["webhooks"])

MAX_SUBSCRIPTIONS = 100
MAX_DESCRIPTION = 1000
# Random bytes of a signing secret: Standard Webhooks asks for 24 to 64.
SECRET_BYTES = 24
# How long a save waits for DNS; a name that does not answer by then is accepted, as one
# that does not resolve is (the courier checks again before every request).
RESOLVE_SECONDS = 3.0
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-resolve")

# What url_problem accepts, narrowed to what a receiver's address looks like: a host name
# (labels of letters, digits and hyphens) or an IP address (IPv6 in brackets), a port
# 1-65535, then a path, query or fragment of visible ASCII.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_URL = (rf"[Hh][Tt][Tt][Pp][Ss]?://(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]+\])"
        rf"(?::{_PORT})?(?:[/?#][!-~]*)?")
URL_SHAPE = re.compile(_URL)
# The document's pattern: the same around optional whitespace (inputs are trimmed).
URL_PATTERN = rf"^\s*{_URL}\s*$"


def _valid_url(value: str) -> str:
    value = value.strip()
    problem = url_problem(value)
    if problem is None and not URL_SHAPE.fullmatch(value):
        problem = ("must be http(s)://host[:port][/path], the host a name or an IP address "
                   "(IPv6 in brackets), without spaces")
    if problem:
        raise PydanticCustomError("webhook_url", problem)
    return value


def _known_event_type(value: str) -> str:
    if value not in EVENT_TYPES:
        raise PydanticCustomError("event_type", f"unknown event type '{value}'; known: {', '.join(EVENT_TYPES)}")
    return value


def _deduplicated(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


WebhookUrl = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_URL_LENGTH),
    AfterValidator(_valid_url), Field(json_schema_extra={"pattern": URL_PATTERN}),
]
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


# Subscriptions' rules that span rows (at most MAX_SUBSCRIPTIONS, one per bot) hold under
# concurrent saves: they take turns (SQLite: its write lock; PostgreSQL: this advisory lock).
_LOCK_KEY = int.from_bytes(hashlib.sha256(b"switchboard webhook subscriptions").digest()[:8], "big", signed=True)


def lock_subscriptions(session: Session) -> None:
    """Must be the transaction's first statement (see store.db.take_write_lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    else:
        take_write_lock(session)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def destination_problem(url: str, allow_private: bool) -> str | None:
    """Why a webhook may not be sent to this (syntactically valid) URL here, or None."""
    if allow_private:
        return None
    host = host_of(url)
    resolved: list[str] = []
    if needs_resolving(host):
        try:
            found = _resolver.submit(socket.getaddrinfo, host, None, type=socket.SOCK_STREAM).result(RESOLVE_SECONDS)
        except (OSError, UnicodeError, TimeoutError):
            return None  # best effort: the courier checks again at every send
        resolved = [str(info[4][0]) for info in found]
    problem = refused_destination(host, resolved)
    return None if problem is None else f"{problem}: webhooks go to public addresses only"


def check_destination(request: Request, field: str, url: str) -> None:
    if (problem := destination_problem(url, request.app.state.webhook_allow_private)) is not None:
        raise bad_request(field, problem)


def check_room(session: Session) -> None:
    """Under lock_subscriptions: one more subscription fits."""
    count = session.exec(select(func.count()).select_from(WebhookSubscriptionRow)).one()
    if count >= MAX_SUBSCRIPTIONS:
        raise ApiError(409, f"At most {MAX_SUBSCRIPTIONS} webhook subscriptions (bots' included); "
                            "delete one first")


def add_subscription(session: Session, url: str, event_types: list[str], enabled: bool = True,
                     description: str | None = None, bot_id: str | None = None) -> WebhookSubscriptionRow:
    """Under lock_subscriptions, after check_room."""
    now = utcnow()
    row = WebhookSubscriptionRow(
        id=str(uuid.uuid4()), url=url, event_types=event_types, enabled=enabled, description=description,
        secret=new_secret(), bot_id=bot_id, created_at=now, updated_at=now,
    )
    session.add(row)
    return row


def remove_subscription(session: Session, row: WebhookSubscriptionRow) -> None:
    """The subscription with its deliveries and their attempts (a delivery in flight finds
    itself gone and records nothing more)."""
    deliveries = select(WebhookDeliveryRow.id).where(WebhookDeliveryRow.subscription_id == row.id)
    session.exec(delete(WebhookAttemptRow).where(col(WebhookAttemptRow.delivery_id).in_(deliveries)))
    session.exec(delete(WebhookDeliveryRow).where(col(WebhookDeliveryRow.subscription_id) == row.id))
    session.delete(row)


def bot_subscriptions(session: Session, bot_ids: list[str]) -> dict[str, WebhookSubscriptionRow]:
    """The subscription of each of these bots that has a `webhookUrl`."""
    if not bot_ids:
        return {}
    rows = session.exec(select(WebhookSubscriptionRow).where(col(WebhookSubscriptionRow.bot_id).in_(bot_ids))
                        .order_by(col(WebhookSubscriptionRow.created_at))).all()
    return {row.bot_id: row for row in rows if row.bot_id is not None}


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
    lock_subscriptions(session)
    check_room(session)
    row = add_subscription(session, body.url, body.event_types, body.enabled, body.description)
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
    remove_subscription(session, row)
    session.commit()
    return deleted


@router.post("/{webhook_id}/secret", response_model=WebhookWithSecret)
def rotate_secret(webhook_id: str, session: SessionDep) -> WebhookWithSecret:
    """A new signing secret, shown this once; the old one signs nothing more from now on
    (a retry of an earlier event is signed with the new one)."""
    row = _subscription(session, webhook_id)
    row.secret, row.updated_at = new_secret(), utcnow()
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

