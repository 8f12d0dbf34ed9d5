"""The working-hours clock's activity: decides every working hours' stored status at the
instant the clock gives (its workflow's time, so a test server's skipped time is the time),
and says when the next change is due. Hours that opened wake the worker's dispatcher, so
what waited is assigned at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from temporalio import activity

from domain.activity_stubs import (
    REFRESH_ACTIVITY,
    REFRESH_WORKING_HOURS_STATUS,
    StatusRefreshed,
    StatusRefreshRequest,
)
from store.db import session_scope
from store.working_hours import refresh_statuses

__all__ = ["REFRESH_ACTIVITY", "StatusRefreshRequest", "StatusRefreshed", "WorkingHoursActivities"]


class WorkingHoursActivities:
    def __init__(self, engine: Engine, on_opened: Callable[[], None] = lambda: None) -> None:
        self._engine = engine
        self._on_opened = on_opened

    @activity.defn(name=REFRESH_WORKING_HOURS_STATUS.name)
    def refresh_working_hours_status(self, request: StatusRefreshRequest) -> StatusRefreshed:
        return self.refresh(request.at)

    def refresh(self, at: datetime) -> StatusRefreshed:
        """Also called by the worker at start-up, before its dispatcher's first pass."""
        with session_scope(self._engine) as session:
            refresh = refresh_statuses(session, at)
        if refresh.opened:
            self._on_opened()
        return StatusRefreshed(opened=refresh.opened, closed=refresh.closed, next_change_at=refresh.next_boundary_at)
