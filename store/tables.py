"""SQLModel tables. They never cross into a workflow: activities map them to domain types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, Text, event, false, text, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Field, SQLModel

from domain.models import Authentication, PersonType


class CurrentTransactionId(FunctionElement[int]):
    """The id of the transaction writing a row (PostgreSQL), as a column default; 0 on SQLite."""

    type = BigInteger()
    inherit_cache = True


@compiles(CurrentTransactionId)
def _no_transaction_id(element: CurrentTransactionId, compiler: Any, **kw: Any) -> str:
    return "0"


@compiles(CurrentTransactionId, "postgresql")
def _postgresql_transaction_id(element: CurrentTransactionId, compiler: Any, **kw: Any) -> str:
    return "(pg_current_xact_id()::text::bigint)"


def _utc_column(nullable: bool = False) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), nullable=nullable))


class QueueRow(SQLModel, table=True):
    __tablename__ = "queues"
    # Names are unique among live queues only, so a deleted queue's name can be used again.
    __table_args__ = (
        Index(
            "ux_queues_live_name",
            "name",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=255)
    external_id: str | None = Field(default=None, max_length=255)
    is_auto_assignment_enabled: bool = False
    auto_assignment_algorithm: str | None = Field(default=None, max_length=32)
    working_hours_id: str | None = Field(default=None, max_length=255)
    sticky_agent_timeout_days: int | None = None
    is_sticky_auto_assignment_enabled: bool = False
    # Infobip's flags, stored and reported (server defaults for older rows). Private queues
    # are not offered (always false).
    is_auto_assignment_outside_of_working_hours_enabled: bool = Field(
        default=False, sa_column_kwargs={"server_default": false()}
    )
    is_restricted: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    is_private: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    bot_id: str | None = Field(default=None, max_length=36)
    bot_timeout_seconds: int = 600
    # Its escalation ladder: [{after_seconds, priority, queue_id}], validated when saved.
    escalation: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    # The agent this queue's auto-assignment chose last: round robin goes on after it.
    last_assigned_agent_id: str | None = Field(default=None, max_length=36)
    # Offers (SPEC "Offers"): None assigns directly; else seconds an agent has to answer.
    offer_timeout_seconds: int | None = None
    # Lapses in a row after which an agent is set AWAY ("not responding").
    max_missed_offers: int = Field(default=3, sa_column_kwargs={"server_default": "3"})
    # Service level (SPEC "Service level"): answered within this many seconds, this percent of the time.
    service_level_target_seconds: int = Field(default=60, sa_column_kwargs={"server_default": "60"})
    service_level_target_percent: int = Field(default=80, sa_column_kwargs={"server_default": "80"})
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()
    deleted_at: datetime | None = _utc_column(nullable=True)


class BotRow(SQLModel, table=True):
    """A chatbot that serves queues (e.g. strong authentication); it acts with its own key."""

    __tablename__ = "bots"

    id: str = Field(primary_key=True, max_length=36)
    display_name: str = Field(max_length=255)
    enabled: bool = True
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()
    deleted_at: datetime | None = _utc_column(nullable=True)


class AgentRow(SQLModel, table=True):
    """A person working conversations (AGENT) or managing the service (SUPERVISOR)."""

    __tablename__ = "agents"

    id: str = Field(primary_key=True, max_length=36)
    display_name: str = Field(max_length=255)
    # Optional, as Infobip's AgentRequest has none; unique when given (NULLs never collide).
    email: str | None = Field(default=None, max_length=255, unique=True)
    title: str | None = Field(default=None, max_length=255)
    role: str = Field(max_length=16)
    status: str = Field(max_length=16)
    enabled: bool = True
    # Conversations it may hold at once (OPEN or WAITING); None: SWITCHBOARD_DEFAULT_AGENT_CAPACITY.
    max_conversations: int | None = None
    # When auto-assignment last gave it a conversation: ties under load balancing.
    last_assigned_at: datetime | None = _utc_column(nullable=True)
    # Offers it let lapse in a row (an accept or decline resets it): at the queue's
    # maxMissedOffers it is set AWAY.
    missed_offers: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()


class AgentQueueRow(SQLModel, table=True):
    """An agent's membership of a queue: the conversations it may work."""

    __tablename__ = "agent_queues"

    agent_id: str = Field(primary_key=True, max_length=36)
    queue_id: str = Field(primary_key=True, max_length=36, index=True)
    created_at: datetime = _utc_column()


