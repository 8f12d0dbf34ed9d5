"""Bot queries. Bots are soft-deleted so timelines can still name them."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, select

from store.tables import ApiKeyRow, BotRow, QueueRow


def live_bot(session: Session, bot_id: str) -> BotRow | None:
    row = session.get(BotRow, bot_id)
    return row if row is not None and row.deleted_at is None else None


def queues_served(session: Session, bot_id: str) -> list[str]:
    return list(session.exec(
        select(QueueRow.id).where(QueueRow.bot_id == bot_id, QueueRow.deleted_at.is_(None))
    ).all())


def disable_keys(session: Session, principal_type: str, principal_id: str) -> None:
    """Every key of this principal stops working at once (rotation, deletion)."""
    session.exec(
        update(ApiKeyRow)
        .where(ApiKeyRow.principal_type == principal_type, ApiKeyRow.principal_id == principal_id)
        .values(enabled=False)
    )
