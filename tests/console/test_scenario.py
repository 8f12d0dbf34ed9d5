"""The issue's "done": a supervisor who has never read the API sets up the scenario in the
console alone, watches a conversation go through the hand-off, and reads its timeline."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.console.helpers import create_queue, signed_in


async def test_the_scenario_set_up_and_watched_in_the_console_alone(browser_page, live_stack):
    page = browser_page
    await signed_in(page, live_stack.supervisor_key)

    await page.get_by_role("link", name="Bots").click()
    await page.get_by_label("Name").fill("Auth bot")
    await page.get_by_role("button", name="Create bot").click()
    bot_key = await page.get_by_label("New API key of bot Auth bot").input_value()  # handed to the bot's operator
    await create_queue(page, "Front desk")
    await create_queue(page, "Authentication bot", bot="Auth bot")
    await create_queue(page, "Authenticated sessions")

    await page.get_by_role("link", name="Routing", exact=True).click()
    for name, queue, expression in (
        ("Strongly authenticated", "Authenticated sessions", '{"$eq": {"conversation.authentication": "STRONG"}}'),
        ("Web chat", "Front desk", '{"$eq": {"message.channel": "WEBCHAT"}}'),
    ):
        await page.get_by_role("button", name="Add rule").click()
        rule = page.get_by_test_id("rule").last
        await rule.get_by_label("Name").fill(name)
        await rule.get_by_label("Queue").select_option(label=queue)
        await rule.get_by_label("Expression (JSON)").fill(expression)
    await page.get_by_role("button", name="Save as a new version").click()
    await expect(page.get_by_test_id("saved")).to_contain_text("Saved as version 1")

    # A customer writes in through a channel integration.
    customer = await live_stack.api.post("/ccaas/1/conversations",
                                         json={"channel": "WEBCHAT", "topic": "Change my address"})
    assert customer.status_code == 201, customer.text

    await page.get_by_role("link", name="Board", exact=True).click()
    front_desk = page.get_by_test_id("board-queue").filter(has_text="Front desk")
    await expect(front_desk.get_by_test_id("open-count")).to_have_text("1")
    await front_desk.get_by_role("link", name="Front desk").click()
    await page.get_by_role("link", name="Change my address").click()
    await page.get_by_label("To queue").select_option(label="Authentication bot (bot)")
    await page.get_by_label("Reason").fill("customer must authenticate strongly")
    await page.get_by_role("button", name="Reroute").click()
    await expect(page.get_by_test_id("conversation-queue")).to_have_text("Authentication bot")

    async with httpx.AsyncClient(base_url=live_stack.base_url, headers={"Authorization": f"App {bot_key}"}) as bot:
        report = await bot.post(f"/ccaas/1/conversations/{customer.json()['id']}/authentication",
                                json={"status": "SUCCEEDED", "level": "STRONG"})
        assert report.status_code == 200, report.text

    await expect(page.get_by_test_id("conversation-queue")).to_have_text("Authenticated sessions", timeout=20_000)
    steps = page.get_by_test_id("timeline-event")
    await expect(steps).to_have_count(6)
    await expect(steps.nth(1)).to_contain_text("→ Front desk")
    await expect(steps.nth(1)).to_contain_text("rule “Web chat”, version 1")
    await expect(steps.nth(2)).to_contain_text("bootstrap supervisor")
    await expect(steps.nth(2)).to_contain_text("customer must authenticate strongly")
    await expect(steps.nth(4)).to_contain_text("bot Auth bot")
    await expect(steps.nth(5)).to_contain_text("Authentication bot → Authenticated sessions")
    await expect(steps.nth(5)).to_contain_text("rule “Strongly authenticated”, version 1")
