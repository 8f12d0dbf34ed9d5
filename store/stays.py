"""Stays as rows (SPEC "Service level"): `stays`, `staffing_stays` and `stay_offers`, written
as a conversation's events are projected, so the statistics, staffing and the service level
of the day count rows by queue and moment instead of replaying timelines.

The rules are domain.stays' alone (`Tracker`): the projection goes on from where the
conversation's stays stood (`conversations.stays_state`, read with the row it locks anyway),
applies the new events and writes what they changed: an insert per stay or offer begun, an
update by primary key of a stay that was open. No aggregate is read in the projection's
transaction; the one other read is, for a stay begun in a conversation that already existed,
its first agent reply among its own messages (`ix_messages_conversation_created`), for a
reply stored before the projection that began the stay.

A stay's first agent reply is written when the message is stored (`reply_written`, called
by a listener on MessageRow's inserts in store.tables, so in the message's own transaction,
whoever writes it): an indexed update of the conversation's stay around its `created_at`.
An agent reply is an OUTBOUND message written as AGENT by an agent whose role is AGENT when
it is written (a replay reads the role when it runs: the migration's backfill). A message
removed (its workflow refused it) gives its stay the next reply, if any (`reply_removed`).

`rebuild` replays whole timelines (domain.stays.replay's reading): the migration's backfill,
and a projection that finds a conversation without `stays_state` (none once migrated).
A stay's estimate at entry is no part of its timeline: store.estimated_wait writes it after
the projection, and a rebuilt stay has none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, case, delete, func, insert, literal_column, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from domain.conversation import ConversationEvent, EventType
from domain.messages import AuthorType, Direction
from domain.models import ActorType, as_utc
from domain.stays import STAY_EVENT_TYPES, Move, OfferEvent, StaffingStay, Stay, StayEvent, Tracker, first_replies
from store.tables import (
    AgentRow,
    ConversationEventRow,
    ConversationRow,
    MessageRow,
    QueueMoveRow,
    StaffingStayRow,
    StayOfferRow,
    StayRow,
)

# SQLModel makes __table__ for every table=True class but does not declare it.
STAYS: Table = StayRow.__table__  # type: ignore[attr-defined]
STAFFING_STAYS: Table = StaffingStayRow.__table__  # type: ignore[attr-defined]
OFFERS: Table = StayOfferRow.__table__  # type: ignore[attr-defined]
MOVES: Table = QueueMoveRow.__table__  # type: ignore[attr-defined]
EVENTS: Table = ConversationEventRow.__table__  # type: ignore[attr-defined]
MESSAGES: Table = MessageRow.__table__  # type: ignore[attr-defined]
AGENTS: Table = AgentRow.__table__  # type: ignore[attr-defined]
CONVERSATIONS: Table = ConversationRow.__table__  # type: ignore[attr-defined]


# The projection's statements, built once (compiled once, cached): a stay answered, or ended,
# by primary key; a reply stored before the end was projected may lie past it, then it is
# not this stay's. A staffing stay's changes.
_THIS_STAY = (STAYS.c.conversation_id == bindparam("key_conversation"), STAYS.c.seq == bindparam("key_seq"))
STAY_ANSWERED = update(STAYS).where(*_THIS_STAY).values(
    answered_at=bindparam("answered_at"), with_bot=bindparam("with_bot"))
STAY_ENDED = update(STAYS).where(*_THIS_STAY).values(
    answered_at=bindparam("answered_at"), with_bot=bindparam("with_bot"), ended_at=bindparam("ended_at"),
    ended_by=bindparam("ended_by"),
    first_reply_at=case((STAYS.c.first_reply_at >= bindparam("end", type_=STAYS.c.ended_at.type), None),
                        else_=STAYS.c.first_reply_at))
STAFFING_CHANGED = update(STAFFING_STAYS).where(
    STAFFING_STAYS.c.conversation_id == bindparam("key_conversation"), STAFFING_STAYS.c.seq == bindparam("key_seq"),
).values(answered_at=bindparam("answered_at"), ended_at=bindparam("ended_at"), ended_by=bindparam("ended_by"),
         waited_until=bindparam("waited_until"))
INSERTS = {table: insert(table) for table in (STAYS, STAFFING_STAYS, OFFERS, MOVES)}


def on_postgresql(session: Session) -> bool:
    """Whether the reads may count and rank in SQL (on SQLite they read the columns)."""
    return session.get_bind().dialect.name == "postgresql"


def plan_for_these_values(session: Session) -> None:
    """PostgreSQL: plan each statement of this transaction for the values it runs with (the
    window's bounds), never once for any. psycopg prepares a statement run five times, and
    PostgreSQL then keeps its generic plan when that looks cheaper; it does for every read of
    a window, since it guesses a range of times holds a fraction of one per cent of the rows,
    and so reads 100,000 rows of a busy queue's hour through index and bitmap scans (the
    server's CPU for staffing's pass: 70 ms against 43 with the plan for the values; the
    stays' 129 against 98), or takes a still-waiting branch as the queue's whole history.
    Planning each time costs a fraction of a millisecond."""
    if on_postgresql(session):
        session.connection().exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


def seconds_between(begin: Any, moment: Any) -> Any:
    """PostgreSQL: seconds from `begin` to `moment`, a float8 as Python's total_seconds()."""
    return func.date_part("epoch", moment - begin)


def nearest_ranks(values: Any) -> Any:
    """PostgreSQL: [p50, p90] of `values`, nearest rank (the ceil(q*n)-th smallest: what
    percentile_disc picks), in one sort."""
    return func.percentile_disc(literal_column("ARRAY[0.5, 0.9]")).within_group(values)


def agent_reply_conditions() -> tuple[Any, ...]:
    """An agent's reply: written OUTBOUND as AGENT (an agent-role key or console session; a
    supervisor's too, told apart only by the author's role: none is stored with the message),
    by an agent whose role is AGENT."""
    agent_role = select(AGENTS.c.id).where(
        AGENTS.c.id == MESSAGES.c.author_id, AGENTS.c.role == ActorType.AGENT.value,
    ).exists()
    return (
        MESSAGES.c.direction == Direction.OUTBOUND.value,
        MESSAGES.c.author_type == AuthorType.AGENT.value,
        agent_role,
    )


def stay_event(event: ConversationEvent) -> StayEvent:
    """The parts of a projected event a stay reads (as `timelines` reads a stored one)."""
    status = None
    if event.type == EventType.STATUS_CHANGED:
        status = event.status.value if event.status is not None else event.reason
    return StayEvent(
        seq=event.seq, type=event.type.value, at=as_utc(event.at), from_queue_id=event.from_queue_id,
        to_queue_id=event.to_queue_id, agent_id=event.agent_id,
        expires_at=as_utc(event.expires_at) if event.expires_at is not None else None,
        status=status, closes=bool(event.out_of_hours and event.out_of_hours.close_conversation),
    )


def project(
    session: Session, conversation_id: str, state: dict[str, Any] | None, existed: bool,
    events: Sequence[ConversationEvent], queue_id: str | None, created_at: datetime,
) -> dict[str, Any]:
    """Writes what `events` (new, in seq order, already inserted) change in the conversation's
    stays and moves, from `state` (its `stays_state`); returns its columns after them
    (`conversation_columns`, for `queue_id`, the queue it is in now). A conversation that
    `existed` without a state is rebuilt from its whole timeline."""
    if existed and state is None:
        rebuilt = rebuild(session.connection(), [conversation_id])[conversation_id]
        return conversation_columns(Tracker(conversation_id, rebuilt), queue_id, created_at)
    tracker = Tracker(conversation_id, state)
    before = {id(stay): (stay.answered_at, stay.with_bot) for stay in tracker.stays}
    before_staffing = {id(stay): stay.answered_at for stay in tracker.staffing}
    for event in events:
        tracker.apply(stay_event(event))
    connection = session.connection()
    new_stays = []
    for stay in tracker.stays:
        if id(stay) not in tracker.restored:
            if existed:
                stay.first_reply_at = _first_reply(connection, stay)
            new_stays.append(stay)
        elif stay.ended_at is not None or before[id(stay)] != (stay.answered_at, stay.with_bot):
            keys = dict(key_conversation=conversation_id, key_seq=stay.seq, answered_at=stay.answered_at,
                        with_bot=stay.with_bot)
            if stay.ended_at is None:
                connection.execute(STAY_ANSWERED, keys)
            else:
                connection.execute(STAY_ENDED, keys | dict(ended_at=stay.ended_at, ended_by=stay.ended_by,
                                                           end=stay.ended_at))
    new_staffing = []
    for staffing in tracker.staffing:
        if id(staffing) not in tracker.restored:
            new_staffing.append(staffing)
        elif staffing.ended_at is not None or before_staffing[id(staffing)] != staffing.answered_at:
            connection.execute(STAFFING_CHANGED, dict(
                key_conversation=conversation_id, key_seq=staffing.seq, answered_at=staffing.answered_at,
                ended_at=staffing.ended_at, ended_by=staffing.ended_by, waited_until=staffing.waited_until))
    _insert(connection, new_stays, new_staffing, [(conversation_id, offer) for offer in tracker.offers],
            [(conversation_id, move) for move in tracker.moves])
    return conversation_columns(tracker, queue_id, created_at)


def conversation_columns(tracker: Tracker, queue_id: str | None, created_at: datetime) -> dict[str, Any]:
    """The conversation's columns the tracker keeps: `stays_state`, `queue_entered_at` (its
    latest move into `queue_id`, else `created_at`) and `first_assigned_at`."""
    return {
        "stays_state": tracker.state(),
        "queue_entered_at": None if queue_id is None else tracker.moved_in.get(queue_id, as_utc(created_at)),
        "first_assigned_at": tracker.first_assigned_at,
    }


def _first_reply(connection: Connection, stay: Stay) -> datetime | None:
    conditions = [MESSAGES.c.conversation_id == stay.conversation_id, MESSAGES.c.created_at >= stay.entered_at,
                  *agent_reply_conditions()]
    if stay.ended_at is not None:
        conditions.append(MESSAGES.c.created_at < stay.ended_at)
    first = connection.execute(select(func.min(MESSAGES.c.created_at)).where(*conditions)).scalar()
    return as_utc(first) if first is not None else None


def _insert(connection: Connection, stays: Iterable[Stay], staffing: Iterable[StaffingStay],
            offers: Iterable[tuple[str, OfferEvent]], moves: Iterable[tuple[str, Move]]) -> None:
    rows: list[dict[str, Any]] = [dict(
        conversation_id=stay.conversation_id, seq=stay.seq, queue_id=stay.queue_id, entered_at=stay.entered_at,
        answered_at=stay.answered_at, ended_at=stay.ended_at, ended_by=stay.ended_by,
        first_reply_at=stay.first_reply_at, with_bot=stay.with_bot,
    ) for stay in stays]
    if rows:
        _insert_rows(connection, STAYS, rows)
    rows = [dict(
        conversation_id=stay.conversation_id, seq=stay.seq, queue_id=stay.queue_id, entered_at=stay.entered_at,
        answered_at=stay.answered_at, ended_at=stay.ended_at, ended_by=stay.ended_by,
        waited_until=stay.waited_until,
    ) for stay in staffing]
    if rows:
        _insert_rows(connection, STAFFING_STAYS, rows)
    rows = [dict(conversation_id=conversation_id, seq=offer.seq, queue_id=offer.queue_id, type=offer.type,
                 at=offer.at, accept_seconds=offer.accept_seconds) for conversation_id, offer in offers]
    if rows:
        _insert_rows(connection, OFFERS, rows)
    rows = [dict(conversation_id=conversation_id, seq=move.seq, at=move.at, from_queue_id=move.from_queue_id,
                 to_queue_id=move.to_queue_id, from_entered_at=move.from_entered_at)
            for conversation_id, move in moves]
    if rows:
        _insert_rows(connection, MOVES, rows)


def _insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    # One row (a projection's usual lot) as one statement: executemany's batching costs more.
    connection.execute(INSERTS[table], rows[0] if len(rows) == 1 else rows)


def reply_written(connection: Connection, message: MessageRow) -> None:
    """A message stored (store.tables' listener, in its transaction): if it is an agent's
    reply, the first of the stay around its `created_at` unless an earlier one is (one
    indexed update; none for other messages)."""
    if message.direction != Direction.OUTBOUND.value or message.author_type != AuthorType.AGENT.value:
        return
    role = connection.execute(select(AGENTS.c.role).where(AGENTS.c.id == message.author_id)).scalar()
    if role != ActorType.AGENT.value:
        return
    at = as_utc(message.created_at)
    connection.execute(update(STAYS).where(
        STAYS.c.conversation_id == message.conversation_id, STAYS.c.entered_at <= at,
        STAYS.c.ended_at.is_(None) | (STAYS.c.ended_at > at),
        STAYS.c.first_reply_at.is_(None) | (STAYS.c.first_reply_at > at),
    ).values(first_reply_at=at))


def reply_removed(connection: Connection, message: MessageRow) -> None:
    """A message removed (its workflow refused it): the stay it was the first reply of takes
    its next one, if any."""
    at = as_utc(message.created_at)
    stays = connection.execute(select(STAYS.c.seq, STAYS.c.entered_at, STAYS.c.ended_at).where(
        STAYS.c.conversation_id == message.conversation_id, STAYS.c.first_reply_at == at)).all()
    for seq, entered_at, ended_at in stays:
        stay = Stay(message.conversation_id, "", as_utc(entered_at), seq=seq,
                    ended_at=as_utc(ended_at) if ended_at is not None else None)
        connection.execute(update(STAYS).where(
            STAYS.c.conversation_id == message.conversation_id, STAYS.c.seq == seq,
        ).values(first_reply_at=_first_reply(connection, stay)))


def timelines(connection: Connection, conversation_ids: Any) -> dict[str, list[StayEvent]]:
    """The events a replay reads of these conversations (a list or a select of ids), in seq
    order."""
    body = EVENTS.c.body
    query = select(
        EVENTS.c.conversation_id, EVENTS.c.seq, EVENTS.c.type, EVENTS.c.at,
        body["from_queue_id"].as_string(), body["to_queue_id"].as_string(), body["agent_id"].as_string(),
        body["expires_at"].as_string(), body["status"].as_string(), body["reason"].as_string(),
        body[("out_of_hours", "close_conversation")].as_boolean(),
    ).where(
        EVENTS.c.conversation_id.in_(conversation_ids), EVENTS.c.type.in_(STAY_EVENT_TYPES),
    ).order_by(EVENTS.c.conversation_id, EVENTS.c.seq)
    found: defaultdict[str, list[StayEvent]] = defaultdict(list)
    for (conversation_id, seq, type_, at, from_queue, to_queue, agent_id, expires_at, status,
         reason, closes) in connection.execute(query).all():
        found[conversation_id].append(StayEvent(
            seq=seq, type=type_, at=as_utc(at), from_queue_id=from_queue, to_queue_id=to_queue,
            agent_id=agent_id,
            expires_at=as_utc(datetime.fromisoformat(expires_at)) if expires_at else None,
            status=status or reason if type_ == EventType.STATUS_CHANGED.value else None,
            closes=bool(closes),
        ))
    return found


def agent_replies(connection: Connection, conversation_ids: Any) -> dict[str, list[datetime]]:
    rows = connection.execute(select(MESSAGES.c.conversation_id, MESSAGES.c.created_at).where(
        MESSAGES.c.conversation_id.in_(conversation_ids), *agent_reply_conditions())).all()
    replies: defaultdict[str, list[datetime]] = defaultdict(list)
    for conversation_id, created_at in rows:
        replies[conversation_id].append(as_utc(created_at))
    return replies


def rebuild(connection: Connection, conversation_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Replaces these conversations' stays, staffing stays, offers and moves by a replay of
    their stored events and agent replies, and sets their columns (`conversation_columns`);
    returns each one's `stays_state`."""
    events = timelines(connection, conversation_ids)
    replies = agent_replies(connection, conversation_ids)
    where = {id_: (queue_id, created_at) for id_, queue_id, created_at in connection.execute(select(
        CONVERSATIONS.c.id, CONVERSATIONS.c.queue_id, CONVERSATIONS.c.created_at,
    ).where(CONVERSATIONS.c.id.in_(conversation_ids))).all()}
    for table in (STAYS, STAFFING_STAYS, OFFERS, MOVES):
        connection.execute(delete(table).where(table.c.conversation_id.in_(conversation_ids)))
    columns: dict[str, dict[str, Any]] = {}
    stays: list[Stay] = []
    staffing: list[StaffingStay] = []
    offers: list[tuple[str, OfferEvent]] = []
    moves: list[tuple[str, Move]] = []
    for conversation_id in conversation_ids:
        tracker = Tracker(conversation_id)
        for event in events.get(conversation_id, ()):
            tracker.apply(event)
        first_replies(tracker.stays, sorted(replies.get(conversation_id, ())))
        stays.extend(tracker.stays)
        staffing.extend(tracker.staffing)
        offers.extend((conversation_id, offer) for offer in tracker.offers)
        moves.extend((conversation_id, move) for move in tracker.moves)
        if conversation_id in where:
            columns[conversation_id] = conversation_columns(tracker, *where[conversation_id])
    _insert(connection, stays, staffing, offers, moves)
    if columns:
        connection.execute(
            update(CONVERSATIONS).where(CONVERSATIONS.c.id == bindparam("conversation")).values(
                stays_state=bindparam("state"), queue_entered_at=bindparam("entered"),
                first_assigned_at=bindparam("assigned")),
            [{"conversation": conversation_id, "state": values["stays_state"],
              "entered": values["queue_entered_at"], "assigned": values["first_assigned_at"]}
             for conversation_id, values in columns.items()])
    return {conversation_id: values["stays_state"] for conversation_id, values in columns.items()}
