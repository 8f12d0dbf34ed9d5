"""An agent reads a conversation's messages on its page and replies from there."""

from __future__ import annotations

from playwright.async_api import expect

from tests.console.helpers import create, queue, sign_in


async def test_an_agent_reads_the_messages_and_replies(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    agent = await create(api, "/ccaas/1/agents", {"displayName": "Ada Agent", "email": "ada@example.com"})
    front_desk = await queue(api, "Front desk")
    await create(api, f"/ccaas/1/agents/{agent['id']}/queues", {"queueId": front_desk}, status=200)
    conversation = await create(api, "/ccaas/1/conversations", {
        "topic": "Lost card", "queueId": front_desk, "channel": "WHATSAPP", "from": "+447700900123",
        "to": "bank"})
    base = f"/ccaas/1/conversations/{conversation['id']}/messages"
    # The channel integration relays the customer's message (INBOUND).
    await create(api, base, {"channel": "WHATSAPP", "from": "+447700900123", "to": "bank", "direction": "INBOUND",
                             "contentType": "TEXT", "content": {"text": "I lost my card"}})

    await sign_in(page, agent["apiKey"])
    await page.goto(f"/console/conversations/{conversation['id']}")
    shown = page.get_by_test_id("message")
    await expect(shown).to_have_count(1)
    await expect(shown.first).to_contain_text("I lost my card")
    await expect(shown.first).to_have_attribute("data-author-type", "CUSTOMER")
    # The reply goes back the way the customer wrote.
    await expect(page.get_by_label("Reply to", exact=True)).to_have_value("+447700900123")
    await expect(page.get_by_label("Reply from", exact=True)).to_have_value("bank")

    await page.get_by_label("Reply text").fill("We have blocked it; a new one is on its way")
    await page.get_by_role("button", name="Send reply").click()
    await expect(shown).to_have_count(2)
    await expect(shown.nth(0)).to_contain_text("I lost my card")  # oldest first
    await expect(shown.nth(1)).to_contain_text("a new one is on its way")
    await expect(shown.nth(1)).to_have_attribute("data-direction", "OUTBOUND")
    await expect(shown.nth(1)).to_have_attribute("data-author-type", "AGENT")

    # A refused reply is shown at its form, and nothing is stored.
    await page.get_by_label("Reply to", exact=True).fill("")
    await page.get_by_label("Reply to", exact=True).evaluate("input => input.removeAttribute('required')")
    await page.get_by_label("Reply text").fill("to nobody")
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.locator("form[aria-label='Reply']").get_by_test_id("refusal")).to_be_visible()

    stored = (await api.get(base)).json()["messages"]
    assert [(m["authorType"], m["direction"], m["channel"], m["to"]) for m in stored] == [
        ("CUSTOMER", "INBOUND", "WHATSAPP", "bank"), ("AGENT", "OUTBOUND", "WHATSAPP", "+447700900123")]
    assert stored[1]["authorId"] == agent["id"] and stored[1]["content"] == {
        "text": "We have blocked it; a new one is on its way"}
