"""The conversation projection: idempotent upserts from the workflow, and the list queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, UnaryExpression, delete, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from contract.conversations import conversation_out
from contract.events import conversation_event
from domain.assignment import DEFAULT_AGENT_CAPACITY
from domain.conversation import ConversationEvent, ConversationState, CustomerRef, routing_facts
from domain.events_out import conversation_event_type
from store import estimated_wait, events_out, missed_offers, stays
from store.assignment import HOLDING, keep_in_step, queue_positions
from store.db import insert_ignoring_duplicates, session_scope
from store.events_out import NewEvent
from store.out_of_hours import out_of_hours_messages
from store.tables import ConversationEventRow, ConversationRow, ConversationTagRow, MessageRow
from store.tags import ensure_tags

# SQLModel makes __table__ for every table=True class but does not declare it.
EVENTS: Table = ConversationEventRow.__table__  # type: ignore[attr-defined]

def apply_projection(
    session: Session, state: ConversationState, events: list[ConversationEvent],
    default_capacity: int = DEFAULT_AGENT_CAPACITY,
) -> None:
    """Idempotent: events are keyed by (conversation, seq), and a row only moves forward.

    `state` may come without its events (the workflow sends only the unseen ones), so how
    far it reaches is the highest seq among `events`."""
    reaches = max((event.seq for event in events), default=state.last_seq)
    if events:
        insert_ignoring_duplicates(
            session,
            EVENTS,
            [
                {
                    "conversation_id": state.id,
                    "seq": event.seq,
                    "type": event.type.value,
                    "at": event.at,
                    "body": event.model_dump(mode="json"),
                }
                for event in events
            ],
        )
    # Locked until the commit (PostgreSQL; SQLite writes one at a time anyway): an attempt
    # that timed out but still runs must not write over a newer projection.
    row = session.get(ConversationRow, state.id, with_for_update=True)
    if row is not None and row.last_seq >= reaches:
        return
    # Events this projection is the first to write (a repeated one returned above).
    new_events = [event for event in events if row is None or event.seq > row.last_seq]
    values: dict[str, Any] = dict(
        external_id=state.external_id,
        topic=state.topic,
        summary=state.summary,
        status=state.status.value,
        priority=state.priority.value,
        priority_rank=state.priority.rank,
        queue_id=state.queue_id,
        agent_id=state.agent_id,
        channel=state.channel,
        from_=state.from_,
        to=state.to,
        customer_id=state.customer_id,
        authentication=state.authentication.value,
        routed_route_id=state.routed_by.route_id if state.routed_by else None,
        routed_version=state.routed_by.routing_version if state.routed_by else None,
        tags=list(state.tags),
        message_content=state.message_content,
        customer_identifier=state.customer.identifier if state.customer else None,
        customer_type=state.customer.type if state.customer else None,
        queued_at=state.queued_at,
        escalation=state.escalation.model_dump(mode="json") if state.escalation else None,
        required_skills=[r.model_dump(mode="json") for r in state.required_skills] or None,
        passed_over=[entry.model_dump(mode="json") for entry in state.passed_over] or None,
        sla=state.sla.model_dump(mode="json", exclude={"terms"}) | {"policy_id": state.sla.terms.policy_id}
        if state.sla else None,
        last_seq=reaches,
        created_at=state.created_at,
        updated_at=state.updated_at,
        closed_at=state.closed_at,
    )
    previous_tags = list(row.tags) if row is not None else []
    # The stays and moves the new events make (store.stays; the events are inserted above).
    values |= stays.project(session, state.id, row.stays_state if row is not None else None, row is not None,
                            new_events, state.queue_id, state.created_at)
    if row is None:
        session.add(ConversationRow(id=state.id, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
        session.add(row)
    # The tag rows mirror `tags`, written with it: unchanged tags (most projections) and a
    # new conversation's none need no statement.
    if previous_tags != list(state.tags):
        session.exec(
            delete(ConversationTagRow).where(col(ConversationTagRow.conversation_id) == state.id)
        )
        for tag in dict.fromkeys(state.tags):
            session.add(ConversationTagRow(conversation_id=state.id, tag_name=tag))
    # Tagging with a name that does not exist yet creates the tag (at creation or later).
    ensure_tags(session, state.tags)
    keep_in_step(session, state)
    # The auto-reply of an OUT_OF_HOURS event is a message of the conversation.
    messages = out_of_hours_messages(session, state, events)
    session.add_all(messages)
    status_changes = missed_offers.count(session, state.queue_id, new_events, default_capacity)
    events_out.publish(session, _events_out(state, values, events, messages) + status_changes)


def _events_out(
    state: ConversationState, values: dict[str, Any], events: list[ConversationEvent], messages: list[MessageRow],
) -> list[NewEvent]:
    """Each new timeline event, then message.created for each message the events made, with
    the conversation as this projection leaves it, each rendered now (contract.events)."""
    conversation = ConversationRow(id=state.id, **values)
    return [
        NewEvent(
            source=f"conversation {state.id} {event.seq}", type=conversation_event_type(event.type),
            at=event.at, bodies=conversation_event(event, conversation),
            conversation_id=state.id, queue_id=event.to_queue_id or state.queue_id,
            from_queue_id=event.from_queue_id, agent_id=event.agent_id or state.agent_id,
        )
        for event in events
    ] + [events_out.message_created(message, conversation, message.created_at) for message in messages]


def timeline(session: Session, conversation_id: str) -> list[dict[str, Any]] | None:
    """A conversation's events as the workflow recorded them, oldest first; None if there is
    no such conversation."""
    if session.get(ConversationRow, conversation_id) is None:
        return None
    return list(session.exec(
        select(col(ConversationEventRow.body))
        .where(ConversationEventRow.conversation_id == conversation_id)
        .order_by(col(ConversationEventRow.seq))
    ).all())


def routing_facts_of(row: ConversationRow) -> dict[str, Any]:
    """The routing facts of a conversation as the store holds it (as its workflow would)."""
    return routing_facts(
        channel=row.channel, from_=row.from_, to=row.to, message_content=row.message_content,
        topic=row.topic, tags=row.tags, priority=row.priority, queue_id=row.queue_id,
        authentication=row.authentication,
    )


def customer_of(row: ConversationRow) -> CustomerRef | None:
    if row.customer_identifier is None:
        return None
    return CustomerRef(identifier=row.customer_identifier, type=row.customer_type)


def by_external_id(session: Session, external_id: str) -> ConversationRow | None:
    return session.exec(
        select(ConversationRow).where(ConversationRow.external_id == external_id)
    ).first()


@dataclass(frozen=True)
class ConversationFilter:
    conversation_ids: list[str] | None = None
    queue_ids: list[str] | None = None
    statuses: list[str] | None = None
    priorities: list[str] | None = None
    agent_id: str | None = None
    tag_names: list[str] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    # A closed-at bound keeps only conversations closed in it (an open one has no closedAt).
    closed_after: datetime | None = None
    closed_before: datetime | None = None
    # Who is asking, if not a supervisor: conversations in these queues, or assigned to this agent.
    visible_queue_ids: list[str] | None = None
    visible_agent_id: str | None = None


# API orderBy field -> columns. "priority" sorts by rank; ties go to the oldest first.
ORDERABLE = {
    "createdAt": col(ConversationRow.created_at),
    "updatedAt": col(ConversationRow.updated_at),
    "priority": col(ConversationRow.priority_rank),
    "status": col(ConversationRow.status),
    "id": col(ConversationRow.id),
}


def visible_to(queue_ids: list[str], agent_id: str | None) -> ColumnElement[bool]:
    """The conversations an agent or bot may see: in these queues, or assigned to the agent."""
    visible: ColumnElement[bool] = col(ConversationRow.queue_id).in_(queue_ids)
    if agent_id is not None:
        visible = or_(visible, col(ConversationRow.agent_id) == agent_id)
    return visible


def list_conversations(
    session: Session,
    where: ConversationFilter,
    *,
    order_field: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[ConversationRow], int]:
    query = select(ConversationRow)
    if where.conversation_ids:
        query = query.where(col(ConversationRow.id).in_(where.conversation_ids))
    if where.queue_ids:
        query = query.where(col(ConversationRow.queue_id).in_(where.queue_ids))
    if where.statuses:
        query = query.where(col(ConversationRow.status).in_(where.statuses))
    if where.priorities:
        query = query.where(col(ConversationRow.priority).in_(where.priorities))
    if where.agent_id:
        query = query.where(ConversationRow.agent_id == where.agent_id)
    if where.tag_names:
        tagged = select(ConversationTagRow.conversation_id).where(
            col(ConversationTagRow.tag_name).in_(where.tag_names)
        )
        query = query.where(col(ConversationRow.id).in_(tagged))
    bounds = [
        (col(ConversationRow.created_at), where.created_after, where.created_before),
        (col(ConversationRow.updated_at), where.updated_after, where.updated_before),
        (col(ConversationRow.closed_at), where.closed_after, where.closed_before),
    ]
    for bounded, after, before in bounds:
        # After: at or after; before: strictly before.
        if after is not None:
            query = query.where(bounded >= after)
        if before is not None:
            query = query.where(bounded < before)

    if where.visible_queue_ids is not None:
        query = query.where(visible_to(where.visible_queue_ids, where.visible_agent_id))

    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    column = ORDERABLE[order_field]
    order: list[UnaryExpression[Any]] = [column.desc() if descending else column.asc()]
    # Waiting order: the same priority waits oldest first; the id makes paging stable.
    order += [col(ConversationRow.created_at).asc(), col(ConversationRow.id).asc()]
    rows = session.exec(query.order_by(*order).offset(offset).limit(limit)).all()
    return list(rows), total


def read(engine: Engine, conversation_id: str) -> ConversationRow | None:
    """The conversation's row, read in a transaction of its own."""
    with session_scope(engine) as session:
        return session.get(ConversationRow, conversation_id)


