"""/ccaas/1/queues/statistics and /ccaas/1/queues/{queueId}/statistics

What a supervisor watches: the open conversations of each queue by status and priority, the
one waiting longest (counted from when it last entered the queue), the traffic of the last
hour, and how work reaches agents (waiting, assigned, eligible agents, time to first
assignment). One queue's also answer over a window (`from`, `to`; the last hour by default)
by stays: entered, answered, abandoned, first agent replies, the service level against the
queue's target, offers, and how wrong the estimated waits were. The definitions and the cost
are in `store.statistics`, `store.estimated_wait` and `domain.stays`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Query, Request

from api.deps import SessionDep, default_capacity
from api.errors import bad_request, not_found
from api.query_params import TIME_FORMS
from api.schemas import ApiModel, IsoTime, UtcTime, as_utc
from store import estimated_wait
from store import statistics as statistics_store
from store.tables import QueueRow

# The longest window one request may ask for.
MAX_WINDOW = timedelta(days=31)

# Included before the queues router, so `statistics` is never taken for a queue id.
router = APIRouter(prefix="/ccaas/1/queues", tags=["queues"])


class LongestWaitingOut(ApiModel):
    conversation_id: str
    # Seconds since `since`, with millisecond precision.
    age_seconds: float
    # When the conversation last entered the queue.
    since: UtcTime


class QueueStatisticsOut(ApiModel):
    queue_id: str
    queue_name: str
    open_conversations: int
    # Every key present: OPEN, WAITING, SOLVED.
    by_status: dict[str, int]
    # Every key present, highest first: URGENT, HIGH, NORMAL, LOW.
    by_priority: dict[str, int]
    longest_waiting: LongestWaitingOut | None
    routed_in_last_hour: int
    routed_out_last_hour: int
    # Mean of the stays that ended by a move out in the last hour; null when none did.
    mean_time_in_queue_seconds_last_hour: float | None
    # OPEN or WAITING without an agent (and no offer pending) / with one; those offered to an
    # agent who has yet to answer; agents that could take one more now.
    waiting_unassigned: int
    assigned: int
    pending_offers: int
    eligible_agents: int
    # From creation to first assignment, for those first assigned in the last hour (nearest
    # rank); null when none was.
    time_to_first_assignment_p50_seconds_last_hour: float | None
    time_to_first_assignment_p90_seconds_last_hour: float | None
    # Waiting (OPEN or WAITING, no agent, no offer pending) now, every key present, highest
    # first: URGENT, HIGH, NORMAL, LOW; the one of them that entered the queue first.
    waiting_by_priority: dict[str, int]
    longest_waiting_unassigned: LongestWaitingOut | None
    # Enabled ACTIVE members, with room or not (eligibleAgents: those with room).
    active_member_agents: int


class TimingOut(ApiModel):
    """Seconds: mean, p50 and p90 (nearest rank); each null with nothing timed."""

    average: float | None
    p50: float | None
    p90: float | None


class OffersOut(ApiModel):
    """Offer events in the window: OFFERED, accepts (ASSIGNED carrying the offer's expiresAt),
    OFFER_DECLINED, OFFER_EXPIRED, OFFER_WITHDRAWN; time to accept from each accept's OFFERED."""

    made: int
    accepted: int
    declined: int
    lapsed: int
    withdrawn: int
    time_to_accept: TimingOut


class OneQueueStatisticsOut(QueueStatisticsOut):
    generated_at: UtcTime
    # The window the stay figures count, [windowStart, windowEnd] (both included).
    window_start: UtcTime
    window_end: UtcTime
    # Stays entered in the window; answered (first ASSIGNED) and abandoned (ended unassigned by
    # SOLVED or CLOSED, not out of hours, not with a bot) in it; first agent replies in it.
    stays_entered: int
    stays_answered: int
    stays_abandoned: int
    first_agent_replies: int
    answered_within_target: int
    abandoned_after_target: int
    # answeredWithinTarget / (staysAnswered + abandonedAfterTarget); null with neither.
    service_level: float | None
    # serviceLevel * 100 >= serviceLevelTargetPercent; null with no service level.
    service_level_met: bool | None
    service_level_target_seconds: int
    service_level_target_percent: int
    # From the stay's entry to its answer / its first agent reply.
    time_to_answer: TimingOut
    time_to_first_reply: TimingOut
    # Null when no offer event fell in the window.
    offers: OffersOut | None
    # Median (nearest rank) of |estimated wait at entry - wait| over the stays answered in the
    # window that were given an estimate (abandoned ones are not: their wait is cut short);
    # null with none (store.estimated_wait).
    estimated_wait_error_seconds: float | None


class AllQueuesStatisticsOut(ApiModel):
    queues: list[QueueStatisticsOut]
    generated_at: UtcTime


def longest_out(waiting: statistics_store.LongestWaiting | None) -> LongestWaitingOut | None:
    return None if waiting is None else LongestWaitingOut(
        conversation_id=waiting.conversation_id,
        age_seconds=waiting.age_seconds,
        since=waiting.since,
    )


def statistics_out(stats: statistics_store.QueueStatistics) -> dict:
    return dict(
        queue_id=stats.queue_id,
        queue_name=stats.queue_name,
        open_conversations=stats.open_conversations,
        by_status=dict(stats.by_status),
        by_priority=dict(stats.by_priority),
        longest_waiting=longest_out(stats.longest_waiting),
        routed_in_last_hour=stats.routed_in,
        routed_out_last_hour=stats.routed_out,
        mean_time_in_queue_seconds_last_hour=stats.mean_time_in_queue_seconds,
        waiting_unassigned=stats.waiting,
        assigned=stats.assigned,
        pending_offers=stats.pending_offers,
        eligible_agents=stats.eligible_agents,
        time_to_first_assignment_p50_seconds_last_hour=stats.first_assignment_p50_seconds,
        time_to_first_assignment_p90_seconds_last_hour=stats.first_assignment_p90_seconds,
        waiting_by_priority=dict(stats.waiting_by_priority),
        longest_waiting_unassigned=longest_out(stats.longest_unassigned),
        active_member_agents=stats.active_members,
    )


def timing_out(timing: statistics_store.Timing) -> TimingOut:
    return TimingOut(average=timing.average, p50=timing.p50, p90=timing.p90)


def stays_out(figures: statistics_store.StayFigures) -> dict:
    offers = OffersOut(
        made=figures.offers_made, accepted=figures.offers_accepted,
        declined=figures.offers_declined, lapsed=figures.offers_lapsed,
        withdrawn=figures.offers_withdrawn, time_to_accept=timing_out(figures.time_to_accept),
    ) if figures.any_offer else None
    return dict(
        stays_entered=figures.entered,
        stays_answered=figures.answered,
        stays_abandoned=figures.abandoned,
        first_agent_replies=figures.first_replies,
        answered_within_target=figures.answered_within_target,
        abandoned_after_target=figures.abandoned_after_target,
        service_level=figures.service_level,
        service_level_met=figures.service_level_met,
        service_level_target_seconds=figures.target_seconds,
        service_level_target_percent=figures.target_percent,
        time_to_answer=timing_out(figures.time_to_answer),
        time_to_first_reply=timing_out(figures.time_to_first_reply),
        offers=offers,
    )


def window_of(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """[from, to]: `to` defaults to now, `from` to an hour before `to`; from < to, at most
    MAX_WINDOW apart (a 400 at the parameter given last in that order)."""
    end_at = as_utc(end) if end is not None else now
    start_at = as_utc(start) if start is not None else end_at - statistics_store.WINDOW
    blamed = "to" if end is not None else "from"
    if start_at >= end_at:
        raise bad_request(blamed, "`from` must be before `to`")
    if end_at - start_at > MAX_WINDOW:
        raise bad_request(blamed, "`from` and `to` are at most 31 days apart")
    return start_at, end_at


@router.get("/statistics", response_model=AllQueuesStatisticsOut)
def all_queues_statistics(
    request: Request, session: SessionDep, capacity: int = Depends(default_capacity)
) -> AllQueuesStatisticsOut:
    """Statistics of every live queue, oldest queue first."""
    now = request.app.state.clock()
    queues = statistics_store.live_queues(session)
    return AllQueuesStatisticsOut(
        queues=[
            QueueStatisticsOut(**statistics_out(stats))
            for stats in statistics_store.queue_statistics(session, queues, now, default_capacity=capacity)
        ],
        generated_at=now,
    )


@router.get("/{queue_id}/statistics", response_model=OneQueueStatisticsOut)
def queue_statistics(
    queue_id: str, request: Request, session: SessionDep, capacity: int = Depends(default_capacity),
    start: IsoTime | None = Query(
        default=None, alias="from",
        description=f"Start of the stays' window, included (default: an hour before `to`; {TIME_FORMS})"),
    end: IsoTime | None = Query(
        default=None, alias="to",
        description=f"End of the stays' window, included (default: now; at most 31 days after `from`; {TIME_FORMS})"),
) -> OneQueueStatisticsOut:
    """Statistics of one queue; a deleted queue may still be asked (its last hour's moves). The
    `…LastHour` fields always count the hour before now; the stay figures count the window."""
    now = request.app.state.clock()
    window_start, window_end = window_of(start, end, now)
    row = session.get(QueueRow, queue_id)
    if row is None:
        raise not_found("Queue")
    [stats] = statistics_store.queue_statistics(session, [row], now, default_capacity=capacity)
    figures = statistics_store.window_stays(session, row, window_start, window_end)
    return OneQueueStatisticsOut(
        **statistics_out(stats), **stays_out(figures), generated_at=now,
        estimated_wait_error_seconds=estimated_wait.estimate_error(session, row.id, window_start, window_end),
        window_start=window_start, window_end=window_end,
    )
