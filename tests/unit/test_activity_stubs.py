"""Each activity a workflow calls by name (domain.activity_stubs) is implemented in
activities/ under that name, taking the stub's argument type and returning its result type."""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

import pytest
from temporalio import activity

from activities.projection import ProjectionActivities
from activities.routing import RoutingActivities
from activities.working_hours import WorkingHoursActivities
from domain import activity_stubs
from domain.activity_stubs import ActivityStub

IMPLEMENTATIONS: dict[str, Callable[..., Any]] = {
    activity_stubs.ROUTE_CONVERSATION.name: RoutingActivities.route_conversation,
    activity_stubs.DESCRIBE_QUEUE.name: RoutingActivities.describe_queue,
    activity_stubs.PROJECT_CONVERSATION.name: ProjectionActivities.project_conversation,
    activity_stubs.MATCH_SLA_POLICY.name: RoutingActivities.match_sla_policy,
    activity_stubs.REFRESH_WORKING_HOURS_STATUS.name:
        WorkingHoursActivities.refresh_working_hours_status,
}


def test_every_stub_has_an_implementation() -> None:
    assert sorted(stub.name for stub in activity_stubs.ALL) == sorted(IMPLEMENTATIONS)


@pytest.mark.parametrize("stub", activity_stubs.ALL, ids=lambda stub: stub.name)
def test_the_implementation_matches_its_stub(stub: ActivityStub) -> None:
    method = IMPLEMENTATIONS[stub.name]
    definition = activity._Definition.must_from_callable(method)
    assert definition.name == stub.name
    hints = typing.get_type_hints(method)
    argument, = (hint for name, hint in hints.items() if name != "return")
    assert argument == stub.argument
    result = hints["return"]
    assert result == (type(None) if stub.result is None else stub.result)
