"""FastAPI dependencies: the database session and the Temporal client."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlmodel import Session
from temporalio.client import Client

from store.db import session_scope


def db(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.engine) as session:
        yield session


def temporal(request: Request) -> Client:
    return request.app.state.temporal