class AgentSkillRow(SQLModel, table=True):
    """A skill an agent holds, at a level (1..5): who may take a conversation that needs it."""

    __tablename__ = "agent_skills"

    agent_id: str = Field(primary_key=True, max_length=36)
    name: str = Field(primary_key=True, max_length=64, index=True)
    level: int


class RoutingVersionRow(SQLModel, table=True):
    """An immutable routing version: the whole ordered rule list as it was saved."""

    __tablename__ = "routing_versions"

    number: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    author_type: str = Field(max_length=16)
    author_id: str | None = Field(default=None, max_length=64)
    author_name: str | None = Field(default=None, max_length=255)
    created_at: datetime = _utc_column()
    rules: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class RoutingSettingsRow(SQLModel, table=True):
    __tablename__ = "routing_settings"

    id: int = Field(default=1, primary_key=True)
    default_queue_id: str = Field(max_length=36)
    updated_at: datetime = _utc_column()


class ApiKeyRow(SQLModel, table=True):
    """A key is a random token; only its salted hash is kept, under an id derived from it."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=32)
    principal_type: str = Field(max_length=16)
    principal_id: str | None = Field(default=None, max_length=36)
    name: str = Field(max_length=255)
    salt: str = Field(max_length=64)
    secret_hash: str = Field(max_length=128)
    enabled: bool = True
    created_at: datetime = _utc_column()


class ConsoleSessionRow(SQLModel, table=True):
    """A console sign-in (console/session.py): the browser holds a random token, and only
    its hash is kept here, as the id, with the key it was opened with and when it ends."""

    __tablename__ = "console_sessions"

    id: str = Field(primary_key=True, max_length=64)
    key_id: str = Field(max_length=32, index=True)
    created_at: datetime = _utc_column()
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


class ConversationRow(SQLModel, table=True):
    """The latest state of a conversation as its workflow reported it (a projection)."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_waiting", "queue_id", "status", "priority_rank", "created_at"),
        # The one that entered its queue first; the last hour's first assignments.
        Index("ix_conversations_queue_entered", "queue_id", "queue_entered_at", "id"),
        Index("ix_conversations_queue_first_assigned", "queue_id", "first_assigned_at", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    external_id: str | None = Field(default=None, max_length=255, unique=True)
    topic: str | None = None
    summary: str | None = None
    status: str = Field(max_length=16, index=True)
    priority: str = Field(max_length=16)
    # Numeric priority, so "priority:desc" sorts URGENT > HIGH > NORMAL > LOW in SQL.
    priority_rank: int
    queue_id: str | None = Field(default=None, max_length=36, index=True)
    agent_id: str | None = Field(default=None, max_length=36, index=True)
    channel: str | None = Field(default=None, max_length=64)
    from_: str | None = Field(default=None, max_length=255, sa_column_kwargs={"name": "from_address"})
    to: str | None = Field(default=None, max_length=255, sa_column_kwargs={"name": "to_address"})
    customer_id: str | None = Field(default=None, max_length=36)
    authentication: str = Field(default=Authentication.NONE.value, max_length=16)
    routed_route_id: str | None = Field(default=None, max_length=36)
    routed_version: int | None = None
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The first message and the customer reference, so routing can be simulated from SQL.
    message_content: str | None = Field(default=None, sa_type=Text)
    customer_identifier: str | None = Field(default=None, max_length=255)
    customer_type: str | None = Field(default=None, max_length=16)
    # When it entered its current queue: the waiting order is priority, then this.
    queued_at: datetime | None = _utc_column(nullable=True)
    # The escalation ladder in force in its queue, as its workflow holds it (next step, since
    # when): what the dry run of a queue's escalations reads.
    escalation: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # The skills it needs (domain.skills.RequiredSkill, relaxed or not), as its workflow holds
    # them: what the claim filters agents by. None: none.
    required_skills: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Agents who declined it or let its offer lapse during this stay in its queue, with when
    # (domain.conversation.PassedOver): the claim offers it to others first.
    passed_over: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Its SLA clocks as its workflow holds them (domain.sla_clocks.Sla without the policy's
    # terms: policy id and each clock). None: no policy matched.
    sla: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Where its stays stand after `last_seq` (domain.stays.Tracker.state): what the projection
    # goes on from to write `stays`, `staffing_stays` and `stay_offers`.
    stays_state: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Its latest ROUTED or REROUTED into its current queue (from another or none), else its
    # creation; None without a queue. And its first ASSIGNED's moment when that gave it an
    # agent. Both written by the projection from `stays_state` (store.stays).
    queue_entered_at: datetime | None = _utc_column(nullable=True)
    first_assigned_at: datetime | None = _utc_column(nullable=True)
    # Highest event seq applied: a stale or repeated projection never overwrites newer state.
    last_seq: int = 0
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()
    closed_at: datetime | None = _utc_column(nullable=True)


_ESTIMATED = "entry_estimate_seconds IS NOT NULL"
_ESTIMATE_DUE = "entry_estimate_at IS NULL AND answered_at IS NULL AND ended_at IS NULL"


class StayRow(SQLModel, table=True):
    """One stay of a conversation in a queue (SPEC "Service level", domain.stays): written by
    the projection as its events are (store.stays), its first agent reply as the message is
    stored. The statistics count these by queue and moment."""

    __tablename__ = "stays"
    __table_args__ = (
        Index("ix_stays_queue_entered", "queue_id", "entered_at"),
        Index("ix_stays_queue_answered", "queue_id", "answered_at", "entered_at"),
        Index("ix_stays_queue_ended", "queue_id", "ended_at", "ended_by", "entered_at"),
        Index("ix_stays_queue_first_reply", "queue_id", "first_reply_at", "entered_at"),
        # The waits an estimate is measured against (store.estimated_wait.estimate_error),
        # covering: only stays with an estimate.
        Index("ix_stays_queue_answered_estimate", "queue_id", "answered_at", "entered_at", "entry_estimate_seconds",
              sqlite_where=text(_ESTIMATED), postgresql_where=text(_ESTIMATED)),
        # The stays whose estimate has yet to be read (store.estimated_wait.record): open and
        # unanswered ones only, so no more than are waiting, however many stays there are.
        Index("ix_stays_estimate_due", "entered_at",
              sqlite_where=text(_ESTIMATE_DUE), postgresql_where=text(_ESTIMATE_DUE)),
    )

    conversation_id: str = Field(primary_key=True, max_length=36)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})  # the event that began it
    queue_id: str = Field(max_length=36)
    entered_at: datetime = _utc_column()
    answered_at: datetime | None = _utc_column(nullable=True)  # its first ASSIGNED
    ended_at: datetime | None = _utc_column(nullable=True)
    # domain.stays: MOVED, ABANDONED, ENDED, BOT, OUT_OF_HOURS; null while it goes on.
    ended_by: str | None = Field(default=None, max_length=16)
    first_reply_at: datetime | None = _utc_column(nullable=True)  # its first agent reply
    with_bot: bool = False
    # The estimated wait a caller read when it entered waiting (store.estimated_wait.record),
    # and when that was read; the seconds null: no estimate (none could be given, or it was not
    # waiting unassigned when read). Both null: never read (answered or ended first, or older).
    entry_estimate_seconds: float | None = None
    entry_estimate_at: datetime | None = _utc_column(nullable=True)


