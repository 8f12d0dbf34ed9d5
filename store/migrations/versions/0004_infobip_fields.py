"""Infobip's request shapes: an agent's email becomes optional (still unique when given) and it
gains a `title`; queues gain `is_auto_assignment_outside_of_working_hours_enabled`,
`is_restricted` and `is_private` (false for existing queues).

Revision ID: 0004_infobip_fields
Revises: 0003_tags
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_infobip_fields"
down_revision = "0003_tags"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite cannot drop a NOT NULL in place: the batch copies the table (rows, unique email).
    with op.batch_alter_table("agents") as batch:
        batch.alter_column("email", existing_type=sa.String(length=255), nullable=True)
        batch.add_column(sa.Column("title", sa.String(length=255), nullable=True))
    with op.batch_alter_table("queues") as batch:
        batch.add_column(sa.Column(
            "is_auto_assignment_outside_of_working_hours_enabled", sa.Boolean(),
            server_default=sa.false(), nullable=False,
        ))
        batch.add_column(sa.Column("is_restricted", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("is_private", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("queues") as batch:
        batch.drop_column("is_private")
        batch.drop_column("is_restricted")
        batch.drop_column("is_auto_assignment_outside_of_working_hours_enabled")
    # Agents without an email cannot go back to a NOT NULL column: give them a unique placeholder.
    op.execute("UPDATE agents SET email = id || '@invalid' WHERE email IS NULL")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("title")
        batch.alter_column("email", existing_type=sa.String(length=255), nullable=False)
