"""Estimated wait measured against the waits (SPEC "Service level", issue 24):
`stays.entry_estimate_seconds` and `stays.entry_estimate_at`, the estimate a caller read when
the stay entered waiting and when (store.estimated_wait.record, outside the projection), with
an index for the error's reads and one for the stays whose estimate is due.

`conversations.entry_wait_estimate_seconds` (0020) goes: it was never written (recording in
the projection was taken out), and a conversation's stays, not its row, are what the waits are
measured by. Stays from before have no estimate: the error counts none of them.

Revision ID: 0024_stay_entry_estimates
Revises: 0022_queue_moves
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_stay_entry_estimates"
down_revision = "0022_queue_moves"
branch_labels = None
depends_on = None

ESTIMATED = "entry_estimate_seconds IS NOT NULL"
ESTIMATE_DUE = "entry_estimate_at IS NULL AND answered_at IS NULL AND ended_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table('stays', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entry_estimate_seconds', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('entry_estimate_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            'ix_stays_queue_answered_estimate', ['queue_id', 'answered_at', 'entered_at', 'entry_estimate_seconds'],
            unique=False, sqlite_where=sa.text(ESTIMATED), postgresql_where=sa.text(ESTIMATED))
        batch_op.create_index('ix_stays_estimate_due', ['entered_at'], unique=False,
                              sqlite_where=sa.text(ESTIMATE_DUE), postgresql_where=sa.text(ESTIMATE_DUE))
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('entry_wait_estimate_seconds')


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entry_wait_estimate_seconds', sa.Float(), nullable=True))
    with op.batch_alter_table('stays', schema=None) as batch_op:
        batch_op.drop_index('ix_stays_estimate_due')
        batch_op.drop_index('ix_stays_queue_answered_estimate')
        batch_op.drop_column('entry_estimate_at')
        batch_op.drop_column('entry_estimate_seconds')