class StaffingStayRow(SQLModel, table=True):
    """A stay as staffing reads it (domain.stays.StaffingStay, store.staffing)."""

    __tablename__ = "staffing_stays"
    __table_args__ = (
        Index("ix_staffing_stays_queue_entered", "queue_id", "entered_at"),
        Index("ix_staffing_stays_queue_ended", "queue_id", "ended_at", "ended_by", "answered_at"),
        Index("ix_staffing_stays_queue_waited", "queue_id", "waited_until", "entered_at"),
    )

    conversation_id: str = Field(primary_key=True, max_length=36)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    queue_id: str = Field(max_length=36)
    entered_at: datetime = _utc_column()
    answered_at: datetime | None = _utc_column(nullable=True)
    ended_at: datetime | None = _utc_column(nullable=True)
    ended_by: str | None = Field(default=None, max_length=16)  # MOVED, HANDLED, ENDED, ABANDONED, OUT_OF_HOURS
    waited_until: datetime | None = _utc_column(nullable=True)  # its answer or end; null while waiting


class QueueMoveRow(SQLModel, table=True):
    """A ROUTED or REROUTED that moved a conversation (domain.stays.Move): the last hour's
    routed in and out, and the time in the queue left (`from_entered_at`, its latest move into
    it before)."""

    __tablename__ = "queue_moves"
    __table_args__ = (
        Index("ix_queue_moves_to_at", "to_queue_id", "at"),
        Index("ix_queue_moves_from_at", "from_queue_id", "at", "from_entered_at"),
    )

    conversation_id: str = Field(primary_key=True, max_length=36)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = _utc_column()
    from_queue_id: str | None = Field(default=None, max_length=36)
    to_queue_id: str | None = Field(default=None, max_length=36)
    from_entered_at: datetime | None = _utc_column(nullable=True)


