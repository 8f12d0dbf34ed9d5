"""The API's documentation at /docs: Swagger UI, served by the service itself.

Its files come from the package `fastapi-offline` (a copy of swagger-ui-dist, MIT; Swagger UI
is Apache-2.0), served under /docs/assets, so the page works with no other host reachable
(FastAPI's own /docs loads them from a CDN). The page has no inline script, as the
Content-Security-Policy (api/security_headers.py) wants: docs_static/swagger-init.js starts
Swagger UI with the address of the OpenAPI document the page names. There is no /redoc: ReDoc
writes its styles inline, which that policy refuses.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"  # api.auth.DOCS_ASSETS_PREFIX lets them in without a key
HERE = Path(__file__).parent

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API documentation</title>
<link rel="icon" type="image/png" href="{assets}/favicon.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI, openapi_path: str = "/openapi.json") -> None:
    """/docs and its files. The app is made with FastAPI's own docs off (docs_url=None)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=HERE / "docs_static", packages=[("fastapi_offline", "static")]),
              name="docs-assets")

    async def docs_page(request: Request) -> HTMLResponse:
        root = escape(request.scope.get("root_path", "").rstrip("/"))
        return HTMLResponse(PAGE.format(title=escape(app.title), assets=root + ASSETS_PATH,
                                        openapi=root + openapi_path))

    # A plain route, as FastAPI adds its own docs: no API dependencies (key, query checks).
    app.add_route(DOCS_PATH, docs_page, include_in_schema=False)
