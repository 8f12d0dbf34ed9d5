"""Bot queries. Bots are soft-deleted so timelines can still name them."""

from __future__ import annotations

from sqlmodel import Session, col, select

from store.tables import BotRow, QueueRow


def live_bot(session: Session, bot_id: str) -> BotRow | None:
    row = session.get(BotRow, bot_id)
    return row if row is not None and row.deleted_at is None else None


def queues_served(session: Session, bot_id: str) -> list[str]:
    return list(session.exec(
        select(QueueRow.id).where(QueueRow.bot_id == bot_id, col(QueueRow.deleted_at).is_(None))
    ).all())
