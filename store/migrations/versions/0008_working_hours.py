"""Working hours: the `working_hours` table (a week and holidays as JSON, in an IANA time
zone), at most one of them the default (a unique index over the default row only).

Revision ID: 0008_working_hours
Revises: 0007_events_out
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_working_hours"
down_revision = "0007_events_out"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "working_hours",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("work_week", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("close_conversations", sa.Boolean(), nullable=False),
        sa.Column("send_away_message_every_oowh_period", sa.Boolean(), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_working_hours_default", "working_hours", ["is_default"], unique=True,
                    sqlite_where=sa.text("is_default"), postgresql_where=sa.text("is_default"))


def downgrade() -> None:
    op.drop_index("ux_working_hours_default", table_name="working_hours")
    op.drop_table("working_hours")
