"""The schema as the previous release made it with create_all, before migrations existed.

Written out by hand from that release's store/tables.py; a database that release made is
recognised by store.db.migrate and stamped at this revision instead of running it.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "queues",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("is_auto_assignment_enabled", sa.Boolean(), nullable=False),
        sa.Column("auto_assignment_algorithm", sa.String(length=32), nullable=True),
        sa.Column("working_hours_id", sa.String(length=255), nullable=True),
        sa.Column("sticky_agent_timeout_days", sa.Integer(), nullable=True),
        sa.Column("is_sticky_auto_assignment_enabled", sa.Boolean(), nullable=False),
        sa.Column("bot_id", sa.String(length=36), nullable=True),
        sa.Column("bot_timeout_seconds", sa.Integer(), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
        _utc("deleted_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    # Names are unique among live queues only, so a deleted queue's name can be used again.
    op.create_index(
        "ux_queues_live_name", "queues", ["name"], unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )

    op.create_table(
        "bots",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
        _utc("deleted_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )

    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )

    op.create_table(
        "agent_queues",
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("queue_id", sa.String(length=36), nullable=False),
        _utc("created_at"),
        sa.PrimaryKeyConstraint("agent_id", "queue_id"),
    )
    op.create_index("ix_agent_queues_queue_id", "agent_queues", ["queue_id"])

    op.create_table(
        "routing_versions",
        # Numbered by the store: a plain INTEGER on PostgreSQL, never SERIAL.
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("author_type", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.String(length=64), nullable=True),
        sa.Column("author_name", sa.String(length=255), nullable=True),
        _utc("created_at"),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )

    op.create_table(
        "routing_settings",
        # Always 1. The model's Python default kept create_all from making it SERIAL.
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("default_queue_id", sa.String(length=36), nullable=False),
        _utc("updated_at"),
        sa.PrimaryKeyConstraint("id"),
    )

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("principal_type", sa.String(length=16), nullable=False),
        sa.Column("principal_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _utc("created_at"),
        sa.PrimaryKeyConstraint("id"),
    )

    op.create_table(
        "conversations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("topic", sa.String(), nullable=True),
        sa.Column("summary", sa.String(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.String(length=36), nullable=True),
        sa.Column("agent_id", sa.String(length=36), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("from_address", sa.String(length=255), nullable=True),
        sa.Column("to_address", sa.String(length=255), nullable=True),
        sa.Column("customer_id", sa.String(length=36), nullable=True),
        sa.Column("authentication", sa.String(length=16), nullable=False),
        sa.Column("routed_route_id", sa.String(length=36), nullable=True),
        sa.Column("routed_version", sa.Integer(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        _utc("created_at"),
        _utc("updated_at"),
        _utc("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("external_id"),
    )
    op.create_index("ix_conversations_status", "conversations", ["status"])
    op.create_index("ix_conversations_queue_id", "conversations", ["queue_id"])
    op.create_index("ix_conversations_agent_id", "conversations", ["agent_id"])
    op.create_index(
        "ix_conversations_waiting", "conversations",
        ["queue_id", "status", "priority_rank", "created_at"],
    )

    op.create_table(
        "conversation_tags",
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("tag_name", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "tag_name"),
    )
    op.create_index("ix_conversation_tags_tag_name", "conversation_tags", ["tag_name"])

    op.create_table(
        "conversation_events",
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        _utc("at"),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "seq"),
    )
    op.create_index("ix_conversation_events_type_at", "conversation_events", ["type", "at"])

    op.create_table(
        "persons",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("first_name", sa.String(length=255), nullable=True),
        sa.Column("last_name", sa.String(length=255), nullable=True),
        sa.Column("country", sa.String(length=255), nullable=True),
        sa.Column("city", sa.String(length=255), nullable=True),
        sa.Column("preferred_language", sa.String(length=255), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("custom_attributes", sa.JSON(), nullable=False),
        _utc("created_at"),
        _utc("modified_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("external_id"),
    )

    op.create_table(
        "person_contacts",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("normalized", sa.String(length=255), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "normalized"),
    )
    op.create_index("ix_person_contacts_person_id", "person_contacts", ["person_id"])


def downgrade() -> None:
    # Dropping a table drops its indexes too.
    for table in (
        "person_contacts", "persons", "conversation_events", "conversation_tags",
        "conversations", "api_keys", "routing_settings", "routing_versions", "agent_queues",
        "agents", "bots", "queues",
    ):
        op.drop_table(table)
