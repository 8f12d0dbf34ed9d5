"""The activities as the workflows see them: a name, an argument type and a result type.

Workflows call activities by these names (`workflow.execute_activity(stub.name, ...,
result_type=stub.result)`), so a workflow module imports only `domain` and `temporalio`,
never `activities/` (which brings the store and SQLAlchemy into the sandbox). The classes in
`activities/` implement each stub under the same name (`@activity.defn(name=stub.name)`);
`tests/unit/test_activity_stubs.py` checks that their signatures agree. The names are fixed:
recorded histories name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from domain.conversation import (
    DESCRIBE_QUEUE_ACTIVITY,
    PROJECT_ACTIVITY,
    ROUTE_ACTIVITY,
    ProjectionRequest,
    QueueRef,
    RouteRequest,
)
from domain.models import RoutingDecision
from domain.sla_clocks import SlaTerms

A = TypeVar("A")
R = TypeVar("R")

REFRESH_ACTIVITY = "refresh_working_hours_status"
MATCH_SLA_ACTIVITY = "match_sla_policy"
# The failure type of a stored routing that cannot be read: retrying cannot mend it.
PERMANENT_ROUTING_FAILURE = "PermanentRoutingFailure"


class StatusRefreshRequest(BaseModel):
    at: datetime


class StatusRefreshed(BaseModel):
    """The hours that opened and closed at `at`, and the earliest next boundary of any (None:
    none within domain.working_hours.LOOK_AHEAD_DAYS)."""

    opened: list[str] = Field(default_factory=list)
    closed: list[str] = Field(default_factory=list)
    # The next boundary; named so in the clock's recorded histories (an activity's result).
    next_change_at: datetime | None = None


class SlaMatchRequest(BaseModel):
    """A conversation's routing facts at its first placement, which the SLA policies match."""

    facts: dict[str, Any]


@dataclass(frozen=True)
class ActivityStub(Generic[A, R]):
    """An activity's name and types; `result` is what the data converter decodes into (it
    may be a union such as `QueueRef | None`, hence not `type[R]`)."""

    name: str
    argument: type[A]
    result: Any


ROUTE_CONVERSATION: ActivityStub[RouteRequest, RoutingDecision] = ActivityStub(
    ROUTE_ACTIVITY, RouteRequest, RoutingDecision
)
DESCRIBE_QUEUE: ActivityStub[str, QueueRef | None] = ActivityStub(
    DESCRIBE_QUEUE_ACTIVITY, str, QueueRef | None
)
PROJECT_CONVERSATION: ActivityStub[ProjectionRequest, None] = ActivityStub(
    PROJECT_ACTIVITY, ProjectionRequest, None
)
REFRESH_WORKING_HOURS_STATUS: ActivityStub[StatusRefreshRequest, StatusRefreshed] = ActivityStub(
    REFRESH_ACTIVITY, StatusRefreshRequest, StatusRefreshed
)

MATCH_SLA_POLICY: ActivityStub[SlaMatchRequest, SlaTerms | None] = ActivityStub(
    MATCH_SLA_ACTIVITY, SlaMatchRequest, SlaTerms | None
)

ALL = (ROUTE_CONVERSATION, DESCRIBE_QUEUE, PROJECT_CONVERSATION, REFRESH_WORKING_HOURS_STATUS, MATCH_SLA_POLICY)
