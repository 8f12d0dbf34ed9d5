"""Service level (SPEC "Service level"): `queues.service_level_target_seconds` (default 60) and
`queues.service_level_target_percent` (default 80). New columns with server defaults: every
existing queue gets the defaults; nothing to convert.

Revision ID: 0017_service_level_targets
Revises: 0016_offers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_service_level_targets"
down_revision = "0016_offers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("service_level_target_seconds", sa.Integer(), server_default="60", nullable=False))
        batch_op.add_column(
            sa.Column("service_level_target_percent", sa.Integer(), server_default="80", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("service_level_target_percent")
        batch_op.drop_column("service_level_target_seconds")
