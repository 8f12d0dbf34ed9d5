"""A supervisor builds a routing in the console: refused at its place, simulated, saved, diffed."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.console.helpers import create, queue, sign_in


async def test_supervisor_builds_simulates_saves_and_diffs_a_routing(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    await queue(api, "Front desk")
    await queue(api, "Card services")
    for channel in ("WHATSAPP", "WHATSAPP", "SMS"):  # recent conversations, routed by version 0
        await create(api, "/ccaas/1/conversations", {"channel": channel, "topic": f"via {channel}"})

    await sign_in(page, live_stack.supervisor_key)
    await page.get_by_role("link", name="Routing", exact=True).click()
    await expect(page.get_by_text("Version 0 is in force")).to_be_visible()

    await page.get_by_role("button", name="Add rule").click()
    await page.get_by_label("Name").nth(0).fill("WhatsApp")
    await page.get_by_label("Queue").nth(0).select_option(label="Front desk")
    await page.get_by_role("button", name="Add rule").click()
    second = page.get_by_test_id("rule").nth(1)
    await second.get_by_label("Name").fill("SMS to cards")
    await second.get_by_label("Queue").select_option(label="Card services")
    await second.get_by_label("Priority").select_option("HIGH")
    expression = second.get_by_label("Expression (JSON)")

    # Not even JSON: refused at the field, without asking the API.
    await expression.fill('{"$eq": ')
    await page.get_by_role("button", name="Simulate", exact=True).click()
    await expect(second.get_by_test_id("rule-error")).to_contain_text("not valid JSON")

    # JSON the server refuses: its message sits under that rule's expression, naming the place.
    await page.get_by_test_id("rule").nth(1).get_by_label("Expression (JSON)").fill(
        '{"$and": [{"$eq": {"message.channel": "SMS"}}, {"$bogus": {"message.channel": "SMS"}}]}')
    await page.get_by_role("button", name="Simulate", exact=True).click()
    second = page.get_by_test_id("rule").nth(1)
    await expect(second.get_by_test_id("rule-error")).to_contain_text("$and[1]")
    await expect(second.get_by_label("Expression (JSON)")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_test_id("rule").nth(0).get_by_test_id("rule-error")).to_have_count(0)
    assert (await api.get("/ccaas/1/routing")).json()["version"] == 0  # nothing saved

    await second.get_by_label("Expression (JSON)").fill('{"$eq": {"message.channel": "SMS"}}')
    await page.get_by_role("button", name="Simulate", exact=True).click()
    simulation = page.get_by_test_id("simulation")
    await expect(simulation.get_by_test_id("moved-count")).to_have_text("3")
    await expect(simulation.get_by_test_id("move").filter(has_text="Front desk")).to_contain_text("2")
    await expect(simulation.get_by_test_id("move").filter(has_text="Card services")).to_contain_text("1")
    assert (await api.get("/ccaas/1/routing")).json()["version"] == 0  # a simulation changes nothing

    await page.get_by_role("button", name="Save as a new version").click()
    await expect(page.get_by_test_id("saved")).to_contain_text("Saved as version 1")
    await expect(page.get_by_test_id("version")).to_have_count(1)
    await page.get_by_role("link", name="See what changed").click()
    added = page.get_by_test_id("diff-added")
    await expect(added.get_by_role("heading")).to_have_text("Added (2)")
    await expect(added).to_contain_text("WhatsApp")
    await expect(added).to_contain_text("SMS to cards")

    routing = (await api.get("/ccaas/1/routing")).json()
    assert routing["version"] == 1
    assert [(r["name"], r["priority"]) for r in routing["routes"]] == [("WhatsApp", "NORMAL"), ("SMS to cards", "HIGH")]

    # Moving a rule and saving again makes version 2, whose diff shows the change of order.
    await page.get_by_role("link", name="Routing", exact=True).click()
    await page.get_by_role("button", name="Move rule 2 up").click()
    await expect(page.get_by_test_id("rule").nth(0).get_by_label("Name")).to_have_value("SMS to cards")
    await page.get_by_role("button", name="Save as a new version").click()
    await expect(page.get_by_test_id("saved")).to_contain_text("Saved as version 2")
    await page.get_by_role("link", name="See what changed").click()
    await expect(page.get_by_test_id("diff-changed")).to_contain_text(re.compile("order", re.I))
