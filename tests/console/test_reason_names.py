"""An event's reason on the conversation page names agents by name where the API's text has
their ids (an ASSIGNED reason's candidates); what the API holds keeps the ids."""

from __future__ import annotations

from playwright.async_api import expect

from tests.console.helpers import create, queue, signed_in
from tests.helpers import wait_for

AGENTS = "/ccaas/1/agents"
CONVERSATIONS = "/ccaas/1/conversations"


async def test_an_assigned_reason_names_the_candidates(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    desk = await queue(api, "Spanish desk", isAutoAssignmentEnabled=True)
    ada = await create(api, AGENTS, {"displayName": "Ada Agent"})
    await create(api, f"{AGENTS}/{ada['id']}/queues", {"queueId": desk}, status=200)
    assert (await api.put(f"{AGENTS}/{ada['id']}/skills",
                          json={"skills": [{"name": "es", "level": 3}]})).status_code == 200
    conversation = await create(api, CONVERSATIONS, {"topic": "Hola", "queueId": desk,
                                                     "requiredSkills": [{"name": "es"}]})
    events_url = f"{CONVERSATIONS}/{conversation['id']}/events"

    async def assigned_reason() -> str | None:
        events = (await api.get(events_url)).json()["events"]
        return next((event["reason"] for event in events if event["type"] == "ASSIGNED"), None)

    stored = await wait_for(assigned_reason, timeout=15)
    assert ada["id"] in stored  # the API's text names the candidate by id

    await signed_in(page, live_stack.supervisor_key)
    await page.goto(f"/console/conversations/{conversation['id']}")
    reason = page.locator("[data-type=ASSIGNED]").get_by_test_id("event-reason")
    await expect(reason).to_have_text(stored.replace(ada["id"], "Ada Agent"))
    await expect(reason).to_contain_text("candidates: Ada Agent")
    assert ada["id"] not in await reason.inner_text()
    assert (await assigned_reason()) == stored  # shown, never changed
