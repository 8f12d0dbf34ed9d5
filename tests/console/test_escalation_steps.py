"""A supervisor edits a queue's escalation steps in the console (the rows' script at work), a
bad ladder is refused at its row, and the queue's page shows the ladder and the dry run."""

from __future__ import annotations

from playwright.async_api import expect

from tests.console.helpers import create, queue, sign_in, signed_in
from tests.helpers import wait_for

QUEUES = "/ccaas/1/queues"


async def ladder_of(api, queue_id: str) -> list[dict]:
    return (await api.get(f"{QUEUES}/{queue_id}")).json()["escalation"]


async def add_steps(page, *steps: tuple[str, str | None, str | None]) -> None:
    """Each (after, priority, queue to move to) as a new row, with the form's "Add step"."""
    for after, priority, move_to in steps:
        await page.get_by_role("button", name="Add step").click()
        number = await page.get_by_test_id("escalation-step").count()
        await page.get_by_label(f"Step {number} after (minutes)", exact=True).fill(after)
        if priority:
            await page.get_by_label(f"Step {number} priority", exact=True).select_option(priority)
        if move_to:
            await page.get_by_label(f"Step {number} move to queue", exact=True).select_option(label=move_to)


async def test_a_supervisor_adds_edits_and_removes_steps(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    front_desk = await queue(api, "Front desk")
    tier_2 = await queue(api, "Tier 2")
    await signed_in(page, live_stack.supervisor_key)
    await page.goto(f"/console/queues/{front_desk}/settings")
    steps = page.get_by_test_id("escalation-step")
    # With the script there is no blank row to fill: "Add step" makes one.
    await expect(steps).to_have_count(0)
    await expect(page.get_by_text("No steps: conversations wait here without escalating.")).to_be_visible()
    await add_steps(page, ("30", "HIGH", None), ("45:30", None, "Tier 2"))
    # The queue itself is not a place to move to.
    await expect(page.get_by_label("Step 1 move to queue", exact=True).locator("option")).to_have_text(
        ["Stay", "Default", "Tier 2"])
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_role("heading", name="Queues")).to_be_visible()
    assert await ladder_of(api, front_desk) == [{"afterSeconds": 1800, "priority": "HIGH", "queueId": None},
                                                {"afterSeconds": 2730, "priority": None, "queueId": tier_2}]

    # Shown again as saved.
    await page.goto(f"/console/queues/{front_desk}/settings")
    await expect(steps).to_have_count(2)
    await expect(page.get_by_label("Step 1 after (minutes)", exact=True)).to_have_value("30")
    await expect(page.get_by_label("Step 1 priority", exact=True)).to_have_value("HIGH")
    await expect(page.get_by_label("Step 1 move to queue", exact=True)).to_have_value("")
    await expect(page.get_by_label("Step 2 after (minutes)", exact=True)).to_have_value("45:30")
    await expect(page.get_by_label("Step 2 move to queue", exact=True)).to_have_value(tier_2)

    # The first step removed: the second is step 1 now; it is changed and saved alone.
    await page.get_by_role("button", name="Remove step 1").click()
    await expect(steps).to_have_count(1)
    await expect(page.get_by_label("Step 1 after (minutes)", exact=True)).to_have_value("45:30")
    await page.get_by_label("Step 1 after (minutes)", exact=True).fill("40")
    await page.get_by_label("Step 1 priority", exact=True).select_option("URGENT")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_role("heading", name="Queues")).to_be_visible()
    assert await ladder_of(api, front_desk) == [{"afterSeconds": 2400, "priority": "URGENT", "queueId": tier_2}]
    await page.goto(f"/console/queues/{front_desk}/settings")
    await expect(steps).to_have_count(1)
    await expect(page.get_by_label("Step 1 priority", exact=True)).to_have_value("URGENT")


