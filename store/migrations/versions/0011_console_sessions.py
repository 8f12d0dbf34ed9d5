"""Console sessions: the `console_sessions` table. A console sign-in keeps a random token in
the browser's cookie and only its hash here (the id), with the API key it was opened with
(`key_id`, an `api_keys.id`) and when it ends (`expires_at`, indexed to sweep the ended ones).
It starts empty: whoever was signed in with the old cookie (the API key itself) signs in again.

Revision ID: 0011_console_sessions
Revises: 0010_working_hours_status
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_console_sessions"
down_revision = "0010_working_hours_status"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_console_sessions_key_id", "console_sessions", ["key_id"], unique=False)
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_console_sessions_expires_at", table_name="console_sessions")
    op.drop_index("ix_console_sessions_key_id", table_name="console_sessions")
    op.drop_table("console_sessions")
