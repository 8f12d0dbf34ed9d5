"""Out of hours: whether a queue a conversation is put in is closed now, and the auto-reply a
conversation gets there, stored as an outbound SYSTEM message when the projection writes the
OUT_OF_HOURS event.

Which hours a queue keeps is store.working_hours' rule (its own enabled hours, else the
enabled default, else none: always open).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from domain.conversation import ConversationEvent, ConversationState, EventType
from domain.messages import AuthorType, Channel, Direction
from domain.models import OutOfHours
from domain.working_hours import is_open
from store.db import session_scope
from store.tables import ConversationEventRow, MessageRow, QueueRow
from store.working_hours import hours_of, working_hours_of_queue

# An out-of-hours message's id is derived from its event (conversation id, seq): a retried
# projection writes it once.
MESSAGE_ID_NAMESPACE = uuid.UUID("8a3e6f0d-51c4-4b7a-9e22-d41f6b0c9e57")
# The message API's channels: a message is stored only on one of them.
MESSAGE_CHANNELS = frozenset(channel.value for channel in Channel)


def out_of_hours_of(session: Session, queue: QueueRow, at: datetime) -> OutOfHours | None:
    """The verdict on `queue` at `at`: None while it is open (or has no hours)."""
    row = working_hours_of_queue(session, queue)
    if row is None or is_open(hours_of(row), at):
        return None
    return OutOfHours(working_hours_id=row.id, message=row.message.strip() or None,
                      close_conversation=row.close_conversations)


def out_of_hours_message_id(conversation_id: str, seq: int) -> str:
    return str(uuid.uuid5(MESSAGE_ID_NAMESPACE, f"{conversation_id}\n{seq}"))


def out_of_hours_messages(
    session: Session, state: ConversationState, events: list[ConversationEvent]
) -> list[MessageRow]:
    """The outbound SYSTEM message of each OUT_OF_HOURS event with an auto-reply, to be
    stored with the events (its id derived from the event). It is addressed as a reply on the
    conversation's channel: that of its first stored message, else its own; with no channel,
    or not both addresses (ours and the customer's), known, no message (the event still
    carries the text): a reply with an empty `from` or `to` could not be sent."""
    replies = [(event, event.out_of_hours.message) for event in events
               if event.type == EventType.OUT_OF_HOURS and event.out_of_hours and event.out_of_hours.message]
    address = _reply_address(session, state) if replies else None
    if address is None:
        return []
    channel, from_, to = address
    return [
        MessageRow(
            id=out_of_hours_message_id(state.id, event.seq), conversation_id=state.id,
            direction=Direction.OUTBOUND.value, author_type=AuthorType.SYSTEM.value, author_id=None,
            channel=channel, from_=from_, to=to, content_type="TEXT", content={"text": text},
            recorded_at=event.at, created_at=event.at, updated_at=event.at,
        )
        for event, text in replies
    ]


def _reply_address(session: Session, state: ConversationState) -> tuple[str, str, str] | None:
    """(channel, from, to) of a reply to the customer (outbound: `from` our side's address,
    `to` the customer's), or None where the channel or either address is not known."""
    first = session.exec(
        select(MessageRow).where(MessageRow.conversation_id == state.id)
        .order_by(col(MessageRow.created_at), col(MessageRow.id)).limit(1)
    ).first()
    if first is not None:
        inbound = first.direction == Direction.INBOUND.value
        address = first.channel, first.to if inbound else first.from_, first.from_ if inbound else first.to
    elif state.channel is None or state.channel.upper() not in MESSAGE_CHANNELS:
        return None
    else:
        # The conversation's `from` is the customer's address, its `to` ours.
        address = state.channel.upper(), state.to or "", state.from_ or ""
    channel, ours, customers = address
    if not ours.strip() or not customers.strip():
        return None
    return channel, ours, customers


def closed_out_of_hours(session: Session, conversation_id: str) -> bool:
    """Whether the conversation was closed by entering a queue out of hours whose hours close
    conversations: its CLOSED event follows right on an OUT_OF_HOURS event that closes (the
    workflow records them so, in one change)."""
    rows = session.exec(
        select(ConversationEventRow).where(ConversationEventRow.conversation_id == conversation_id)
        .order_by(col(ConversationEventRow.seq).desc()).limit(2)
    ).all()
    if len(rows) < 2:
        return False
    closed, before = rows
    out_of_hours = before.body.get("out_of_hours") or {}
    return (closed.type == EventType.CLOSED.value and before.type == EventType.OUT_OF_HOURS.value
            and before.seq == closed.seq - 1 and bool(out_of_hours.get("close_conversation")))


def read_closed_out_of_hours(engine: Engine, conversation_id: str) -> bool:
    """closed_out_of_hours, read in a transaction of its own."""
    with session_scope(engine) as session:
        return closed_out_of_hours(session, conversation_id)
