"""SLA policies (SPEC "Service level"): the `sla_policies` table, an ordered list (`position`,
0-based). New and empty: nothing to convert.

Revision ID: 0018_sla_policies
Revises: 0017_service_level_targets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_sla_policies"
down_revision = "0017_service_level_targets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("expression", sa.JSON(), nullable=False),
        sa.Column("first_response_seconds", sa.Integer(), nullable=True),
        sa.Column("resolution_seconds", sa.Integer(), nullable=True),
        sa.Column("working_hours_id", sa.String(length=36), nullable=True),
        sa.Column("warn_before_seconds", sa.Integer(), nullable=True),
        sa.Column("on_breach", sa.JSON(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("sla_policies")
