"""Who is using the console: the API key in a cookie, and the CSRF token every form carries.

The key lives in an HttpOnly, Secure, SameSite=Lax cookie scoped to /console: page scripts
never see it, and other sites' forms, frames and scripts never send it (a link followed from
elsewhere does, so the user stays signed in). Nothing changes on a GET; every POST carries
a token that must equal a second cookie (double submit), and a POST from another origin is
refused, before anything acts on it.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlparse

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import CONSOLE_PREFIX, Principal, principal_for_key
from domain.models import ActorType

KEY_COOKIE = "switchboard_key"
CSRF_COOKIE = "switchboard_csrf"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
MAX_FORM_FIELDS = 8000
# Signed in for a working day at most; signing in again is one paste of the key.
SESSION_SECONDS = 12 * 3600


class SignInRequired(Exception):
    """No usable key: the console answers with its sign-in page."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message)
        self.message = message


class CsrfRefused(Exception):
    """A form without the token of this browser, or from another origin."""


def _cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=CONSOLE_PREFIX, secure=True, httponly=True, samesite="lax"
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
        _cookie(response, CSRF_COOKIE, new_token, SESSION_SECONDS)


def sign_in(response: Response, key: str) -> None:
    _cookie(response, KEY_COOKIE, key, SESSION_SECONDS)


def sign_out(response: Response) -> None:
    response.delete_cookie(KEY_COOKIE, path=CONSOLE_PREFIX, secure=True, httponly=True, samesite="lax")


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


async def console_user(request: Request) -> Principal:
    """A router dependency: the signed-in supervisor or agent, or the sign-in page."""
    key = request.cookies.get(KEY_COOKIE)
    if not key:
        raise SignInRequired()
    principal = await principal_of(key, request)
    if principal is None:
        raise SignInRequired("Your key is no longer valid. Sign in again.")
    if principal.actor.type == ActorType.BOT:
        raise SignInRequired("The console is for supervisors and agents; bots use the API.")
    request.state.principal = principal
    request.state.api_key = key
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
