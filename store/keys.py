"""API keys: kept only as a salted hash, found by an id derived from the key itself.

Keys are 256 random bits, so a fast hash is enough: there is no password to guess. The id
lets a look-up touch one row; the hash comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import update
from sqlmodel import Session, col, select

from domain.models import ActorType, utcnow
from store.console_sessions import end_sessions_of_keys
from store.tables import ApiKeyRow


def new_key() -> str:
    return secrets.token_urlsafe(32)


def _key_id(key: str) -> str:
    return hashlib.sha256(b"switchboard-key-id:" + key.encode()).hexdigest()[:32]


def _hash(salt: str, key: str) -> str:
    return hashlib.sha256(salt.encode() + key.encode()).hexdigest()


def store_key(
    session: Session, key: str, *, principal_type: str, principal_id: str | None, name: str
) -> ApiKeyRow:
    salt = secrets.token_hex(16)
    row = ApiKeyRow(
        id=_key_id(key),
        principal_type=principal_type,
        principal_id=principal_id,
        name=name,
        salt=salt,
        secret_hash=_hash(salt, key),
        created_at=utcnow(),
    )
    session.add(row)
    return row


def find_key(session: Session, key: str) -> ApiKeyRow | None:
    """The enabled key row this key belongs to, or None."""
    if not key or len(key) > 512:
        return None
    row = session.get(ApiKeyRow, _key_id(key))
    if row is None or not row.enabled:
        return None
    return row if hmac.compare_digest(row.secret_hash, _hash(row.salt, key)) else None


def disable_keys(session: Session, principal_type: str, principal_id: str) -> None:
    """Every key of this principal stops working at once (rotation, deletion), and so do the
    console sessions opened with them."""
    of_principal = (col(ApiKeyRow.principal_type) == principal_type, col(ApiKeyRow.principal_id) == principal_id)
    end_sessions_of_keys(session, session.exec(select(ApiKeyRow.id).where(*of_principal)))
    session.exec(update(ApiKeyRow).where(*of_principal).values(enabled=False))


def has_supervisor_key(session: Session) -> bool:
    query = select(ApiKeyRow).where(ApiKeyRow.principal_type == ActorType.SUPERVISOR.value)
    return session.exec(query).first() is not None
