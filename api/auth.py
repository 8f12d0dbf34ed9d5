"""`Authorization: App <apiKey>`: who is calling, checked before anything else is read."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_response
from domain.models import Actor, ActorType
from store import bots as bot_store
from store import keys
from store.db import session_scope
from store.tables import AgentRow, ApiKeyRow

# Health and the API's own documentation (its page, the files it loads) are open; everything
# else needs a key. /metrics holds only counts by route template, for a scraper that has no key.
PUBLIC_PATHS = frozenset({"/health", "/metrics", "/docs", "/openapi.json"})
DOCS_ASSETS_PREFIX = "/docs/assets/"
# A caller in the same process, which signs its users in itself, calls this API as one of
# them with the user under this key of the ASGI scope, which no HTTP request can set: only the
# server makes a request's scope.
IN_PROCESS_PRINCIPAL = "switchboard.principal"


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(DOCS_ASSETS_PREFIX)


@dataclass(frozen=True)
class Principal:
    actor: Actor
    key_id: str

    @property
    def is_supervisor(self) -> bool:
        return self.actor.type == ActorType.SUPERVISOR


def principal_for_key(engine: Engine, key: str) -> Principal | None:
    # A transaction of its own, run in a thread: the key is read before any route (and its
    # session) runs, and again while a live stream lasts.
    with session_scope(engine) as session:
        row = keys.find_key(session, key)
        return principal_of_key_row(session, row) if row is not None else None


def principal_of_key_row(session: Session, row: ApiKeyRow) -> Principal | None:
    """Who an enabled key signs in now, or None."""
    if not row.enabled:
        return None
    # The principal is read afresh at every request: a disabled or deleted agent or bot,
    # or an agent's changed role, takes effect at once.
    if row.principal_type == ActorType.BOT.value:
        bot = bot_store.live_bot(session, row.principal_id) if row.principal_id else None
        if bot is None or not bot.enabled:
            return None
        actor = Actor(type=ActorType.BOT, id=bot.id, name=bot.display_name)
    elif row.principal_type == ActorType.AGENT.value:
        agent = session.get(AgentRow, row.principal_id) if row.principal_id else None
        if agent is None or not agent.enabled:
            return None
        actor = Actor(type=ActorType(agent.role), id=agent.id, name=agent.display_name)
    elif row.principal_type == ActorType.SUPERVISOR.value and row.principal_id:  # the bootstrap key
        actor = Actor(type=ActorType.SUPERVISOR, id=row.principal_id, name=row.name)
    else:
        return None
    return Principal(actor=actor, key_id=row.id)


class AuthMiddleware:
    """Pure ASGI, so a request without a valid key is refused before its body is parsed."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        principal: Principal | None = scope.get(IN_PROCESS_PRINCIPAL)
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, key = header.partition(" ")
        if principal is None and scheme == "App" and key.strip():
            principal = await run_in_threadpool(principal_for_key, self.engine, key.strip())
        if principal is None:
            text = "Missing API key" if not header else "Invalid API key"
            response = error_response(401, text, headers={"WWW-Authenticate": "App"})
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def current_principal(request: Request) -> Principal:
    return request.state.principal
