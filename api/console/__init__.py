"""The web console at /console: server-rendered pages that act only through the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import is_console
from api.console import board, conversations, directory, live, my_conversations, routing_editor, signing
from api.console.client import ApiFailed
from api.console.render import HERE, page, redirect
from api.console.session import AgentsOnly, CsrfRefused, SignInRequired, SupervisorsOnly
from api.errors import validation_errors_of

PAGES = [signing.router, board.router, my_conversations.router, conversations.router, routing_editor.router,
         directory.router, live.router]

# An exception handler of the API's own (api.errors.install_error_handlers): they are all async.
ApiHandler = Callable[[Request, Exception], Awaitable[Response]]


def install_console(app: FastAPI) -> None:
    for router in PAGES:
        app.include_router(router, include_in_schema=False)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired):
        if request.method == "GET":
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return signing.sign_in_page(request, exc.message, status_code=401, next_path=here)
        return redirect(signing.SIGN_IN_PATH)

    @app.exception_handler(CsrfRefused)
    async def refuse_csrf(request: Request, exc: CsrfRefused):
        return page(request, "error.html", status_code=403, title="Form refused",
                    message="This form was not sent by this console page (missing or wrong CSRF "
                            "token). Reload the page and try again.")

    @app.exception_handler(SupervisorsOnly)
    async def supervisors_only(request: Request, exc: SupervisorsOnly):
        return page(request, "error.html", status_code=403, title="Not allowed",
                    message="This page is for supervisors.")

    @app.exception_handler(AgentsOnly)
    async def agents_only(request: Request, exc: AgentsOnly):
        return page(request, "error.html", status_code=403, title="Not allowed",
                    message="This page is for agents: it lists the conversations an agent holds. "
                            "Supervisors assign conversations on each conversation's page.")

    api_validation = cast(ApiHandler, app.exception_handlers[RequestValidationError])
    api_http_error = cast(ApiHandler, app.exception_handlers[StarletteHTTPException])

    @app.exception_handler(StarletteHTTPException)
    async def no_such_page(request: Request, exc: StarletteHTTPException):
        """404 and 405 under /console are pages too."""
        if not is_console(request.url.path):
            return await api_http_error(request, exc)
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Refused")
        return page(request, "error.html", status_code=exc.status_code, title=title,
                    message="There is no such console page.")

    @app.exception_handler(RequestValidationError)
    async def bad_address(request: Request, exc: RequestValidationError):
        """A console address with a bad parameter (?page=-1) gets a page, the API its JSON."""
        if not is_console(request.url.path):
            return await api_validation(request, exc)
        problems = "; ".join(f"{path}: {', '.join(messages)}" for path, messages in validation_errors_of(exc).items())
        return page(request, "error.html", status_code=400, title="Bad address", message=problems)

    @app.exception_handler(ApiFailed)
    async def show_refusal(request: Request, exc: ApiFailed):
        return page(request, "error.html", status_code=exc.refusal.status,
                    title={403: "Not allowed", 404: "Not found"}.get(exc.refusal.status, "Refused"),
                    message=exc.refusal.text)
