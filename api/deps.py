"""FastAPI dependencies: the database session, the Temporal client, the caller's rights."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, Request
from sqlmodel import Session
from temporalio.client import Client

from api.auth import Principal, current_principal
from api.errors import ApiError
from store.db import session_scope


def db(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.engine) as session:
        yield session


def temporal(request: Request) -> Client:
    return request.app.state.temporal


def supervisor(principal: Principal = Depends(current_principal)) -> Principal:
    if not principal.is_supervisor:
        raise ApiError(403, "Only a supervisor may do this")
    return principal
