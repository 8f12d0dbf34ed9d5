"""FastAPI dependencies: the database session, the caller, the Temporal client, settings the
app holds. Routes take them by their aliases (`session: SessionDep`), FastAPI's own idiom."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError

from api.auth import Principal, current_principal
from store.db import session_scope


def db(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.engine) as session:
        yield session


def engine_of(request: Request) -> Engine:
    """The app's database, for work run in a thread of its own (`run_in_threadpool`)."""
    return request.app.state.engine


def default_capacity(request: Request) -> int:
    """SWITCHBOARD_DEFAULT_AGENT_CAPACITY: what an agent without its own capacity holds."""
    return request.app.state.default_agent_capacity


def temporal(request: Request) -> Client:
    return request.app.state.temporal


SessionDep = Annotated[Session, Depends(db)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
TemporalDep = Annotated[Client, Depends(temporal)]


# A workflow call cut off at the app's `update_deadline` by asyncio.wait_for: the SDK answers
# its own cancellation with the latter, which wait_for passes on as it is.
DEADLINE_PASSED = (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError)
