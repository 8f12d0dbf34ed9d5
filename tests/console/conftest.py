"""The console against the real stack: the API served by uvicorn on a free port, a real
worker, the session's Temporal dev server, and the system Chromium driven by Playwright.

Without Chromium the browser tests skip with the reason; CI sets SWITCHBOARD_REQUIRE_BROWSER=1
so that they fail instead. Each browser test leaves a screenshot of its last page under
test-output/console/, and a failing one its HTML as well.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api.beside import mounted_beside
from console import CONSOLE_PATH
from store.bootstrap import bootstrap
from switchboard.composition import api_app, courier_process, worker_process
from tests.databases import copy_sqlite_file
from tests.settings import stack_settings

CHROMIUM = os.environ.get("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "console"
STARTUP_TIMEOUT = 30.0


@pytest.fixture
def database_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    """The console is a client of the API, whose SQL runs on both databases in tests/integration;
    here one database is enough, and keeps the browser tests' time down. A copy of the session's
    migrated file, as conftest's SQLite variant is."""
    return copy_sqlite_file(migrated_sqlite, tmp_path / "switchboard.db")


@dataclass
class LiveStack:
    base_url: str
    supervisor_key: str
    api: httpx.AsyncClient  # the HTTP API with the supervisor key, to set up and to act as a bot
    app: FastAPI  # the console's own (console.app): its routes, and its engine, clock and session lifetime


@pytest_asyncio.fixture
async def live_stack(engine: Engine, database_url: str, temporal_client: Client) -> AsyncIterator[LiveStack]:
    key = bootstrap(engine)
    assert key is not None  # a new database: its supervisor key is made now
    task_queue = f"console-{uuid.uuid4()}"
    settings = stack_settings(database_url, task_queue)
    app = api_app(settings, engine, temporal_client)
    console = mounted_beside(app, CONSOLE_PATH)
    assert isinstance(console, FastAPI)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    async with worker_process(settings, engine, temporal_client), courier_process(settings, engine):
        deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT
        while not server.started:
            assert asyncio.get_running_loop().time() < deadline, "uvicorn did not start"
            assert not serving.done(), serving.exception()
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"App {key}"}) as http:
            yield LiveStack(base_url, key, http, console)
        server.should_exit = True
        await serving


@pytest_asyncio.fixture(scope="session")
async def chromium():
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        reason = (f"BROWSER TESTS NOT RUN: no Chromium at {CHROMIUM}. Install Debian's `chromium` "
                  "package (or set SWITCHBOARD_CHROMIUM); .ci/run does.")
        if os.environ.get("SWITCHBOARD_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest_asyncio.fixture
async def browser_page(request, chromium, live_stack: LiveStack):
    """A fresh browser context (no cookies) on the live stack; its last page is kept. Whatever
    the Content-Security-Policy refused on the way fails the test (api/security_headers.py:
    the console must keep its scripts and styles in files)."""
    context = await chromium.new_context(base_url=live_stack.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = await context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    OUTPUT.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    await page.screenshot(path=OUTPUT / f"{name}.png", full_page=True)
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        (OUTPUT / f"{name}.html").write_text(await page.content())
    await context.close()
    assert not refused, refused
