"""The working-hours clock's activity: decides every working hours' stored status at the
instant the clock gives (its workflow's time, so a test server's skipped time is the time),
and says when the next change is due. Hours that opened wake the worker's dispatcher, so
what waited is assigned at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from temporalio import activity

from store.db import session_scope
from store.working_hours import refresh_statuses

REFRESH_ACTIVITY = "refresh_working_hours_status"


class StatusRefreshRequest(BaseModel):
    at: datetime


class StatusRefreshed(BaseModel):
    """The hours that opened and closed at `at`, and the earliest next change of any (None:
    none within domain.working_hours.LOOK_AHEAD_DAYS)."""

    opened: list[str] = Field(default_factory=list)
    closed: list[str] = Field(default_factory=list)
    next_change_at: datetime | None = None


class WorkingHoursActivities:
    def __init__(self, engine: Engine, on_opened: Callable[[], None] = lambda: None) -> None:
        self._engine = engine
        self._on_opened = on_opened

    @activity.defn(name=REFRESH_ACTIVITY)
    def refresh_working_hours_status(self, request: StatusRefreshRequest) -> StatusRefreshed:
        return self.refresh(request.at)

    def refresh(self, at: datetime) -> StatusRefreshed:
        """Also called by the worker at start-up, before its dispatcher's first pass."""
        with session_scope(self._engine) as session:
            refresh = refresh_statuses(session, at)
        if refresh.opened:
            self._on_opened()
        return StatusRefreshed(opened=refresh.opened, closed=refresh.closed, next_change_at=refresh.next_change_at)
