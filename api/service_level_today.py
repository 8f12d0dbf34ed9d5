"""GET /ccaas/1/queues/{queueId}/service-level-today: the queue's service level since midnight
in its working hours' zone, hour by hour, against its target, and its SLA breaches today
(store.service_level_day), for the console's wallboard. Served by api.staffing's router, under
/ccaas/1/queues beside the staffing route. Who may ask is api.permissions' (the
spec's "wallboard": supervisors any queue, an agent its own, bots not)."""

from __future__ import annotations

from fastapi import Request

from api.deps import SessionDep
from api.errors import not_found
from api.schemas import ApiModel, UtcTime
from store.service_level_day import service_level_today
from store.tables import QueueRow

PATH = "/{queue_id}/service-level-today"


class ServiceLevelIntervalOut(ApiModel):
    start: UtcTime
    end: UtcTime
    answered: int
    answered_within_target: int
    abandoned: int
    abandoned_after_target: int
    # answered within the target / (answered + abandoned after it); null: neither in the hour.
    service_level: float | None


class ServiceLevelTodayOut(ApiModel):
    queue_id: str
    queue_name: str
    # The zone whose midnight starts the day: the queue's working hours', else UTC.
    time_zone: str
    day_start: UtcTime
    generated_at: UtcTime
    target_seconds: int
    target_percent: int
    answered: int
    abandoned: int
    service_level: float | None
    meets_target: bool | None
    sla_breaches: int
    intervals: list[ServiceLevelIntervalOut]


def queue_service_level_today(queue_id: str, session: SessionDep, request: Request) -> ServiceLevelTodayOut:
    """Service level today, by hour (stays counted in the hour they were answered or abandoned),
    and the SLA breaches today of conversations in the queue at their breach. "Today" is the
    app's clock's (app.state.clock, which tests fix), as the working hours' status is."""
    queue = session.get(QueueRow, queue_id)
    if queue is None:
        raise not_found("Queue")
    day = service_level_today(session, queue, request.app.state.clock())
    level = day.figures.service_level
    return ServiceLevelTodayOut(
        queue_id=queue.id, queue_name=queue.name, time_zone=day.time_zone, day_start=day.start,
        generated_at=day.now, target_seconds=queue.service_level_target_seconds,
        target_percent=queue.service_level_target_percent, answered=day.figures.answered,
        abandoned=day.figures.abandoned, service_level=level, meets_target=day.figures.service_level_met,
        sla_breaches=day.sla_breaches,
        intervals=[ServiceLevelIntervalOut(
            start=i.start, end=i.end, answered=i.figures.answered,
            answered_within_target=i.figures.answered_within_target, abandoned=i.figures.abandoned,
            abandoned_after_target=i.figures.abandoned_after_target, service_level=i.figures.service_level)
            for i in day.intervals],
    )