async def test_a_step_earlier_than_the_one_before_is_refused_at_its_row_and_nothing_is_saved(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    front_desk = await queue(api, "Front desk")
    await queue(api, "Tier 2")
    await signed_in(page, live_stack.supervisor_key)
    await page.goto(f"/console/queues/{front_desk}/settings")
    await add_steps(page, ("30", "HIGH", None), ("10", None, "Tier 2"))
    await page.get_by_role("button", name="Save settings").click()

    second = page.get_by_test_id("escalation-step").nth(1)
    await expect(second.get_by_test_id("step-errors")).to_contain_text("after: must be greater than the step before")
    await expect(page.get_by_label("Step 2 after (minutes)", exact=True)).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_test_id("escalation-step").first.get_by_test_id("step-errors")).to_have_count(0)
    await expect(page.get_by_label("Step 1 after (minutes)", exact=True)).not_to_have_attribute("aria-invalid", "true")
    # What was typed is kept; nothing was saved.
    await expect(page.get_by_label("Step 1 after (minutes)", exact=True)).to_have_value("30")
    await expect(page.get_by_label("Step 2 after (minutes)", exact=True)).to_have_value("10")
    await expect(page.get_by_label("Step 2 move to queue", exact=True).locator("option:checked")).to_have_text("Tier 2")
    assert await ladder_of(api, front_desk) == []

    # Put right on the refused page (its rows still work), it saves.
    await page.get_by_label("Step 2 after (minutes)", exact=True).fill("60")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_role("heading", name="Queues")).to_be_visible()
    assert [step["afterSeconds"] for step in await ladder_of(api, front_desk)] == [1800, 3600]


async def test_the_queue_page_shows_the_ladder_and_when_a_waiting_conversation_escalates(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    tier_2 = await queue(api, "Tier 2")
    front_desk = await queue(api, "Front desk", escalation=[{"afterSeconds": 1800, "priority": "HIGH"},
                                                            {"afterSeconds": 3600, "queueId": tier_2}])
    conversation = await create(api, "/ccaas/1/conversations", {"topic": "Lost card", "queueId": front_desk})

    async def next_step():
        answer = (await api.get(f"{QUEUES}/{front_desk}/escalations")).json()
        return [item["nextStep"] for item in answer["conversations"]
                if item["conversationId"] == conversation["id"] and item["nextStep"]]

    await wait_for(next_step)  # the store has heard the conversation's ladder
    await signed_in(page, live_stack.supervisor_key)
    await page.goto(f"/console/queues/{front_desk}")
    section = page.locator("#queue-escalation")
    await expect(section.get_by_test_id("escalation-ladder").locator("li")).to_have_text(
        ["after 30 min: priority HIGH", "after 1 h: move to Tier 2"])
    await expect(section.get_by_role("link", name="Edit the steps in the queue's settings")).to_be_visible()
    # The dry run lists every waiting conversation: it has a page of its own.
    await expect(section.get_by_test_id("escalation-dry-run")).to_have_count(0)
    await section.get_by_role("link", name="When each waiting conversation escalates next").click()
    section = page.locator("#queue-escalation")
    waiting = section.get_by_test_id("escalation-dry-run")
    await expect(waiting).to_have_count(1)
    await expect(waiting).to_contain_text("Lost card")
    await expect(waiting).to_contain_text("step 1, after 30 min: priority HIGH")
    await expect(waiting).to_contain_text("(in 29m")
    await expect(section.get_by_role("link", name="Edit the steps in the queue's settings")).to_be_visible()

    # An agent of the queue sees the ladder, but neither the dry run (a supervisor's) nor a way to edit.
    agent = await create(api, "/ccaas/1/agents", {"displayName": "Ada Agent", "email": "ada@example.com"})
    await create(api, f"/ccaas/1/agents/{agent['id']}/queues", {"queueId": front_desk}, status=200)
    await page.get_by_role("button", name="Sign out").click()
    await sign_in(page, agent["apiKey"])
    await page.goto(f"/console/queues/{front_desk}")
    await expect(section.get_by_test_id("escalation-ladder").locator("li")).to_have_text(
        ["after 30 min: priority HIGH", "after 1 h: move to Tier 2"])
    await expect(section.get_by_test_id("escalation-dry-run")).to_have_count(0)
    await expect(section.get_by_role("link", name="When each waiting conversation escalates next")).to_have_count(0)
    await expect(section.get_by_role("link", name="Edit the steps in the queue's settings")).to_have_count(0)
