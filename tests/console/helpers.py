"""Steps the console tests share: signing in, and setting up through the API."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect


async def sign_in(page: Page, key: str) -> None:
    await page.goto("/console")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Queues board")).to_be_visible()


async def create(api: httpx.AsyncClient, path: str, body: dict) -> dict:
    response = await api.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def queue(api: httpx.AsyncClient, name: str, **fields) -> str:
    return (await create(api, "/ccaas/1/queues", {"name": name, **fields}))["id"]
