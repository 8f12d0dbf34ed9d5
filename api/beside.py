"""Other applications served beside the API, each under a path of its own (the composition root
serves the web console so). A request under such a path goes to that application before the
API's authentication sees it: the API's key check, permission table and error answers are the
API's alone. Such an application still gets the answers' security headers, the metrics and
the access log, and the body size limit, which are the site's."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send


class Beside:
    """Pure ASGI: sends a request under one of the paths to its application, the scope as it
    is (the application's routes say their paths in full)."""

    def __init__(self, app: ASGIApp, apps: dict[str, ASGIApp]) -> None:
        self.app = app
        self.apps = apps  # filled by mount_beside

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            for prefix, other in self.apps.items():
                if path == prefix or path.startswith(prefix + "/"):
                    await other(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def install_beside(app: FastAPI) -> None:
    """Where other applications go: under the limits and metrics, outside authentication (so
    added just after the AuthMiddleware)."""
    app.state.beside = {}
    app.add_middleware(Beside, apps=app.state.beside)


def mount_beside(app: FastAPI, path: str, other: ASGIApp) -> None:
    """Serves `other` at `path` and every path under it, instead of the API."""
    app.state.beside[path] = other


def mounted_beside(app: FastAPI, path: str) -> ASGIApp:
    return app.state.beside[path]
