"""Events out rendered once: `event_feed.body` and `event_feed.workers_body` in place of
`event_feed.payload`.

The feed held each event's material (`payload`, in two formats: the worker's timeline events
and auto-replies as recorded, the API's events already answered), and every reader rendered it
again, per delivery attempt and per stream. Now publishers store the event's body as JSON text,
rendered when it is published for each audience (contract.events): `body` as supervisors
receive it, `workers_body` as agents and bots do where that differs (People's data left out),
else NULL. The courier signs and sends that text, the live stream sends it.

Rows already in the feed are rendered here, every one, by the rules the readers applied until
now (the contract's functions, as `api/events_out.py` called them): a PENDING delivery or a
stream resuming from any cursor still gets the body it would have had, to the byte, and no
reader keeps a second path for the old format. It reads and rewrites the whole feed (which
retention keeps to SWITCHBOARD_RETENTION_DAYS) in batches, once, at the upgrade.

Downgrade puts a `payload` back that the previous readers render to the same body: the
`data` of API-written events as it is; for a timeline event, the event as the timeline
recorded it and the conversation's fields under their column names.

Revision ID: 0014_rendered_events
Revises: 0013_dispatcher_claims
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, cast

import sqlalchemy as sa
from alembic import op

from contract.conversations import ConversationRecord, conversation_out, event_out
from contract.events import envelope
from contract.messages import MessageRecord, message_out
from domain.audience import Audience
from domain.conversation import ConversationEvent
from domain.events_out import MESSAGE_CREATED

revision = "0014_rendered_events"
down_revision = "0013_dispatcher_claims"
branch_labels = None
depends_on = None

BATCH = 500
# SQLite's batch mode copies the table, and reflection does not see AUTOINCREMENT: without it a
# position could be handed out again after the last rows go (store.tables.EventFeedRow).
KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}

feed = sa.table(
    "event_feed",
    sa.column("position", sa.BigInteger()),
    sa.column("type", sa.String()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("conversation_id", sa.String()),
    sa.column("payload", sa.JSON()),
    sa.column("body", sa.Text()),
    sa.column("workers_body", sa.Text()),
)
timeline = sa.table(
    "conversation_events",
    sa.column("conversation_id", sa.String()),
    sa.column("seq", sa.Integer()),
    sa.column("body", sa.JSON()),
)


def _recorded(conversation: dict[str, Any]) -> ConversationRecord:
    """A conversation as an event of the old format stored it, with the fields it did not
    have yet (later migrations' columns) empty."""
    later = {"queued_at": None, "required_skills": None, "sla": None}
    return cast(ConversationRecord, SimpleNamespace(**{**later, **conversation}))


def _rendered(type_: str, at: Any, payload: dict[str, Any]) -> tuple[str, str | None]:
    """The body of a stored event for supervisors, and for agents and bots where it differs,
    as the readers rendered it until now."""
    if type_.startswith("conversation."):
        event = ConversationEvent.model_validate(payload["event"])
        conversation = conversation_out(_recorded(payload["conversation"]))
        supervisors, workers = (
            envelope(type_, at, {"event": event_out(event, audience), "conversation": conversation})
            for audience in (Audience.SUPERVISORS, Audience.WORKERS)
        )
        return supervisors, None if workers == supervisors else workers
    data = payload
    if type_ == MESSAGE_CREATED and "stored_message" in payload:
        data = {
            "message": message_out(cast(MessageRecord, SimpleNamespace(**payload["stored_message"]))),
            "conversation": conversation_out(_recorded(payload["conversation"])),
        }
    return envelope(type_, at, data), None


def _batches(columns: list[Any]) -> Any:
    """The feed's rows in position order, a batch at a time."""
    connection = op.get_bind()
    after = -1
    while rows := connection.execute(
        sa.select(feed.c.position, *columns).where(feed.c.position > after).order_by(feed.c.position).limit(BATCH)
    ).all():
        yield rows
        after = rows[-1].position


def upgrade() -> None:
    with op.batch_alter_table("event_feed", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("workers_body", sa.Text(), nullable=True))
    connection = op.get_bind()
    render = feed.update().where(feed.c.position == sa.bindparam("at_position")).values(
        body=sa.bindparam("new_body"), workers_body=sa.bindparam("new_workers_body"))
    for rows in _batches([feed.c.type, feed.c.at, feed.c.payload]):
        bodies = [_rendered(row.type, row.at, row.payload) for row in rows]
        connection.execute(render, [
            {"at_position": row.position, "new_body": supervisors, "new_workers_body": workers}
            for row, (supervisors, workers) in zip(rows, bodies, strict=True)
        ])
    with op.batch_alter_table("event_feed", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.alter_column("body", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("payload")


# ConversationOut's fields under their column names, for the previous readers.
_COLUMNS = {
    "id": "id", "externalId": "external_id", "topic": "topic", "summary": "summary", "status": "status",
    "priority": "priority", "queueId": "queue_id", "agentId": "agent_id", "channel": "channel", "from": "from_",
    "to": "to", "tags": "tags", "customerId": "customer_id", "authentication": "authentication",
    "createdAt": "created_at", "updatedAt": "updated_at", "closedAt": "closed_at",
}


def _conversation_row(answered: dict[str, Any]) -> dict[str, Any]:
    row = {column: answered[field] for field, column in _COLUMNS.items()}
    routed_by = answered["routedBy"] or {}
    return {**row, "routed_route_id": routed_by.get("routeId"), "routed_version": routed_by.get("routingVersion")}


def downgrade() -> None:
    with op.batch_alter_table("event_feed", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
    connection = op.get_bind()
    restore = feed.update().where(feed.c.position == sa.bindparam("at_position")).values(
        payload=sa.bindparam("old_payload"))
    for rows in _batches([feed.c.type, feed.c.conversation_id, feed.c.body]):
        payloads = []
        for row in rows:
            data = json.loads(row.body)["data"]
            if row.type.startswith("conversation."):
                recorded = connection.execute(sa.select(timeline.c.body).where(
                    timeline.c.conversation_id == row.conversation_id, timeline.c.seq == data["event"]["seq"],
                )).scalar_one()
                data = {"event": recorded, "conversation": _conversation_row(data["conversation"])}
            payloads.append({"at_position": row.position, "old_payload": data})
        connection.execute(restore, payloads)
    with op.batch_alter_table("event_feed", schema=None, table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.alter_column("payload", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("workers_body")
        batch_op.drop_column("body")