class StayOfferRow(SQLModel, table=True):
    """An offer's event (OFFERED, an accept, OFFER_DECLINED, _EXPIRED, _WITHDRAWN) with the
    queue the conversation was in (domain.stays.OfferEvent), for the statistics' offers."""

    __tablename__ = "stay_offers"
    # Covering: the offers' counts and time to accept read the index alone.
    __table_args__ = (Index("ix_stay_offers_queue_at", "queue_id", "at", "type", "accept_seconds"),)

    conversation_id: str = Field(primary_key=True, max_length=36)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    queue_id: str = Field(max_length=36)
    type: str = Field(max_length=32)
    at: datetime = _utc_column()
    accept_seconds: float | None = None


class AssignmentRow(SQLModel, table=True):
    """An agent's hold on an open conversation: what its capacity counts, one per conversation.

    CLAIMED: auto-assignment claimed the conversation for the agent (under lock, below its
    capacity) and is telling the conversation's workflow, which records it or refuses (then
    the row goes). HELD: the workflow's state says so; the projection keeps these in step
    with the conversation (gone once it is unassigned, SOLVED or CLOSED)."""

    __tablename__ = "assignments"

    conversation_id: str = Field(primary_key=True, max_length=36)
    agent_id: str = Field(max_length=36, index=True)
    queue_id: str | None = Field(default=None, max_length=36)
    state: str = Field(max_length=8)  # CLAIMED | OFFERED | HELD
    # The claim's id (the workflow update's id, so a redelivery is applied once) and why.
    claim_id: str | None = Field(default=None, max_length=36)
    reason: str | None = Field(default=None, sa_type=Text)
    at: datetime = _utc_column()
    # OFFERED: when the agent's pending offer lapses.
    expires_at: datetime | None = _utc_column(nullable=True)


class ConversationTagRow(SQLModel, table=True):
    """One row per tag, so `tagNames` filters are plain SQL on every database."""

    __tablename__ = "conversation_tags"

    conversation_id: str = Field(primary_key=True, max_length=36)
    tag_name: str = Field(primary_key=True, max_length=255, index=True)


class TagRow(SQLModel, table=True):
    """A tag name as a resource (`/ccaas/1/tags`). Conversations carry tags by name
    (`conversation_tags`); tagging one with a new name creates its row here."""

    __tablename__ = "tags"

    id: str = Field(primary_key=True, max_length=36)
    # Case-sensitive, as conversations compare their tags.
    name: str = Field(max_length=255, unique=True)
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()


class ConversationEventRow(SQLModel, table=True):
    """A timeline event; (conversation_id, seq) makes a retried projection idempotent."""

    __tablename__ = "conversation_events"
    # Queue statistics read the last hour's moves by type and time.
    __table_args__ = (Index("ix_conversation_events_type_at", "type", "at"),)

    conversation_id: str = Field(primary_key=True, max_length=36)
    seq: int = Field(primary_key=True)
    type: str = Field(max_length=32)
    at: datetime = _utc_column()
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PersonRow(SQLModel, table=True):
    """A customer or lead; its attributes are the `customer.*` facts of routing."""

    __tablename__ = "persons"

    id: str = Field(primary_key=True, max_length=36)
    # Unique when given; NULLs never collide, on SQLite and PostgreSQL alike.
    external_id: str | None = Field(default=None, max_length=255, unique=True)
    type: str = Field(default=PersonType.CUSTOMER.value, max_length=16)
    first_name: str | None = Field(default=None, max_length=255)
    last_name: str | None = Field(default=None, max_length=255)
    country: str | None = Field(default=None, max_length=255)
    city: str | None = Field(default=None, max_length=255)
    preferred_language: str | None = Field(default=None, max_length=255)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    custom_attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _utc_column()
    modified_at: datetime = _utc_column()


