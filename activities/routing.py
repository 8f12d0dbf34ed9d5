"""Evaluates the routing in force for a conversation's facts."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from temporalio import activity

from domain.conversation import ROUTE_ACTIVITY, RouteRequest
from domain.models import RoutingDecision
from domain.routing import bounded
from store.db import session_scope
from store.routing import RoutingLoader


# Trace entries a ROUTED event keeps: every rule up to the 100th tried is explained in full;
# GET /conversations/{id}/simulate-routing explains any decision again with every rule.
STORED_TRACE_LIMIT = 100


class RoutingActivities:
    def __init__(self, engine: Engine, loader: RoutingLoader | None = None) -> None:
        self._engine = engine
        self._loader = loader or RoutingLoader()

    @activity.defn(name=ROUTE_ACTIVITY)
    def route_conversation(self, request: RouteRequest) -> RoutingDecision:
        with session_scope(self._engine) as session:
            decision = self._loader.decide(
                session, request.facts, request.customer, request.skip_queues,
                request.fallback_queue_id,
            )
        return bounded(decision, STORED_TRACE_LIMIT)
