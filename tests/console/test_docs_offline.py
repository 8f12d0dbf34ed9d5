"""/docs in a real browser with no other host reachable: Swagger UI renders from the service's
own files, and the Content-Security-Policy refuses nothing it needs (browser_page fails a test
on any refusal)."""

from __future__ import annotations

from urllib.parse import urlparse

from playwright.async_api import Route, expect


async def test_swagger_ui_renders_with_no_other_host_reachable(browser_page, live_stack):
    page = browser_page
    here = urlparse(live_stack.base_url).netloc
    elsewhere: list[str] = []

    async def only_this_host(route: Route) -> None:
        if urlparse(route.request.url).netloc == here:
            await route.continue_()
        else:  # as with no internet: the request fails
            elsewhere.append(route.request.url)
            await route.abort("internetdisconnected")

    await page.context.route("**/*", only_this_host)
    response = await page.goto("/docs")
    assert response is not None and response.status == 200
    await expect(page.get_by_role("heading", name="Switchboard")).to_be_visible()
    await expect(page.get_by_text("/ccaas/1/queues", exact=True).first).to_be_visible()
    # An operation opens, with its parameters, as on any Swagger UI.
    await page.get_by_text("/ccaas/1/queues", exact=True).first.click()
    await expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    assert elsewhere == [], elsewhere
