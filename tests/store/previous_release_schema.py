"""The schema of the last release before the migration history, frozen: its store/tables.py
(`git show eeb5b10:store/tables.py`, the last before 0001_initial) as SQLAlchemy Core on a
private MetaData. Tests build a database as that release did (create_all) and then migrate
it. Never edit this to follow the models: it is what databases in the field look like."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    text,
)

metadata = MetaData()


def _utc(name: str, nullable: bool = False) -> Column:
    return Column(name, DateTime(timezone=True), nullable=nullable)


queues = Table(
    "queues",
    metadata,
    Column("id", String(36), nullable=False),
    Column("name", String(255), nullable=False),
    Column("external_id", String(255), nullable=True),
    Column("is_auto_assignment_enabled", Boolean(), nullable=False),
    Column("auto_assignment_algorithm", String(32), nullable=True),
    Column("working_hours_id", String(255), nullable=True),
    Column("sticky_agent_timeout_days", Integer(), nullable=True),
    Column("is_sticky_auto_assignment_enabled", Boolean(), nullable=False),
    Column("bot_id", String(36), nullable=True),
    Column("bot_timeout_seconds", Integer(), nullable=False),
    _utc("created_at"),
    _utc("updated_at"),
    _utc("deleted_at", nullable=True),
    PrimaryKeyConstraint("id"),
    Index(
        "ux_queues_live_name",
        "name",
        unique=True,
        sqlite_where=text("deleted_at IS NULL"),
        postgresql_where=text("deleted_at IS NULL"),
    ),
)

bots = Table(
    "bots",
    metadata,
    Column("id", String(36), nullable=False),
    Column("display_name", String(255), nullable=False),
    Column("enabled", Boolean(), nullable=False),
    _utc("created_at"),
    _utc("updated_at"),
    _utc("deleted_at", nullable=True),
    PrimaryKeyConstraint("id"),
)

agents = Table(
    "agents",
    metadata,
    Column("id", String(36), nullable=False),
    Column("display_name", String(255), nullable=False),
    Column("email", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("enabled", Boolean(), nullable=False),
    _utc("created_at"),
    _utc("updated_at"),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("email"),
)

agent_queues = Table(
    "agent_queues",
    metadata,
    Column("agent_id", String(36), nullable=False),
    Column("queue_id", String(36), nullable=False),
    _utc("created_at"),
    PrimaryKeyConstraint("agent_id", "queue_id"),
    Index("ix_agent_queues_queue_id", "queue_id"),
)

routing_versions = Table(
    "routing_versions",
    metadata,
    Column("number", Integer(), autoincrement=False, nullable=False),
    Column("author_type", String(16), nullable=False),
    Column("author_id", String(64), nullable=True),
    Column("author_name", String(255), nullable=True),
    _utc("created_at"),
    Column("rules", JSON(), nullable=False),
    PrimaryKeyConstraint("number"),
)

routing_settings = Table(
    "routing_settings",
    metadata,
    # The model's Python default (1) kept create_all from making it SERIAL on PostgreSQL.
    Column("id", Integer(), autoincrement=False, nullable=False),
    Column("default_queue_id", String(36), nullable=False),
    _utc("updated_at"),
    PrimaryKeyConstraint("id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), nullable=False),
    Column("principal_type", String(16), nullable=False),
    Column("principal_id", String(36), nullable=True),
    Column("name", String(255), nullable=False),
    Column("salt", String(64), nullable=False),
    Column("secret_hash", String(128), nullable=False),
    Column("enabled", Boolean(), nullable=False),
    _utc("created_at"),
    PrimaryKeyConstraint("id"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(36), nullable=False),
    Column("external_id", String(255), nullable=True),
    Column("topic", String(), nullable=True),
    Column("summary", String(), nullable=True),
    Column("status", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("priority_rank", Integer(), nullable=False),
    Column("queue_id", String(36), nullable=True),
    Column("agent_id", String(36), nullable=True),
    Column("channel", String(64), nullable=True),
    Column("from_address", String(255), nullable=True),
    Column("to_address", String(255), nullable=True),
    Column("customer_id", String(36), nullable=True),
    Column("authentication", String(16), nullable=False),
    Column("routed_route_id", String(36), nullable=True),
    Column("routed_version", Integer(), nullable=True),
    Column("tags", JSON(), nullable=False),
    Column("last_seq", Integer(), nullable=False),
    _utc("created_at"),
    _utc("updated_at"),
    _utc("closed_at", nullable=True),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("external_id"),
    Index("ix_conversations_status", "status"),
    Index("ix_conversations_queue_id", "queue_id"),
    Index("ix_conversations_agent_id", "agent_id"),
    Index("ix_conversations_waiting", "queue_id", "status", "priority_rank", "created_at"),
)

conversation_tags = Table(
    "conversation_tags",
    metadata,
    Column("conversation_id", String(36), nullable=False),
    Column("tag_name", String(255), nullable=False),
    PrimaryKeyConstraint("conversation_id", "tag_name"),
    Index("ix_conversation_tags_tag_name", "tag_name"),
)

conversation_events = Table(
    "conversation_events",
    metadata,
    Column("conversation_id", String(36), nullable=False),
    Column("seq", Integer(), nullable=False),
    Column("type", String(32), nullable=False),
    _utc("at"),
    Column("body", JSON(), nullable=False),
    PrimaryKeyConstraint("conversation_id", "seq"),
    Index("ix_conversation_events_type_at", "type", "at"),
)

persons = Table(
    "persons",
    metadata,
    Column("id", String(36), nullable=False),
    Column("external_id", String(255), nullable=True),
    Column("type", String(16), nullable=False),
    Column("first_name", String(255), nullable=True),
    Column("last_name", String(255), nullable=True),
    Column("country", String(255), nullable=True),
    Column("city", String(255), nullable=True),
    Column("preferred_language", String(255), nullable=True),
    Column("tags", JSON(), nullable=False),
    Column("custom_attributes", JSON(), nullable=False),
    _utc("created_at"),
    _utc("modified_at"),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("external_id"),
)

person_contacts = Table(
    "person_contacts",
    metadata,
    Column("kind", String(8), nullable=False),
    Column("normalized", String(255), nullable=False),
    Column("person_id", String(36), nullable=False),
    Column("value", String(255), nullable=False),
    Column("position", Integer(), nullable=False),
    PrimaryKeyConstraint("kind", "normalized"),
    Index("ix_person_contacts_person_id", "person_id"),
)
