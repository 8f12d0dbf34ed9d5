"""Offers lapse on time even when the worker that has the run cached was killed: shortly before
a pending offer's moment, its run's stickiness is reset (ResetStickyTaskQueue), so the
workflow task its timer makes goes to the task queue every live worker polls, and whichever
takes it replays the run.

Without it, that task goes to the sticky queue of the worker that ran the run's last task.
Temporal deems a worker that was killed (kill -9) alive for 10 s after its last poll, so a
task due in those seconds waits there for the sticky timeout (switchboard.worker.
STICKY_TAKE_OVER, 3 s) before any other worker may take it: the lapse comes 3 s late. Resetting
moves nothing already on a sticky queue (the server only forgets the run's sticky queue), hence
before the moment, by at least a pass. The cost is one call and one replay per lapse, paid
whether or not a worker died; lapses are few (an agent who did not answer in time).

Every worker process runs one; with several, each resets each offer (the call is idempotent).
An offer taken back meanwhile (answered, withdrawn) costs one needless replay.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import ResetStickyTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

from domain.conversation import workflow_id
from domain.models import utcnow
from services.loops import PassLoop
from store import assignment as assignments
from store.db import session_scope

PASS_INTERVAL = 0.5
# Offers lapsing this soon are reset: at least a pass (and its call) ahead of the moment. Not
# much more: a task of the run meanwhile (a message recorded) makes it sticky again.
AHEAD = timedelta(seconds=1.5)
CALL_DEADLINE = timedelta(seconds=5)

log = logging.getLogger("switchboard.lapse_unsticking")


class LapseUnsticker(PassLoop):
    interval = PASS_INTERVAL
    log = log

    def __init__(self, engine: Engine, client: Client) -> None:
        super().__init__()
        self._engine = engine
        self._client = client
        # The offers reset, by (conversation, moment), until their moment has passed.
        self._reset: set[tuple[str, datetime]] = set()

    async def run_pass(self) -> None:
        now = utcnow()
        lapsing = await asyncio.to_thread(self._lapsing, now)
        self._reset = {offer for offer in self._reset if offer[1] > now}
        for offer in lapsing:
            key = f"unstick-{offer[0]}-{offer[1].isoformat()}"
            if offer not in self._reset and not self.in_flight(key):
                self._reset.add(offer)
                self.start(key, self._unstick(offer[0]))

    def _lapsing(self, now: datetime) -> list[tuple[str, datetime]]:
        with session_scope(self._engine) as session:
            return assignments.offers_lapsing(session, after=now, until=now + AHEAD)

    async def _unstick(self, conversation_id: str) -> None:
        try:
            await self._client.workflow_service.reset_sticky_task_queue(ResetStickyTaskQueueRequest(
                namespace=self._client.namespace,
                execution=WorkflowExecution(workflow_id=workflow_id(conversation_id))),
                timeout=CALL_DEADLINE)
        except RPCError as error:  # ended meanwhile, or the server is unreachable: nothing to do
            log.info("run of %s not reset before its lapse: %s", conversation_id, error)