class PersonContactRow(SQLModel, table=True):
    """One phone number or email of a person. The key is the normalised value, so a number or
    an address belongs to at most one person, and a look-up by it touches one row."""

    __tablename__ = "person_contacts"

    kind: str = Field(primary_key=True, max_length=8)  # PHONE | EMAIL
    normalized: str = Field(primary_key=True, max_length=255)
    person_id: str = Field(max_length=36, index=True)
    # As the person was given it, and its place in the person's list: shown back unchanged.
    value: str = Field(max_length=255)
    position: int


class MessageRow(SQLModel, table=True):
    """A message of a conversation (`/ccaas/1/conversations/{id}/messages`). The workflow hears
    of it (`record_message`: first message as routing facts, a customer reopening a SOLVED
    conversation); the message itself lives only here."""

    __tablename__ = "messages"
    # Listing a conversation's messages in time order.
    __table_args__ = (Index("ix_messages_conversation_created", "conversation_id", "created_at"),)

    # Given an `externalId`, the id is derived from it (UUIDv5), so a retry finds the same row.
    id: str = Field(primary_key=True, max_length=36)
    conversation_id: str = Field(max_length=36)
    external_id: str | None = Field(default=None, max_length=255)
    direction: str = Field(max_length=8)  # INBOUND | OUTBOUND
    author_type: str = Field(max_length=16)  # CUSTOMER | AGENT | BOT | SYSTEM
    author_id: str | None = Field(default=None, max_length=36)
    channel: str = Field(max_length=32)
    from_: str = Field(max_length=255, sa_column_kwargs={"name": "from_address"})
    to: str = Field(max_length=255, sa_column_kwargs={"name": "to_address"})
    content_type: str = Field(max_length=32)
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # When the conversation's workflow took the message in; null while it has not (yet).
    recorded_at: datetime | None = _utc_column(nullable=True)
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()


class EventFeedRow(SQLModel, table=True):
    """The outbox of events out: written in the same transaction as what it tells of (a
    projected timeline event, a message, an agent's status), read by the live stream, and
    fanned out to webhook deliveries in that same transaction.

    Readers go in commit order: `position` on SQLite (one writer at a time), and on
    PostgreSQL (`txid`, `position`) over the transactions that have all ended (see
    store.events_out), since positions are taken before commit and commits overtake."""

    __tablename__ = "event_feed"
    # AUTOINCREMENT: SQLite never hands out a position twice, even after the last rows go.
    __table_args__ = (
        Index("ix_event_feed_txid_position", "txid", "position"),
        # Retention deletes by age (store.retention).
        Index("ix_event_feed_at", "at"),
        {"sqlite_autoincrement": True},
    )

    position: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                                   primary_key=True, autoincrement=True))
    # The writing transaction's id on PostgreSQL; 0 on SQLite.
    txid: int | None = Field(default=None, sa_column=Column(BigInteger, server_default=CurrentTransactionId(),
                                                             nullable=False))
    # The event's public id (the webhook-id): derived from its source, so writing it twice
    # (a retried projection) finds the first.
    id: str = Field(max_length=36, unique=True)
    type: str = Field(max_length=64)
    at: datetime = _utc_column()
    # Who may see it: the conversation, its queue (and the one it left), its agent.
    conversation_id: str | None = Field(default=None, max_length=36)
    queue_id: str | None = Field(default=None, max_length=36)
    from_queue_id: str | None = Field(default=None, max_length=36)
    agent_id: str | None = Field(default=None, max_length=36)
    # The event's body (`{type, timestamp, data}`, contract.events) as JSON text, rendered when
    # it was published and sent as it is: as supervisors receive it, and as agents and bots do
    # (without People's data) where that differs, else NULL.
    body: str = Field(sa_column=Column(Text, nullable=False))
    workers_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class WebhookSubscriptionRow(SQLModel, table=True):
    """Where events are posted. A bot's `webhookUrl` is one of these with `bot_id` set: it gets
    the events of conversations in the bot's queues."""

    __tablename__ = "webhook_subscriptions"

    id: str = Field(primary_key=True, max_length=36)
    url: str = Field(sa_type=Text)
    # Empty: every type.
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    enabled: bool = True
    description: str | None = Field(default=None, max_length=1000)
    # The signing secret (whsec_...), kept as given out: signing needs it, so unlike API keys
    # it cannot be hashed.
    secret: str = Field(max_length=128)
    bot_id: str | None = Field(default=None, max_length=36, index=True)
    # Why it was disabled by us (a 410), else null.
    disabled_reason: str | None = Field(default=None, max_length=255)
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()


