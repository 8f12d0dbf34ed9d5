"""Indexes for retention and for coalescing agent.status_changed deliveries.

- `event_feed.at` and `webhook_deliveries.created_at`: retention (store.retention) finds the
  rows older than SWITCHBOARD_RETENTION_DAYS by age, a batch at a time.
- `webhook_deliveries.event_id`: whether a feed event is still needed by a delivery (the
  unique index leads with `subscription_id`, so it cannot answer that).
- `webhook_deliveries (event_type, state)`: the pending `agent.status_changed` deliveries a
  newer status replaces (store.events_out), found without reading every pending delivery.

Indexes only: no row changes. On PostgreSQL building them holds writes to these two tables
for as long as it takes (seconds for millions of rows), once, at the upgrade.

Revision ID: 0012_retention_indexes
Revises: 0011_console_sessions
"""

from __future__ import annotations

from alembic import op

revision = "0012_retention_indexes"
down_revision = "0011_console_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event_feed", schema=None) as batch_op:
        batch_op.create_index("ix_event_feed_at", ["at"], unique=False)
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_created", ["created_at"], unique=False)
        batch_op.create_index("ix_webhook_deliveries_event", ["event_id"], unique=False)
        batch_op.create_index("ix_webhook_deliveries_type_state", ["event_type", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_type_state")
        batch_op.drop_index("ix_webhook_deliveries_event")
        batch_op.drop_index("ix_webhook_deliveries_created")
    with op.batch_alter_table("event_feed", schema=None) as batch_op:
        batch_op.drop_index("ix_event_feed_at")