def read_by_external_id(engine: Engine, external_id: str) -> ConversationRow | None:
    with session_scope(engine) as session:
        return by_external_id(session, external_id)


def conversations_out(
    session: Session, rows: list[ConversationRow], default_capacity: int = DEFAULT_AGENT_CAPACITY,
) -> list[dict[str, Any]]:
    """The answers for these rows, with the queue position and estimated wait of those waiting."""
    positions = _positions(session, rows)
    waiting = {row.id: (row.queue_id, positions[row.id]) for row in rows
               if row.id in positions and row.queue_id is not None}
    waits = estimated_wait.estimates(session, waiting, datetime.now(UTC), default_capacity)
    return [conversation_out(row, positions.get(row.id), waits.get(row.id)) for row in rows]


def _positions(session: Session, rows: list[ConversationRow]) -> dict[str, int]:
    # Only one with a queue and no agent, open or waiting, can have a place in its queue.
    return queue_positions(session, [
        row.id for row in rows if row.queue_id is not None and row.agent_id is None and row.status in HOLDING
    ])


def read_answer(
    engine: Engine, conversation_id: str, default_capacity: int = DEFAULT_AGENT_CAPACITY,
) -> dict[str, Any] | None:
    """The conversation as GET answers it, or None, read in a transaction of its own."""
    with session_scope(engine) as session:
        row = session.get(ConversationRow, conversation_id)
        return conversations_out(session, [row], default_capacity)[0] if row is not None else None
