"""A supervisor works from the board to a queue to a conversation and uses every action."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from playwright.async_api import expect

from tests.console.helpers import cookies, create, queue, sign_in


async def test_board_queue_view_and_conversation_actions(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    front_desk = await queue(api, "Front desk")
    await queue(api, "Back office")
    for topic, priority in (("Old and low", "LOW"), ("Urgent one", "URGENT"), ("Normal one", "NORMAL")):
        await create(api, "/ccaas/1/conversations", {"topic": topic, "priority": priority, "queueId": front_desk,
                                                     "from": "+447700900123", "tags": ["web"]})

    await sign_in(page, live_stack.supervisor_key)
    card = page.get_by_test_id("board-queue").filter(has_text="Front desk")
    await expect(card.get_by_test_id("open-count")).to_have_text("3")
    # The board refreshes on its own: a new conversation shows without a reload.
    await create(api, "/ccaas/1/conversations", {"topic": "Late arrival", "queueId": front_desk})
    await expect(card.get_by_test_id("open-count")).to_have_text("4", timeout=15_000)

    await card.get_by_role("link", name="Front desk").click()
    rows = page.get_by_test_id("queue-conversation")
    await expect(rows).to_have_count(4)
    await expect(rows.nth(0)).to_contain_text("Urgent one")  # URGENT first, then oldest first
    await expect(rows.nth(1)).to_contain_text("Normal one")
    await expect(rows.nth(3)).to_contain_text("Old and low")
    await page.get_by_label("Priority").select_option("URGENT")
    await page.get_by_role("button", name="Filter").click()
    await expect(rows).to_have_count(1)

    await page.get_by_role("link", name="Urgent one").click()
    conversation_url = page.url
    await page.get_by_label("New tag").fill("vip")
    await page.get_by_role("button", name="Add tag").click()
    await expect(page.locator("[data-type=TAGGED]")).to_contain_text("bootstrap supervisor")
    await page.get_by_label("Priority", exact=True).select_option("HIGH")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("[data-type=PRIORITY_CHANGED]")).to_have_count(1)
    await page.get_by_label("To queue").select_option(label="Back office")
    await page.get_by_label("Reason").fill("billing question")
    await page.get_by_role("button", name="Reroute").click()
    await expect(page.get_by_test_id("conversation-queue")).to_have_text("Back office")
    await page.get_by_role("button", name="Run routing again").click()  # no rules: the default queue
    await expect(page.get_by_test_id("conversation-queue")).to_have_text("Default")
    await expect(page.get_by_test_id("timeline-event").last).to_contain_text("no rule matched, version 0")

    async with page.expect_download() as download:
        await page.get_by_role("link", name="Download the raw workflow history (JSON)").click()
    history = json.loads(Path(await (await download.value).path()).read_text())
    assert history["events"][0]["eventType"] in ("EVENT_TYPE_WORKFLOW_EXECUTION_STARTED", "WorkflowExecutionStarted")

    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Close conversation").click()
    await expect(page.get_by_test_id("conversation-status")).to_have_text("CLOSED")
    await expect(page.get_by_role("button", name="Reroute")).to_have_count(0)
    conversation = (await api.get(conversation_url.replace(live_stack.base_url + "/console", "/ccaas/1"))).json()
    # Routing again set the priority its outcome gives (NORMAL with no rule matched).
    assert conversation["status"] == "CLOSED" and conversation["priority"] == "NORMAL"
    assert conversation["tags"] == ["web", "vip"]


async def test_a_refused_action_is_shown_at_its_form(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    front_desk = await queue(api, "Front desk")
    conversation = await create(api, "/ccaas/1/conversations", {"topic": "Tagged a lot", "queueId": front_desk,
                                                                "tags": [f"t{n}" for n in range(50)]})
    await sign_in(page, live_stack.supervisor_key)
    await page.goto(f"/console/conversations/{conversation['id']}")
    await page.get_by_label("New tag").fill("one-too-many")
    await page.get_by_role("button", name="Add tag").click()
    await expect(page.locator("form[aria-label='Add a tag']").locator("..").get_by_test_id("refusal")).to_be_visible()
    assert len((await api.get(f"/ccaas/1/conversations/{conversation['id']}")).json()["tags"]) == 50


async def test_pages_fit_a_narrow_screen(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    front_desk = await queue(api, "Front desk")
    conversation = await create(api, "/ccaas/1/conversations", {"topic": "On a phone", "queueId": front_desk})
    await page.set_viewport_size({"width": 375, "height": 800})
    await sign_in(page, live_stack.supervisor_key)
    for path in ("/console", f"/console/queues/{front_desk}", f"/console/conversations/{conversation['id']}",
                 "/console/routing", "/console/queues", "/console/agents", "/console/bots", "/console/people/new"):
        await page.goto(path)
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)


async def test_the_queue_view_pages_by_twenty_and_keeps_its_filters(live_stack):
    api = live_stack.api
    front_desk = await queue(api, "Front desk")
    for number in range(21):
        await create(api, "/ccaas/1/conversations",
                     {"topic": f"Case {number:02d}", "queueId": front_desk, "priority": "HIGH"})
    headers = cookies(live_stack)
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=headers) as browser:
        first = (await browser.get(f"/console/queues/{front_desk}", params={"priority": "HIGH"})).text
        assert first.count('data-testid="queue-conversation"') == 20
        assert ">Case 00<" in first and ">Case 20<" not in first
        assert "Page 1 of 2" in first and 'rel="next"' in first and 'rel="prev"' not in first
        assert f"/console/queues/{front_desk}?status=open&amp;priority=HIGH&amp;page=1" in first
        second = (await browser.get(f"/console/queues/{front_desk}", params={"priority": "HIGH", "page": 1})).text
        assert second.count('data-testid="queue-conversation"') == 1 and ">Case 20<" in second
        bad = await browser.get(f"/console/queues/{front_desk}", params={"page": -1})
        assert bad.status_code == 400 and "Bad address" in bad.text and "page" in bad.text
