"""A queue's service level target in the console (SPEC "Service level"): a supervisor sets
serviceLevelTargetSeconds and serviceLevelTargetPercent in the queue's create and settings
forms (empty: the API's default on create, the value kept on save), a value the API refuses is
shown at its box with nothing saved, and the queue's page says the target."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from tests.console.helpers import signed_in

QUEUES = "/ccaas/1/queues"


async def named(api: httpx.AsyncClient, name: str) -> dict:
    """The queue of exactly this name (the API's name filter matches a part of the name)."""
    found = (await api.get(QUEUES, params={"name": name})).json()["queues"]
    return next(queue for queue in found if queue["name"] == name)


async def saved_target(page: Page, api: httpx.AsyncClient, desk: dict) -> tuple[int, int]:
    """Saves the settings form (it goes back to the queues) and answers the target as stored."""
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_role("link", name=f"Settings of {desk['name']}")).to_be_visible()
    saved = (await api.get(f"{QUEUES}/{desk['id']}")).json()
    return saved["serviceLevelTargetSeconds"], saved["serviceLevelTargetPercent"]


async def test_a_supervisor_sets_a_queues_service_level_target_in_its_forms(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    await signed_in(page, live_stack.supervisor_key)

    # Created with the boxes empty: the API's defaults, 80 % within 60 s.
    await page.goto("/console/queues")
    await page.get_by_label("Name").fill("Default target desk")
    await page.get_by_role("button", name="Create queue").click()
    await expect(page.get_by_role("link", name="Default target desk", exact=True)).to_be_visible()
    plain = await named(api, "Default target desk")
    assert (plain["serviceLevelTargetSeconds"], plain["serviceLevelTargetPercent"]) == (60, 80)

    # Created with a target of its own.
    await page.get_by_label("Name").fill("Target desk")
    await page.get_by_label("Answer within (seconds)").fill("30")
    await page.get_by_label("Target share answered in time (%)").fill("90")
    await page.get_by_role("button", name="Create queue").click()
    await expect(page.get_by_role("link", name="Target desk", exact=True)).to_be_visible()
    desk = await named(api, "Target desk")
    assert (desk["serviceLevelTargetSeconds"], desk["serviceLevelTargetPercent"]) == (30, 90)

    await page.goto(f"/console/queues/{desk['id']}")
    target = page.get_by_test_id("queue-service-level-target")
    await expect(target).to_have_text("90% answered within 30s")

    # Values the API refuses (1..86400 s, 1..100 %) are shown at their boxes, nothing saved.
    await page.goto(f"/console/queues/{desk['id']}/settings")
    seconds = page.get_by_label("Answer within (seconds)")
    percent = page.get_by_label("Target share answered in time (%)")
    await expect(seconds).to_have_value("30")
    await expect(percent).to_have_value("90")
    await seconds.fill("0")
    await percent.fill("101")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_test_id("refusal")).to_be_visible()
    await expect(page.locator("#f-serviceLevelTargetSeconds-errors")).to_contain_text("greater than or equal to 1")
    await expect(page.locator("#f-serviceLevelTargetPercent-errors")).to_contain_text("less than or equal to 100")
    await expect(seconds).to_have_attribute("aria-invalid", "true")
    await expect(percent).to_have_attribute("aria-invalid", "true")
    # The form keeps what was typed, to correct it.
    await expect(seconds).to_have_value("0")
    await expect(percent).to_have_value("101")
    saved = (await api.get(f"{QUEUES}/{desk['id']}")).json()
    assert (saved["serviceLevelTargetSeconds"], saved["serviceLevelTargetPercent"]) == (30, 90)

    await seconds.fill("120")
    await percent.fill("75")
    assert await saved_target(page, api, desk) == (120, 75)
    await page.goto(f"/console/queues/{desk['id']}")
    await expect(target).to_have_text("75% answered within 2m")

    # Emptied on save: the target is kept (PUT changes only what is given).
    await page.goto(f"/console/queues/{desk['id']}/settings")
    await page.get_by_label("Answer within (seconds)").fill("")
    await page.get_by_label("Target share answered in time (%)").fill("")
    assert await saved_target(page, api, desk) == (120, 75)
