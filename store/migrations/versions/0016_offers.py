"""Offers: `queues.offer_timeout_seconds` and `queues.max_missed_offers`, `agents.missed_offers`,
`assignments.expires_at` (an OFFERED row's lapse) and `conversations.passed_over`. New columns
with defaults: nothing to convert; no queue makes offers until one is given a timeout.

Revision ID: 0016_offers
Revises: 0015_skills
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_offers"
down_revision = "0015_skills"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offer_timeout_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("max_missed_offers", sa.Integer(), server_default="3", nullable=False))
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("missed_offers", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("passed_over", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("passed_over")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("missed_offers")
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("max_missed_offers")
        batch_op.drop_column("offer_timeout_seconds")
