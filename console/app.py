"""The console's application: its pages, its files, and its own answers when a page cannot be
shown (a page, never the API's JSON)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from api.errors import ApiError, error_response, validation_errors_of
from api.feed_reader import FeedReader
from api.limits import BodySizeLimit
from api.stream_slots import StreamSlots
from console import (
    CONSOLE_PATH,
    board,
    conversations,
    directory,
    live,
    my_conversations,
    routing_editor,
    signing,
    wallboard,
)
from console.client import ApiFailed
from console.render import HERE, page, redirect
from console.session import AgentsOnly, CsrfRefused, SignInRequired, SupervisorsOnly

PAGES = [signing.router, board.router, my_conversations.router, conversations.router, routing_editor.router,
         directory.router, wallboard.router, live.router]


def create_console(
    api: ASGIApp, engine: Engine, *, session_lifetime: timedelta, clock: Callable[[], datetime],
    stream_slots: StreamSlots, feed_reader: FeedReader,
) -> FastAPI:
    """The console, served at CONSOLE_PATH (its routes say so in full), acting through `api`,
    called in process. `stream_slots` and `feed_reader` are the API's: a page's live stream
    counts against the streams of its user's key like any other, and is fed with them."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.api = api
    app.state.engine = engine
    # "Now" for sessions; tests fix it.
    app.state.clock = clock
    # How long a console sign-in lasts (SWITCHBOARD_CONSOLE_SESSION_HOURS).
    app.state.console_session_lifetime = session_lifetime
    app.state.stream_slots = stream_slots
    app.state.feed_reader = feed_reader
    app.add_middleware(BodySizeLimit)  # as the API: nothing reads a body that is too large
    for router in PAGES:
        app.include_router(router)
    app.mount(f"{CONSOLE_PATH}/static", StaticFiles(directory=HERE / "static"), name="console-static")
    install_console_errors(app)
    return app


def install_console_errors(app: FastAPI) -> None:
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

    @app.exception_handler(StarletteHTTPException)
    async def no_such_page(request: Request, exc: StarletteHTTPException):
        """404 and 405 are pages too."""
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Refused")
        return page(request, "error.html", status_code=exc.status_code, title=title,
                    message="There is no such console page.")

    @app.exception_handler(RequestValidationError)
    async def bad_address(request: Request, exc: RequestValidationError):
        """An address with a bad parameter (?page=-1)."""
        problems = "; ".join(f"{path}: {', '.join(messages)}" for path, messages in validation_errors_of(exc).items())
        return page(request, "error.html", status_code=400, title="Bad address", message=problems)

    @app.exception_handler(ApiFailed)
    async def show_refusal(request: Request, exc: ApiFailed):
        return page(request, "error.html", status_code=exc.refusal.status,
                    title={403: "Not allowed", 404: "Not found"}.get(exc.refusal.status, "Refused"),
                    message=exc.refusal.text)

    @app.exception_handler(ApiError)
    async def api_refusal(request: Request, exc: ApiError):
        """What the API's own code refuses for a page (its event stream: a bad Last-Event-ID, no
        free stream), in the API's shape, as the API answers it."""
        return error_response(exc.status, exc.text, exc.validation_errors, exc.headers)

    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception):
        # The API's answer to a failure (api.errors), as the console gave before it had an app
        # of its own. The failure goes on up, to be logged.
        return error_response(500, "Internal error")
