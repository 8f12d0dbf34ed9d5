"""store.assignment.offers_lapsing on SQLite and PostgreSQL: the pending offers whose moment
falls in the window (after its start, up to its end), no HELD or CLAIMED row, none lapsed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from store import assignment
from store.db import session_scope
from store.tables import AssignmentRow

NOW = datetime(2026, 12, 8, 9, tzinfo=UTC)


def test_only_pending_offers_lapsing_in_the_window(engine: Engine):
    rows = {"past": (assignment.OFFERED, -1), "soon": (assignment.OFFERED, 1), "at the end": (assignment.OFFERED, 2),
            "later": (assignment.OFFERED, 3), "held": (assignment.HELD, None), "claimed": (assignment.CLAIMED, None)}
    with session_scope(engine) as session:
        for conversation_id, (state, in_seconds) in rows.items():
            session.add(AssignmentRow(
                conversation_id=conversation_id, agent_id="ana", state=state, at=NOW,
                expires_at=None if in_seconds is None else NOW + timedelta(seconds=in_seconds)))
    with session_scope(engine) as session:
        lapsing = assignment.offers_lapsing(session, after=NOW, until=NOW + timedelta(seconds=2))
    assert sorted(lapsing) == [("at the end", NOW + timedelta(seconds=2)), ("soon", NOW + timedelta(seconds=1))]
