"""Console sessions: a sign-in of the web console, the service's own (not the API key).

The browser holds a random token (256 bits); only its SHA-256 is kept, as the row's id, so a
copy of the database signs nobody in, and a look-up touches one row. A session belongs to the
API key it was opened with and ends at `expires_at`, when it is signed out, or when its key is
disabled (rotation, deletion: store.keys.disable_keys ends them).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from store.tables import ConsoleSessionRow

# A token is 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 256


def _session_id(token: str) -> str:
    return hashlib.sha256(b"switchboard-console-session:" + token.encode()).hexdigest()


def open_session(session: Session, key_id: str, now: datetime, lifetime: timedelta) -> str:
    """A new session for this key, until now + lifetime; returns the token for the cookie.
    Sessions that have ended meanwhile are swept on the way (nothing else needs them)."""
    session.exec(delete(ConsoleSessionRow).where(col(ConsoleSessionRow.expires_at) <= now))
    token = secrets.token_urlsafe(32)
    session.add(ConsoleSessionRow(id=_session_id(token), key_id=key_id, created_at=now, expires_at=now + lifetime))
    return token


def find_session(session: Session, token: str, now: datetime) -> ConsoleSessionRow | None:
    """The session this token opened, if it has not ended by `now`."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    query = select(ConsoleSessionRow).where(
        col(ConsoleSessionRow.id) == _session_id(token), col(ConsoleSessionRow.expires_at) > now
    )
    return session.exec(query).first()


def end_session(session: Session, token: str) -> None:
    """Signing out: the token opens nothing any more."""
    if token and len(token) <= MAX_TOKEN_LENGTH:
        session.exec(delete(ConsoleSessionRow).where(col(ConsoleSessionRow.id) == _session_id(token)))


def end_sessions_of_keys(session: Session, key_ids: Iterable[str]) -> None:
    """Every session opened with one of these keys ends (the keys were disabled)."""
    ids = list(key_ids)
    if ids:
        session.exec(delete(ConsoleSessionRow).where(col(ConsoleSessionRow.key_id).in_(ids)))
