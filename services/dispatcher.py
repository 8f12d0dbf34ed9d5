"""The dispatcher: every worker process runs one. It claims waiting conversations for
eligible agents in SQL (store.assignment.claim) and tells each conversation's workflow
(`assign` update with the claim), which records ASSIGNED (OFFERED where the queue makes
offers) or refuses; a refused claim is withdrawn, freeing the agent's slot. It also takes back
offers whose agents can no longer take them (`withdraw_offer`).

Nothing here is state: SQL holds the claims, so any number of dispatchers may run, and one
killed between its claim and its telling leaves CLAIMED rows that any other tells again
after CLAIM_RETELL_AFTER (the update's id is the claim's, so it is applied once); one no
workflow answers within CLAIM_GIVE_UP_AFTER is withdrawn. A pass runs
when a projection in this process may have changed something (a conversation entered a
queue, a slot freed) and at least every PASS_INTERVAL, which catches what other processes
changed (an agent going ACTIVE through the API, joining a queue, a raised capacity), and
when the working-hours clock opens hours (activities/working_hours.py wakes it). A pass that
claims, and one a PASS_INTERVAL, first records the estimated wait of the stays that entered
waiting since (store.estimated_wait.record): the one a caller read at the entry, kept to
measure it. A queue
outside its hours is left out by their stored status, which that clock turns with a durable
timer at each opening and closing: no pass computes the hours.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from domain.conversation import Assignment, OfferWithdrawal, workflow_id
from domain.models import SYSTEM_ACTOR, utcnow
from services.loops import PassLoop
from store import assignment as assignments
from store import estimated_wait
from store.db import session_scope
from workflows.conversation import ConversationWorkflow

PASS_INTERVAL = 1.0
CLAIM_RETELL_AFTER = timedelta(seconds=5)
CLAIM_GIVE_UP_AFTER = timedelta(minutes=10)
# How long one telling may take: a conversation's workflow answers in well under a second
# unless its worker is gone, and then the claim is told again later.
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
        self._periodic_at: datetime | None = None

    async def run_pass(self) -> None:
        """Claims for every queue with a conversation waiting, and tells each new claim (and
        each left untold) in the background: one slow workflow never holds up a pass. Takes
        back the offers their agents can no longer take, likewise."""
        claims, withdrawals = await asyncio.to_thread(self._claim_all)
        for claim in claims:
            if not self.in_flight(claim.claim_id):  # else still being told here
                self.start(claim.claim_id, self._tell(claim))
        for withdrawal in withdrawals:
            if not self.in_flight(withdrawal.key):
                self.start(withdrawal.key, self._withdraw_offer(withdrawal))

    def _claim_all(self) -> tuple[list[assignments.Claim], list[assignments.Withdrawal]]:
        now = utcnow()
        with session_scope(self._engine) as session:
            # Once a PASS_INTERVAL, not at every wake: the changes they answer are the API's
            # (an agent going AWAY, a queue turning offers off), seen within about a second.
            periodic = self._periodic_due(now)
            # First, so that a slot a given-up claim frees is claimed in this pass.
            stale = self._stale_claims(session, now) if periodic else []
            withdrawals = assignments.offers_to_withdraw(session) if periodic else []
            # Read without locks: a queue nobody could take from now is not locked at all,
            # and while no queue has room no conversation is read.
            with_room = assignments.queues_with_room(session, self._default_capacity)
            queue_ids = assignments.queues_to_dispatch(session, among=with_room)
        if periodic or queue_ids:
            # Before any claim: a stay just entered gets the estimate read before it is
            # claimed. Otherwise once a PASS_INTERVAL: at every wake of a burst into queues
            # nobody can take from, the reads and the write halved make bench's creates.
            with session_scope(self._engine) as session:
                estimated_wait.record(session, now, self._default_capacity)
        claims = stale
        for queue_id in queue_ids:
            # One transaction a queue: its locks are held for one queue's decisions only.
            with session_scope(self._engine) as session:
                claims += assignments.claim(session, queue_id, now, self._default_capacity)
        return claims, withdrawals

    def _periodic_due(self, now: datetime) -> bool:
        """Whether this pass looks for stale claims and offers to withdraw: once a
        PASS_INTERVAL, not at every wake (a burst of projections wakes the dispatcher for each)."""
        if self._periodic_at is not None and now - self._periodic_at < timedelta(seconds=PASS_INTERVAL):
            return False
        self._periodic_at = now
        return True

    def _stale_claims(self, session: Session, now: datetime) -> list[assignments.Claim]:
        """Claims to tell again: a claim is stale after seconds."""
        stale = assignments.stale_claims(session, now - CLAIM_RETELL_AFTER)
        # A claim no workflow has answered for this long frees its slot; the conversation
        # waits again and is claimed anew.
        for claim in [claim for claim in stale if claim.at < now - CLAIM_GIVE_UP_AFTER]:
            assignments.withdraw(session, claim)
            stale.remove(claim)
        return stale

    async def _tell(self, claim: assignments.Claim) -> None:
        handle = self._client.get_workflow_handle(workflow_id(claim.conversation_id))
        # `offered_in_queue_id` keeps its name: it is in every recorded `assign` update.
        request = Assignment(
            actor=SYSTEM_ACTOR, agent_id=claim.agent_id, reason=claim.reason,
            offered_in_queue_id=claim.queue_id, offer_timeout_seconds=claim.offer_timeout_seconds,
        )
        try:
            # The update's id keeps the "offer-" prefix claims had before they were called so:
            # a claim told before that rename and told again after it must be applied once.
            await asyncio.wait_for(
                handle.execute_update(ConversationWorkflow.assign, request, id=f"offer-{claim.claim_id}"),
                TELL_DEADLINE,
            )
            # Recorded and projected: the row is HELD now (OFFERED where the queue makes offers),
            # unless the conversation was unassigned or moved before its projection ran; then
            # this claim is spent.
        except WorkflowUpdateFailedError:
            pass  # refused: closed, moved, or assigned by hand meanwhile
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:  # NOT_FOUND: its workflow has ended
                log.warning("claim %s not told: %s", claim.claim_id, error)
                return
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            # wait_for's cancellation reaches the SDK's call as its own error type.
            log.warning("claim %s not answered in time; told again later", claim.claim_id)
            return
        await asyncio.to_thread(self._withdraw, claim)

    async def _withdraw_offer(self, withdrawal: assignments.Withdrawal) -> None:
        """Tells the workflow to take the offer back (applied once: the update id is the
        offer's); its projection then frees the agent's slot."""
        handle = self._client.get_workflow_handle(workflow_id(withdrawal.conversation_id))
        request = OfferWithdrawal(agent_id=withdrawal.agent_id, reason=withdrawal.reason)
        try:
            await asyncio.wait_for(
                handle.execute_update(ConversationWorkflow.withdraw_offer, request, id=withdrawal.key), TELL_DEADLINE)
        except (WorkflowUpdateFailedError, RPCError, TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
            # Closed or ended meanwhile (its offer went with it), or slow: the next pass asks again.
            log.info("offer of %s not withdrawn yet: %s", withdrawal.conversation_id, error)

    def _withdraw(self, claim: assignments.Claim) -> None:
        with session_scope(self._engine) as session:
            assignments.withdraw(session, claim)
