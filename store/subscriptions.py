"""Webhook subscriptions (a webhook, or a bot's `webhookUrl` with its `botId`): saved in turns,
so that the rules spanning rows (at most MAX_SUBSCRIPTIONS, one per bot) hold whatever runs
at once, and removed with their deliveries."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid

from sqlalchemy import delete, func, text
from sqlmodel import Session, col, select

from domain.models import utcnow
from store.db import take_write_lock
from store.tables import WebhookAttemptRow, WebhookDeliveryRow, WebhookSubscriptionRow

MAX_SUBSCRIPTIONS = 100
# Random bytes of a signing secret: Standard Webhooks asks for 24 to 64.
SECRET_BYTES = 24
# Saves take turns: SQLite by its write lock, PostgreSQL by this advisory lock.
_LOCK_KEY = int.from_bytes(hashlib.sha256(b"switchboard webhook subscriptions").digest()[:8], "big", signed=True)


def lock_subscriptions(session: Session) -> None:
    """Must be the transaction's first statement (see store.db.take_write_lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    else:
        take_write_lock(session)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def has_room(session: Session) -> bool:
    """Under lock_subscriptions: whether one more subscription fits."""
    count = session.exec(select(func.count()).select_from(WebhookSubscriptionRow)).one()
    return count < MAX_SUBSCRIPTIONS


def add_subscription(session: Session, url: str, event_types: list[str], enabled: bool = True,
                     description: str | None = None, bot_id: str | None = None) -> WebhookSubscriptionRow:
    """Under lock_subscriptions, after has_room."""
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
