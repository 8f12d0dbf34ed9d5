"""Tags become a resource (`/ccaas/1/tags`): a `tags` table, filled with every tag name the
conversations already carry, so an upgraded database lists its existing tags.

Revision ID: 0003_tags
Revises: 0002_conversation_routing_facts
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003_tags"
down_revision = "0002_conversation_routing_facts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tags = op.create_table(
        "tags",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    # Data: one tag per distinct name on conversations (`conversation_tags` is the projection
    # of every conversation's tags), created now: when they were first used is not recorded.
    names = op.get_bind().execute(
        sa.text("SELECT DISTINCT tag_name FROM conversation_tags ORDER BY tag_name")
    ).scalars().all()
    now = datetime.now(UTC)
    if names:
        op.bulk_insert(tags, [
            {"id": str(uuid.uuid4()), "name": name, "created_at": now, "updated_at": now}
            for name in names
        ])


def downgrade() -> None:
    op.drop_table("tags")
