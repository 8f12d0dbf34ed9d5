"""The dispatcher: every worker process runs one. It claims waiting conversations for
eligible agents in SQL (store.assignment.claim) and tells each conversation's workflow
(`assign` update with the offer), which records ASSIGNED or refuses; a refused offer is
withdrawn, freeing the agent's slot.

Nothing here is state: SQL holds the offers, so any number of dispatchers may run, and one
killed between its claim and its telling leaves OFFERED rows that any other tells again
after OFFER_RETRY_AFTER (the update's id is the offer's, so it is applied once); one no
workflow answers within OFFER_GIVE_UP_AFTER is withdrawn. A pass runs
when a projection in this process may have changed something (a conversation entered a
queue, a slot freed) and at least every PASS_INTERVAL, which catches what other processes
changed (an agent going ACTIVE through the API, joining a queue, a raised capacity), and
when the working-hours clock opens hours (activities/working_hours.py wakes it). A queue
outside its hours is left out by their stored status, which that clock turns with a durable
timer at each opening and closing: no pass computes the hours.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from domain.conversation import Assignment, workflow_id
from domain.models import SYSTEM_ACTOR, utcnow
from services.loops import PassLoop
from store import assignment as assignments
from store.db import session_scope
from workflows.conversation import ConversationWorkflow

PASS_INTERVAL = 1.0
OFFER_RETRY_AFTER = timedelta(seconds=5)
OFFER_GIVE_UP_AFTER = timedelta(minutes=10)
# How long one telling may take: a conversation's workflow answers in well under a second
# unless its worker is gone, and then the offer is told again later.
TELL_DEADLINE = 10.0

log = logging.getLogger("switchboard.dispatcher")


class Dispatcher(PassLoop):
    interval = PASS_INTERVAL
    log = log

    def __init__(self, engine: Engine, client: Client, default_capacity: int) -> None:
        super().__init__()
        self._engine = engine
        self._client = client
        self._default_capacity = default_capacity

    async def run_pass(self) -> None:
        """Claims for every queue with a conversation waiting, and tells each new offer (and
        each left untold) in the background: one slow workflow never holds up a pass."""
        offers = await run_in_threadpool(self._claim_all)
        for offer in offers:
            if not self.in_flight(offer.offer_id):  # else still being told here
                self.start(offer.offer_id, self._tell(offer))

    def _claim_all(self) -> list[assignments.Offer]:
        now = utcnow()
        with session_scope(self._engine) as session:
            queue_ids = [
                queue_id for queue_id in assignments.queues_to_dispatch(session)
                # Read without locks: a queue nobody could take from now is not locked at all.
                if assignments.eligible_agents_count(session, queue_id, self._default_capacity)
            ]
            stale = assignments.stale_offers(session, now - OFFER_RETRY_AFTER)
            # An offer no workflow has answered for this long frees its slot; the conversation
            # waits again and is offered anew.
            for offer in [offer for offer in stale if offer.at < now - OFFER_GIVE_UP_AFTER]:
                assignments.withdraw(session, offer)
                stale.remove(offer)
        offers = stale
        for queue_id in queue_ids:
            # One transaction a queue: its locks are held for one queue's decisions only.
            with session_scope(self._engine) as session:
                offers += assignments.claim(session, queue_id, now, self._default_capacity)
        return offers

    async def _tell(self, offer: assignments.Offer) -> None:
        handle = self._client.get_workflow_handle(workflow_id(offer.conversation_id))
        request = Assignment(
            actor=SYSTEM_ACTOR, agent_id=offer.agent_id, reason=offer.reason,
            offered_in_queue_id=offer.queue_id,
        )
        try:
            await asyncio.wait_for(
                handle.execute_update(ConversationWorkflow.assign, request, id=f"offer-{offer.offer_id}"),
                TELL_DEADLINE,
            )
            # Recorded and projected: the row is HELD now, unless the conversation was
            # unassigned or moved before its projection ran; then this offer is spent.
        except WorkflowUpdateFailedError:
            pass  # refused: closed, moved, or assigned by hand meanwhile
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:  # NOT_FOUND: its workflow has ended
                log.warning("offer %s not told: %s", offer.offer_id, error)
                return
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            # wait_for's cancellation reaches the SDK's call as its own error type.
            log.warning("offer %s not answered in time; told again later", offer.offer_id)
            return
        await run_in_threadpool(self._withdraw, offer)

    def _withdraw(self, offer: assignments.Offer) -> None:
        with session_scope(self._engine) as session:
            assignments.withdraw(session, offer)
