"""/ccaas/1/queues/statistics and /ccaas/1/queues/{queueId}/statistics

What a supervisor watches: the open conversations of each queue by status and priority, the
one waiting longest (counted from when it last entered the queue), the traffic of the last
hour, and how work reaches agents (waiting, assigned, eligible agents, time to first
assignment). The definitions and the cost are in `store.statistics`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import SessionDep, default_capacity
from api.errors import not_found
from api.schemas import ApiModel, UtcTime
from domain.models import utcnow
from store import statistics as statistics_store
from store.tables import QueueRow

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


class OneQueueStatisticsOut(QueueStatisticsOut):
    generated_at: UtcTime


class AllQueuesStatisticsOut(ApiModel):
    queues: list[QueueStatisticsOut]
    generated_at: UtcTime


def statistics_out(stats: statistics_store.QueueStatistics) -> dict:
    waiting = stats.longest_waiting
    return dict(
        queue_id=stats.queue_id,
        queue_name=stats.queue_name,
        open_conversations=stats.open_conversations,
        by_status=dict(stats.by_status),
        by_priority=dict(stats.by_priority),
        longest_waiting=None if waiting is None else LongestWaitingOut(
            conversation_id=waiting.conversation_id,
            age_seconds=waiting.age_seconds,
            since=waiting.since,
        ),
        routed_in_last_hour=stats.routed_in,
        routed_out_last_hour=stats.routed_out,
        mean_time_in_queue_seconds_last_hour=stats.mean_time_in_queue_seconds,
        waiting_unassigned=stats.waiting,
        assigned=stats.assigned,
        pending_offers=stats.pending_offers,
        eligible_agents=stats.eligible_agents,
        time_to_first_assignment_p50_seconds_last_hour=stats.first_assignment_p50_seconds,
        time_to_first_assignment_p90_seconds_last_hour=stats.first_assignment_p90_seconds,
    )


@router.get("/statistics", response_model=AllQueuesStatisticsOut)
def all_queues_statistics(
    session: SessionDep, capacity: int = Depends(default_capacity)
) -> AllQueuesStatisticsOut:
    """Statistics of every live queue, oldest queue first."""
    now = utcnow()
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
    queue_id: str, session: SessionDep, capacity: int = Depends(default_capacity)
) -> OneQueueStatisticsOut:
    """Statistics of one queue; a deleted queue may still be asked (its last hour's moves)."""
    row = session.get(QueueRow, queue_id)
    if row is None:
        raise not_found("Queue")
    now = utcnow()
    [stats] = statistics_store.queue_statistics(session, [row], now, default_capacity=capacity)
    return OneQueueStatisticsOut(**statistics_out(stats), generated_at=now)
