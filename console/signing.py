"""Signing in with an API key (which opens a console session), and out (which ends it)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request

from console.render import page, redirect
from console.session import check_csrf, console_user, principal_of, sign_in, sign_out
from domain.models import ActorType

SIGN_IN_PATH = "/console/sign-in"
router = APIRouter(dependencies=[Depends(check_csrf)])


def safe_next(path: str | None) -> str:
    """Only a console page of this site: never an address elsewhere (open redirect)."""
    if path and path.startswith("/console") and not path.startswith("//") and "\\" not in path:
        return path
    return "/console"


def sign_in_page(request: Request, message: str | None = None, status_code: int = 200, next_path: str = ""):
    return page(request, "sign_in.html", status_code=status_code, message=message,
                next_path=safe_next(next_path))


@router.get(SIGN_IN_PATH)
async def show_sign_in(request: Request, next: str = ""):
    return sign_in_page(request, next_path=next)


@router.post(SIGN_IN_PATH)
async def do_sign_in(request: Request, api_key: str = Form(default="", alias="apiKey"), next: str = Form(default="")):
    key = api_key.strip()
    principal = await principal_of(key, request) if key else None
    if principal is None:
        return sign_in_page(request, "That key is not valid.", status_code=401, next_path=next)
    if principal.actor.type == ActorType.BOT:
        return sign_in_page(request, "The console is for supervisors and agents; bots use the API.",
                            status_code=403, next_path=next)
    response = redirect(safe_next(next))
    await sign_in(request, response, key)
    return response


@router.post("/console/sign-out", dependencies=[Depends(console_user)])
async def do_sign_out(request: Request):
    response = redirect(SIGN_IN_PATH)
    await sign_out(request, response)
    return response
