"""Steps the console tests share: signing in, and setting up through the API or the pages."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from playwright.async_api import Page, expect

from console.session import CSRF_COOKIE, SESSION_COOKIE, open_session

# For requests without a browser: httpx does not send Secure cookies over plain HTTP, so
# the tests set the Cookie header themselves, with this as the CSRF token.
TOKEN = "a" * 43


def session_for(app: FastAPI, key: str) -> str:
    """A console session opened for this key, as signing in opens one: its cookie's value."""
    # The app's own clock, as its sign-in uses (a test may fix it).
    session = open_session(app.state.engine, key, app.state.clock(), app.state.console_session_lifetime)
    assert session is not None, "this key signs nobody in"
    return session


def cookies(stack: Any, key: str | None = None, *, token: str = TOKEN) -> dict[str, str]:
    """The Cookie header of a browser signed in to the stack's console with this key (the
    supervisor's unless given), as signing in leaves it."""
    session = session_for(stack.app, key or stack.supervisor_key)
    return {"Cookie": f"{SESSION_COOKIE}={session}; {CSRF_COOKIE}={token}"}


async def sign_in(page: Page, key: str) -> None:
    await page.goto("/console")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Queues board")).to_be_visible()


async def create(api: httpx.AsyncClient, path: str, body: dict, status: int = 201) -> dict:
    """POSTs `body`; a creation answers 201, an action (joining a queue, a new key) `status=200`."""
    response = await api.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


async def queue(api: httpx.AsyncClient, name: str, **fields) -> str:
    return (await create(api, "/ccaas/1/queues", {"name": name, **fields}))["id"]


async def signed_in(page: Page, key: str) -> None:
    await sign_in(page, key)
    # Delete, disable and rotate ask first (data-confirm): say yes.
    page.on("dialog", lambda dialog: dialog.accept())


async def create_queue(page: Page, name: str, bot: str | None = None, timeout: str | None = None) -> None:
    await page.goto("/console/queues")
    await page.get_by_label("Name").fill(name)
    if bot:
        await page.get_by_label("Bot serving it").select_option(label=bot)
    if timeout is not None:
        await page.get_by_label("Bot timeout (seconds)").fill(timeout)
    await page.get_by_role("button", name="Create queue").click()
    # The page after the form: the new queue listed, or the form again with its refusal.
    outcome = page.get_by_role("link", name=name, exact=True).or_(page.locator(".field-errors"))
    await expect(outcome.first).to_be_visible()
