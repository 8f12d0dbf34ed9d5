"""Console pages update from the live event stream: a change made through the API shows within
moments, and it is the stream that brings it (no timer; a page's live part is fetched again
only for events about what it shows)."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.console.helpers import cookies, create, queue, sign_in
from tests.helpers import assert_error
from tests.sse import event_stream, of

CONSOLE_STREAM = "/console/events/stream"

# While the stream is up nothing is fetched on a timer; down, the fallback comes every 30 s.
WELL_BEFORE_ANY_FALLBACK = 5_000
PAGE_FETCHES = """url => performance.getEntriesByType("resource")
    .filter(entry => entry.initiatorType === "fetch" && entry.name === url).map(entry => entry.startTime)"""


async def test_the_board_and_a_conversation_page_follow_the_stream(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    front_desk = await queue(api, "Front desk")
    back_office = await queue(api, "Back office")
    watched = await create(api, "/ccaas/1/conversations", {"topic": "Watched", "queueId": front_desk})
    other = await create(api, "/ccaas/1/conversations", {"topic": "Other", "queueId": front_desk})
    async with event_stream(live_stack.base_url, live_stack.supervisor_key, last_event_id="0.0") as stream:
        for conversation in (watched, other):  # in the feed before any page is read
            await stream.until(of(conversation, "conversation.routed"))

    await sign_in(page, live_stack.supervisor_key)
    body = page.locator("body")
    await expect(body).to_have_attribute("data-live-state", "open")
    assert await page.locator("[data-refresh]").count() == 0  # no timer left on any page
    card = page.get_by_test_id("board-queue").filter(has_text="Front desk")
    await expect(card.get_by_test_id("open-count")).to_have_text("2")
    await create(api, "/ccaas/1/conversations", {"topic": "Late arrival", "queueId": front_desk})
    await expect(card.get_by_test_id("open-count")).to_have_text("3", timeout=WELL_BEFORE_ANY_FALLBACK)

    await page.goto(f"/console/conversations/{watched['id']}")
    await expect(body).to_have_attribute("data-live-state", "open")
    page_url = page.url
    after = await body.get_attribute("data-live-after")
    assert after
    async with event_stream(live_stack.base_url, live_stack.supervisor_key, last_event_id=after) as stream:
        # Another conversation changes: the page hears of it, and fetches nothing.
        changed = await api.patch(f"/ccaas/1/conversations/{other['id']}", json={"priority": "HIGH"})
        assert changed.status_code == 200, changed.text
        (heard,) = await stream.until(of(other, "conversation.priority_changed"))
        await expect(body).to_have_attribute("data-live-last-event-id", heard.id)
        # This one changes: the page shows it within moments, from one fetch made after.
        before_change = await page.evaluate("performance.now()")
        moved = await api.patch(f"/ccaas/1/conversations/{watched['id']}", json={"queueId": back_office})
        assert moved.status_code == 200, moved.text
        await expect(page.get_by_test_id("conversation-queue")).to_have_text(
            "Back office", timeout=WELL_BEFORE_ANY_FALLBACK)
        await expect(page.locator("[data-type=REROUTED]")).to_have_count(1)
    fetches = await page.evaluate(PAGE_FETCHES, page_url)
    assert fetches and all(start > before_change for start in fetches), (before_change, fetches)

    closed = await api.patch(f"/ccaas/1/conversations/{watched['id']}", json={"status": "CLOSED"})
    assert closed.status_code == 200, closed.text
    await expect(page.get_by_test_id("conversation-status")).to_have_text("CLOSED", timeout=WELL_BEFORE_ANY_FALLBACK)
    await expect(body).to_have_attribute("data-live-state", "open")  # never down: no fallback ran


async def test_the_console_stream_needs_the_sign_in_cookie(live_stack):
    async with httpx.AsyncClient(base_url=live_stack.base_url) as http:
        unsigned = await http.get(CONSOLE_STREAM)
        assert unsigned.status_code == 401 and "text/html" in unsigned.headers["content-type"]
        # The API key header is no way in here: the console goes by its cookie.
        with_header = await http.get(CONSOLE_STREAM, headers={"Authorization": f"App {live_stack.supervisor_key}"})
        assert with_header.status_code == 401
        malformed = await http.get(CONSOLE_STREAM, params={"lastEventId": "yesterday"},
                                   headers=cookies(live_stack))
        assert_error(malformed, 400, "BAD_REQUEST", "lastEventId")
        async with http.stream("GET", CONSOLE_STREAM, headers=cookies(live_stack)) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
