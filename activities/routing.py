"""Evaluates the routing in force for a conversation's facts."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.activity_stubs import (
    DESCRIBE_QUEUE,
    MATCH_SLA_POLICY,
    PERMANENT_ROUTING_FAILURE,
    ROUTE_CONVERSATION,
    SlaMatchRequest,
)
from domain.conversation import QueueRef, RouteRequest
from domain.expressions import ExpressionError
from domain.models import RoutingDecision
from domain.routing import RoutingValidationError, bounded
from domain.sla import PolicyPredicates
from domain.sla_clocks import SlaTerms
from store.db import session_scope
from store.queues import live_queue, queue_ref_of
from store.routing import RoutingLoader
from store.sla_policies import terms_for

# Trace entries a ROUTED event keeps: every rule up to the 100th tried is explained in full;
# GET /conversations/{id}/simulate-routing explains any decision again with every rule.
STORED_TRACE_LIMIT = 100
__all__ = ["PERMANENT_ROUTING_FAILURE", "STORED_TRACE_LIMIT", "RoutingActivities"]


class RoutingActivities:
    def __init__(self, engine: Engine, loader: RoutingLoader | None = None) -> None:
        self._engine = engine
        self._loader = loader or RoutingLoader()
        # The SLA policies' compiled expressions, kept between matches as the routing's are.
        self._sla_predicates = PolicyPredicates()

    @activity.defn(name=ROUTE_CONVERSATION.name)
    def route_conversation(self, request: RouteRequest) -> RoutingDecision:
        try:
            with session_scope(self._engine) as session:
                decision = self._loader.decide(
                    session, request.facts, request.customer, request.skip_queues,
                    request.fallback_queue_id,
                )
        except (ValidationError, ExpressionError, RoutingValidationError) as bad_data:
            # Saved routings are validated, so only a store changed behind the API gets here.
            raise ApplicationError(
                f"the stored routing cannot be evaluated: {bad_data}",
                type=PERMANENT_ROUTING_FAILURE,
                non_retryable=True,
            ) from bad_data
        return bounded(decision, STORED_TRACE_LIMIT)

    @activity.defn(name=DESCRIBE_QUEUE.name)
    def describe_queue(self, queue_id: str) -> QueueRef | None:
        """The live queue an escalation step moves a conversation to (its bot, its own
        ladder), or None if it is gone."""
        with session_scope(self._engine) as session:
            row = live_queue(session, queue_id)
            return queue_ref_of(session, row) if row is not None else None

    @activity.defn(name=MATCH_SLA_POLICY.name)
    def match_sla_policy(self, request: SlaMatchRequest) -> SlaTerms | None:
        """The SLA policy a conversation gets at its first placement, as terms it keeps."""
        with session_scope(self._engine) as session:
            return terms_for(session, request.facts, self._sla_predicates)