class WebhookDeliveryRow(SQLModel, table=True):
    """One event for one subscription, until it is delivered or given up. Any worker's courier
    takes a due one by leasing it (`leased_until`); a courier that dies leaves the lease to
    run out, and the next sends it again under the same webhook-id."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ux_webhook_deliveries_subscription_event", "subscription_id", "event_id", unique=True),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription_created", "subscription_id", "created_at"),
        # Retention: finished deliveries by age, and whether a delivery still needs an event.
        Index("ix_webhook_deliveries_created", "created_at"),
        Index("ix_webhook_deliveries_event", "event_id"),
        # A newer agent.status_changed replaces the pending ones (store.events_out).
        Index("ix_webhook_deliveries_type_state", "event_type", "state"),
    )

    id: str = Field(primary_key=True, max_length=36)
    subscription_id: str = Field(max_length=36)
    event_id: str = Field(max_length=36)
    event_type: str = Field(max_length=64)
    state: str = Field(max_length=16)  # PENDING | DELIVERED | FAILED
    attempts: int = 0
    next_attempt_at: datetime | None = _utc_column(nullable=True)
    leased_until: datetime | None = _utc_column(nullable=True)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=255)
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()


class WebhookAttemptRow(SQLModel, table=True):
    """One try of a delivery: when, what came back (or the error), how long it took."""

    __tablename__ = "webhook_attempts"

    id: str = Field(primary_key=True, max_length=36)
    delivery_id: str = Field(max_length=36, index=True)
    at: datetime = _utc_column()
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=255)
    duration_ms: int
    # The answer's first bytes, for the log; never more (a receiver's body is its own).
    response_prefix: str | None = Field(default=None, max_length=256)


class WorkingHoursRow(SQLModel, table=True):
    """When queues are open (Infobip's working hours). The week and the holidays are JSON in
    domain.working_hours' shape (`DayHours` by weekday, `Holiday`s), read back as its `Hours`.
    At most one row is the default (`is_default`): the hours of every queue without its own."""

    __tablename__ = "working_hours"
    __table_args__ = (
        Index("ux_working_hours_default", "is_default", unique=True,
              sqlite_where=text("is_default"), postgresql_where=text("is_default")),
    )

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=255)
    timezone: str = Field(max_length=64)
    # The auto-reply a conversation gets outside these hours.
    message: str = Field(sa_type=Text)
    work_week: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    enabled: bool = True
    is_default: bool = False
    close_conversations: bool = False
    # Infobip's flag: stored and reported.
    send_away_message_every_oowh_period: bool = False
    holidays: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()
    # Open or closed, as last decided: by the save that changed the hours (at the API's
    # clock), else by the working-hours clock (workflows/working_hours_clock.py) at each
    # change. What auto-assignment reads; `GET /{id}/status` computes it afresh.
    is_open: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    # Since when (the opening or closing instant); null until first decided after migration 0010.
    status_changed_at: datetime | None = _utc_column(nullable=True)


class SlaPolicyRow(SQLModel, table=True):
    """An SLA policy (domain.sla). Policies are an ordered list: `position` is the 0-based place,
    kept dense (0..n-1) by store.sla_policies, whose writes take turns."""

    __tablename__ = "sla_policies"

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=255)
    # In the routing language, checked when saved.
    expression: Any = Field(sa_column=Column(JSON, nullable=False))
    first_response_seconds: int | None = None
    resolution_seconds: int | None = None
    # Not a foreign key, as a queue's is not: deleting hours that a policy names is refused by the API.
    working_hours_id: str | None = Field(default=None, max_length=36)
    warn_before_seconds: int | None = None
    # {"priority", "queue_id"} (domain.sla.OnBreach), or null: a breach changes nothing.
    on_breach: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    enabled: bool = True
    position: int
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()


# A stay's first agent reply is written with the message, whoever stores it (store.stays).
@event.listens_for(MessageRow, "after_insert")
def _message_stored(mapper: Any, connection: Any, message: MessageRow) -> None:
    from store import stays  # it reads these tables

    stays.reply_written(connection, message)


@event.listens_for(MessageRow, "after_delete")
def _message_removed(mapper: Any, connection: Any, message: MessageRow) -> None:
    from store import stays

    stays.reply_removed(connection, message)
