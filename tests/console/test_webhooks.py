"""Webhooks in the console, in a real browser against the live stack and a real receiver on
127.0.0.1: create one (its secret shown once), see a delivery and its attempts in the log,
send it again; a bot's webhook URL set on its page."""

from __future__ import annotations

from playwright.async_api import expect
from standardwebhooks.webhooks import Webhook

from tests.console.helpers import create, queue, signed_in
from tests.helpers import wait_for
from tests.webhook_receiver import Receiver, running_receiver


async def received(receiver: Receiver, count: int) -> None:
    async def enough() -> bool:
        return len(receiver.received) >= count

    await wait_for(enough)


async def test_a_webhook_from_creation_to_a_delivery_sent_again(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    await signed_in(page, live_stack.supervisor_key)
    async with running_receiver() as receiver:
        receiver.answers = [500]  # the first attempt fails, the retry goes through
        await page.get_by_role("link", name="Webhooks").click()
        await page.get_by_label("URL").fill(receiver.url)
        await page.get_by_label("conversation.created").check()
        await page.get_by_label("Description").fill("CRM sync")
        await page.get_by_role("button", name="Create webhook").click()

        # The secret, this once.
        await expect(page.get_by_text("Copy it now: it will not be shown again.")).to_be_visible()
        secret = await page.get_by_test_id("new-webhook-secret").input_value()
        assert secret.startswith("whsec_")
        [webhook] = (await api.get("/ccaas/1/webhooks")).json()["webhooks"]
        assert (webhook["eventTypes"], webhook["description"], webhook["enabled"]) == (
            ["conversation.created"], "CRM sync", True)
        await page.get_by_role("link", name="Go on").click()
        await expect(page.get_by_role("heading", name=f"Webhook {receiver.url}")).to_be_visible()
        assert secret not in await page.content()
        await expect(page.get_by_label("conversation.created")).to_be_checked()
        await expect(page.get_by_label("conversation.closed")).not_to_be_checked()

        # A conversation's creation arrives signed, after one failed attempt.
        conversation = await create(api, "/ccaas/1/conversations", {"queueId": await queue(api, "Hooked")})
        await received(receiver, 2)
        body = Webhook(secret).verify(receiver.received[1].body, receiver.received[1].headers)
        assert body["data"]["conversation"]["id"] == conversation["id"]

        async def delivered_row_shown() -> bool:
            await page.reload()
            return await page.get_by_test_id("delivery-state").first.text_content() == "delivered"

        await wait_for(delivered_row_shown)
        row = page.get_by_test_id("delivery-row")
        await expect(row).to_have_count(1)
        await expect(row.get_by_test_id("delivery-type")).to_have_text("conversation.created")
        await expect(row.get_by_test_id("delivery-attempts")).to_have_text("2")
        await expect(row.get_by_test_id("attempt").nth(0)).to_contain_text("HTTP 500")
        await expect(row.get_by_test_id("attempt").nth(1)).to_contain_text("HTTP 200")
        await expect(row.get_by_test_id("attempt").nth(1)).to_contain_text(" ms")

        # Send again: the same webhook-id, a third attempt in the log.
        await row.get_by_role("button", name="Send again").click()
        await received(receiver, 3)
        assert receiver.ids() == [receiver.ids()[0]] * 3

        async def third_attempt_shown() -> bool:
            await page.reload()
            return (await page.get_by_test_id("attempt").count() == 3
                    and await page.get_by_test_id("delivery-state").first.text_content() == "delivered")

        await wait_for(third_attempt_shown)

        # Rotation: a new secret, shown once; the filter by state.
        await page.get_by_role("button", name="Rotate signing secret").click()
        rotated = await page.get_by_test_id("new-webhook-secret").input_value()
        assert rotated.startswith("whsec_") and rotated != secret
        await page.get_by_role("link", name="Go on").click()
        await page.get_by_label("State").select_option(label="failed")
        await page.get_by_role("button", name="Show").click()
        await expect(page.get_by_text("No deliveries in this state.")).to_be_visible()

        # A URL the API refuses is shown at its field, nothing changed.
        await page.get_by_label("URL").fill("ftp://example.com/hook")
        await page.get_by_role("button", name="Save webhook").click()
        await expect(page.locator("#f-url-errors")).to_contain_text("http or https")
        assert (await api.get(f"/ccaas/1/webhooks/{webhook['id']}")).json()["url"] == receiver.url

        await page.get_by_role("button", name="Delete webhook").click()
        await expect(page.get_by_text("No webhooks yet.")).to_be_visible()


async def test_a_bots_webhook_url_is_set_on_its_page(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    bot = await create(api, "/ccaas/1/bots", {"displayName": "Hooked bot"})
    await signed_in(page, live_stack.supervisor_key)
    await page.goto(f"/console/bots/{bot['id']}")
    await page.get_by_label("Webhook URL").fill("http://127.0.0.1:9/bot-hook")
    await page.get_by_role("button", name="Save bot").click()
    secret = await page.get_by_test_id("new-webhook-secret").input_value()
    assert secret.startswith("whsec_")
    fetched = (await api.get(f"/ccaas/1/bots/{bot['id']}")).json()
    assert fetched["webhookUrl"] == "http://127.0.0.1:9/bot-hook" and fetched["webhookId"]

    await page.get_by_role("link", name="Go on").click()
    await expect(page.get_by_test_id("bot-webhook")).to_contain_text("enabled")
    await expect(page.get_by_label("Webhook URL")).to_have_value("http://127.0.0.1:9/bot-hook")
    # Saved again unchanged: the same webhook, no secret page.
    await page.get_by_role("button", name="Save bot").click()
    await expect(page.get_by_role("heading", name="Hooked bot")).to_be_visible()
    assert (await api.get(f"/ccaas/1/bots/{bot['id']}")).json()["webhookId"] == fetched["webhookId"]
    # The bot's webhook is listed among the webhooks, for the bot.
    await page.get_by_role("link", name="Webhooks").click()
    await expect(page.get_by_test_id("webhook-row")).to_contain_text("bot Hooked bot")
    # Cleared: no webhook any more.
    await page.goto(f"/console/bots/{bot['id']}")
    await page.get_by_label("Webhook URL").fill("")
    await page.get_by_role("button", name="Save bot").click()
    await expect(page.get_by_test_id("bot-webhook")).to_have_count(0)
    assert (await api.get("/ccaas/1/webhooks")).json()["webhooks"] == []
