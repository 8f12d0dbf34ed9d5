"""An agent hands a conversation to the chatbot in the console; the bot reports over the API;
the agent's page follows the conversation into Authenticated sessions."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.console.helpers import create, queue, sign_in

AUTHENTICATED_FIRST = {"$eq": {"conversation.authentication": "STRONG"}}


async def test_agent_reroutes_to_the_bot_and_sees_the_conversation_come_back_authenticated(browser_page, live_stack):
    """The agent works all three queues, so its page follows the conversation throughout."""
    page, api = browser_page, live_stack.api
    bot = await create(api, "/ccaas/1/bots", {"displayName": "Auth bot"})
    front_desk = await queue(api, "Front desk")
    chatbot = await queue(api, "Chatbot authentication", botId=bot["id"])
    authenticated = await queue(api, "Authenticated sessions")
    routing = [
        {"name": "Authenticated", "queueId": authenticated, "expression": AUTHENTICATED_FIRST, "priority": "HIGH"},
        {"name": "WhatsApp", "queueId": front_desk, "expression": {"$eq": {"message.channel": "WHATSAPP"}}},
    ]
    assert (await api.put("/ccaas/1/routing", json=routing)).status_code == 200
    agent = await create(api, "/ccaas/1/agents", {"displayName": "Ada Agent", "email": "ada@example.com"})
    for queue_id in (front_desk, chatbot, authenticated):
        await create(api, f"/ccaas/1/agents/{agent['id']}/queues", {"queueId": queue_id}, status=200)
    conversation = await create(api, "/ccaas/1/conversations",
                                {"channel": "WHATSAPP", "topic": "Card blocked", "from": "+447700900123"})
    assert conversation["queueId"] == front_desk

    await sign_in(page, agent["apiKey"])
    await expect(page.get_by_role("link", name="Routing", exact=True)).to_have_count(0)
    await page.get_by_role("link", name="Front desk").click()
    await page.get_by_role("link", name="Card blocked").click()
    await expect(page.get_by_test_id("conversation-queue")).to_have_text("Front desk")

    await page.get_by_label("To queue").select_option(label="Chatbot authentication (bot)")
    await page.get_by_label("Reason").fill("needs strong authentication")
    await page.get_by_role("button", name="Reroute").click()
    await expect(page.get_by_test_id("conversation-queue")).to_have_text("Chatbot authentication")
    await expect(page.locator("[data-type=BOT_STARTED]")).to_have_count(1)

    async with httpx.AsyncClient(base_url=live_stack.base_url,
                                 headers={"Authorization": f"App {bot['apiKey']}"}) as as_bot:
        report = await as_bot.post(f"/ccaas/1/conversations/{conversation['id']}/authentication",
                                   json={"status": "SUCCEEDED", "level": "STRONG"})
        assert report.status_code == 200, report.text

    # No reload: the page refreshes itself.
    await expect(page.get_by_test_id("conversation-queue")).to_have_text("Authenticated sessions", timeout=20_000)
    await expect(page.get_by_test_id("conversation-authentication")).to_have_text("STRONG")
    timeline = page.get_by_test_id("timeline-event")
    types = [await event.get_attribute("data-type") for event in await timeline.all()]
    assert types == ["CREATED", "ROUTED", "REROUTED", "BOT_STARTED", "AUTHENTICATION_COMPLETED", "ROUTED"], types
    rerouted = page.locator("[data-type=REROUTED]")
    await expect(rerouted).to_contain_text("Ada Agent")
    await expect(rerouted).to_contain_text("Front desk → Chatbot authentication")
    await expect(rerouted).to_contain_text("needs strong authentication")
    last = timeline.last
    await expect(last).to_contain_text("Chatbot authentication → Authenticated sessions")
    await expect(last).to_contain_text("rule “Authenticated”, version 1")
    await last.get_by_text("Trace:").click()  # the trace unfolds on demand
    await expect(last.get_by_role("table")).to_contain_text("Authenticated")
    # An agent gets no supervisor links.
    await expect(page.get_by_role("link", name="Download the raw workflow history (JSON)")).to_have_count(0)


async def test_an_agent_outside_the_bot_queue_sees_the_conversation_again_once_authenticated(browser_page, live_stack):
    """The agent works Front desk and Authenticated sessions only: the conversation leaves its
    sight while the bot has it, and comes back by itself."""
    page, api = browser_page, live_stack.api
    bot = await create(api, "/ccaas/1/bots", {"displayName": "Auth bot"})
    front_desk = await queue(api, "Front desk")
    await queue(api, "Chatbot authentication", botId=bot["id"])
    authenticated = await queue(api, "Authenticated sessions")
    rule = {"name": "Authenticated", "queueId": authenticated, "expression": AUTHENTICATED_FIRST}
    assert (await api.put("/ccaas/1/routing", json=[rule])).status_code == 200
    agent = await create(api, "/ccaas/1/agents", {"displayName": "Ada Agent", "email": "ada@example.com"})
    for queue_id in (front_desk, authenticated):
        await create(api, f"/ccaas/1/agents/{agent['id']}/queues", {"queueId": queue_id}, status=200)
    conversation = await create(api, "/ccaas/1/conversations", {"topic": "Card blocked", "queueId": front_desk})

    await sign_in(page, agent["apiKey"])
    await page.goto(f"/console/conversations/{conversation['id']}")
    await page.get_by_label("To queue").select_option(label="Chatbot authentication (bot)")
    await page.get_by_role("button", name="Reroute").click()
    await expect(page.get_by_test_id("moved")).to_contain_text(conversation["id"][:8])
    assert (await api.get(f"/ccaas/1/conversations/{conversation['id']}")).json()["queueId"] != front_desk

    async with httpx.AsyncClient(base_url=live_stack.base_url,
                                 headers={"Authorization": f"App {bot['apiKey']}"}) as as_bot:
        report = await as_bot.post(f"/ccaas/1/conversations/{conversation['id']}/authentication",
                                   json={"status": "SUCCEEDED", "level": "STRONG"})
        assert report.status_code == 200, report.text

    card = page.get_by_test_id("board-queue").filter(has_text="Authenticated sessions")
    await expect(card.get_by_test_id("open-count")).to_have_text("1", timeout=20_000)  # the board refreshed itself
    await card.get_by_role("link", name="Authenticated sessions").click()
    await page.get_by_role("link", name="Card blocked").click()
    types = [await event.get_attribute("data-type") for event in await page.get_by_test_id("timeline-event").all()]
    assert types == ["CREATED", "ROUTED", "REROUTED", "BOT_STARTED", "AUTHENTICATION_COMPLETED", "ROUTED"], types
