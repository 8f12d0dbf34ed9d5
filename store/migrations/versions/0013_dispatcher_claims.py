"""The dispatcher's claims are called claims: `assignments.state` 'OFFERED' becomes 'CLAIMED'
and `assignments.offer_id` becomes `claim_id`, so that "offer" is free for agent offers
(SPEC, "Offers").

Rows in flight keep their ids, and the dispatcher tells them again under the same update id,
so a claim made before the upgrade is still applied once. No index or constraint names the
value.

Revision ID: 0013_dispatcher_claims
Revises: 0012_retention_indexes
"""

from __future__ import annotations

from alembic import op

revision = "0013_dispatcher_claims"
down_revision = "0012_retention_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.alter_column("offer_id", new_column_name="claim_id")
    op.execute("UPDATE assignments SET state = 'CLAIMED' WHERE state = 'OFFERED'")


def downgrade() -> None:
    op.execute("UPDATE assignments SET state = 'OFFERED' WHERE state = 'CLAIMED'")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.alter_column("claim_id", new_column_name="offer_id")
