"""Tags as a resource: queries, and the insert-if-missing that tagging a conversation uses.

A tag is a name. Conversations carry tags by name (`conversation_tags`, and the row's JSON
`tags`); the `tags` table lists the names in use, with an id and times, for `/ccaas/1/tags`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, delete, exists, func
from sqlmodel import Session, col, select

from domain.models import Status, utcnow
from store.db import insert_ignoring_duplicates
from store.tables import ConversationRow, ConversationTagRow, TagRow

# SQLModel makes __table__ for every table=True class but does not declare it.
TAGS: Table = TagRow.__table__  # type: ignore[attr-defined]


def ensure_tags(session: Session, names: Iterable[str]) -> None:
    """Creates the tags of these names that do not exist yet, in the caller's transaction.

    Idempotent and safe against racing writers: ON CONFLICT DO NOTHING on the unique name.
    On PostgreSQL the tags that exist are first locked FOR KEY SHARE until the caller
    commits, so a concurrent `delete_tag_if_unused` waits for this conversation's tags to be
    written and then sees them (it locks the tag FOR UPDATE before it checks); a tag deleted
    just before is created again here. SQLite runs one writer at a time."""
    wanted = sorted(set(names))
    if not wanted:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.exec(
            select(TagRow.id).where(col(TagRow.name).in_(wanted)).with_for_update(read=True, key_share=True)
        ).all()
    now = utcnow()
    insert_ignoring_duplicates(session, TAGS, [
        {"id": str(uuid.uuid4()), "name": name, "created_at": now, "updated_at": now}
        for name in wanted
    ])


def tag_by_name(session: Session, name: str) -> TagRow | None:
    return session.exec(select(TagRow).where(TagRow.name == name)).first()


def _carried_by_open_conversation(name: str) -> Any:
    return exists().where(
        col(ConversationTagRow.tag_name) == name,
        col(ConversationTagRow.conversation_id) == col(ConversationRow.id),
        col(ConversationRow.status) != Status.CLOSED.value,
    )


def open_conversations_carrying(session: Session, name: str) -> int:
    return session.exec(
        select(func.count())
        .select_from(ConversationTagRow)
        .join(ConversationRow, col(ConversationRow.id) == ConversationTagRow.conversation_id)
        .where(ConversationTagRow.tag_name == name, ConversationRow.status != Status.CLOSED.value)
    ).one()


def delete_tag_if_unused(session: Session, name: str) -> bool:
    """Deletes the tag unless an open conversation carries it; True if it was deleted.

    The check and the delete are one statement (atomic on SQLite), after the tag row is
    locked FOR UPDATE (PostgreSQL), which waits for projections that hold it (see
    `ensure_tags`)."""
    session.exec(select(TagRow.id).where(TagRow.name == name).with_for_update()).all()
    result = session.exec(
        delete(TagRow).where(col(TagRow.name) == name, ~_carried_by_open_conversation(name))
    )
    return bool(result.rowcount)
