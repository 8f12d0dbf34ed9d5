"""Who is using the console: a session of its own in a cookie, and the CSRF token every form
carries.

Signing in with an API key opens a console session (store.console_sessions): the cookie holds
a random token, never the key, and the service keeps only the token's hash, with the key it
was opened with. A session ends after SWITCHBOARD_CONSOLE_SESSION_HOURS, when its user signs
out, or when its key is rotated or its holder disabled or deleted; it is checked on every
page, so the old cookie then opens nothing. The cookie is HttpOnly, Secure and SameSite=Lax,
scoped to /console: page scripts never see it, and other sites' forms, frames and scripts
never send it (a link followed from elsewhere does, so the user stays signed in). Nothing
changes on a GET; every POST carries a token that must equal a second cookie (double submit),
and a POST from another origin is refused, before anything acts on it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlparse

from fastapi import Depends, Request, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.auth import Principal, principal_for_key, principal_of_key_row
from console import CONSOLE_PATH
from domain.models import ActorType
from store import console_sessions, keys
from store.db import session_scope
from store.tables import ApiKeyRow

SESSION_COOKIE = "switchboard_session"
CSRF_COOKIE = "switchboard_csrf"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
MAX_FORM_FIELDS = 8000
# Signed in for a working day at most (SWITCHBOARD_CONSOLE_SESSION_HOURS); signing in again is
# one paste of the key.
DEFAULT_SESSION_HOURS = 12


class SignInRequired(Exception):
    """No usable session (or key, at sign-in): the console answers with its sign-in page."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.message = message


class CsrfRefused(Exception):
    """A form without the token of this browser, or from another origin."""


def session_lifetime(request: Request) -> timedelta:
    return request.app.state.console_session_lifetime


def _now(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def _cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=CONSOLE_PATH, secure=True, httponly=True, samesite="lax"
    )


def csrf_token(request: Request) -> str:
    """This browser's token, made on its first page; `remember_csrf` stores a new one."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_token", None)
    if not token:
        token = request.state.new_csrf_token = secrets.token_urlsafe(32)
    return token


def remember_csrf(request: Request, response: Response) -> None:
    new_token = getattr(request.state, "new_csrf_token", None)
    if new_token and not request.cookies.get(CSRF_COOKIE):
        _cookie(response, CSRF_COOKIE, new_token, int(session_lifetime(request).total_seconds()))


def open_session(engine: Engine, key: str, now: datetime, lifetime: timedelta) -> str | None:
    """A console session for this key (the token for the cookie), or None for a key that signs
    nobody in."""
    with session_scope(engine) as session:
        row = keys.find_key(session, key)
        if row is None or principal_of_key_row(session, row) is None:
            return None
        return console_sessions.open_session(session, row.id, now, lifetime)


def session_principal(engine: Engine, token: str, now: datetime) -> Principal | None:
    """Who this session signs in now: None once it has ended, or its key or holder has."""
    with session_scope(engine) as session:
        found = console_sessions.find_session(session, token, now)
        key = session.get(ApiKeyRow, found.key_id) if found is not None else None
        return principal_of_key_row(session, key) if key is not None else None


def end_session(engine: Engine, token: str) -> None:
    with session_scope(engine) as session:
        console_sessions.end_session(session, token)


async def sign_in(request: Request, response: Response, key: str) -> None:
    """Opens a session for this (checked) key and gives the browser its token; a session the
    browser still held ends."""
    engine, lifetime = request.app.state.engine, session_lifetime(request)
    if previous := request.cookies.get(SESSION_COOKIE):
        await run_in_threadpool(end_session, engine, previous)
    token = await run_in_threadpool(open_session, engine, key, _now(request), lifetime)
    if token is None:  # the key stopped working between its check and now
        raise SignInRequired("That key is not valid.")
    _cookie(response, SESSION_COOKIE, token, int(lifetime.total_seconds()))


async def sign_out(request: Request, response: Response) -> None:
    """Ends the session in the store (its cookie opens nothing any more) and in the browser."""
    if token := request.cookies.get(SESSION_COOKIE):
        await run_in_threadpool(end_session, request.app.state.engine, token)
    response.delete_cookie(SESSION_COOKIE, path=CONSOLE_PATH, secure=True, httponly=True, samesite="lax")


async def check_csrf(request: Request) -> None:
    """A router dependency: every console request that may change something needs the token."""
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("origin")
    # Behind a proxy that rewrites Host, the address the browser used is X-Forwarded-Host.
    host = request.headers.get("x-forwarded-host") or request.headers.get("host")
    if origin and urlparse(origin).netloc != host:
        raise CsrfRefused()
    expected = request.cookies.get(CSRF_COOKIE, "")
    # Cached: the page's own handler reads the same form. A routing of 999 rules has ~7000 fields.
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    given = form.get(CSRF_FIELD, "")
    # Bytes: compare_digest refuses non-ASCII text with an error, and a form may carry any.
    if not expected or not isinstance(given, str) or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfRefused()


async def principal_of(key: str, request: Request) -> Principal | None:
    return await run_in_threadpool(principal_for_key, request.app.state.engine, key)


def session_watch(request: Request) -> Callable[[], Principal | None]:
    """Who this request's session signs in, asked again whenever called (a live stream asks
    every few seconds, so signing out or a rotated key ends it too)."""
    engine, token, clock = request.app.state.engine, request.state.console_session, request.app.state.clock
    return lambda: session_principal(engine, token, clock())


async def console_user(request: Request) -> Principal:
    """A router dependency: the signed-in supervisor or agent, or the sign-in page."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired()
    principal = await run_in_threadpool(session_principal, request.app.state.engine, token, _now(request))
    if principal is None:
        raise SignInRequired("Your session has ended. Sign in again.")
    if principal.actor.type == ActorType.BOT:
        raise SignInRequired("The console is for supervisors and agents; bots use the API.")
    request.state.principal = principal
    request.state.console_session = token
    return principal


class SupervisorsOnly(Exception):
    """A supervisor's page asked for by an agent: not shown (the API would refuse it anyway)."""


async def require_supervisor(principal: Principal = Depends(console_user)) -> Principal:
    if not principal.is_supervisor:
        raise SupervisorsOnly()
    return principal


class AgentsOnly(Exception):
    """An agent's own page (the conversations it holds) asked for by a supervisor."""


async def require_agent(principal: Principal = Depends(console_user)) -> Principal:
    if principal.actor.type != ActorType.AGENT:
        raise AgentsOnly()
    return principal
