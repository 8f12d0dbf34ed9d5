"""A supervisor sets up working hours in the console: refused at the field, a split shift, a
holiday, the status, and a queue keeping them."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.console.helpers import TOKEN, cookies, create, queue, signed_in


async def test_supervisor_creates_working_hours_and_sets_them_on_a_queue(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    queue_id = await queue(api, "Front desk")
    await signed_in(page, live_stack.supervisor_key)
    await page.get_by_role("link", name="Working hours", exact=True).click()
    await expect(page.get_by_text("No working hours yet")).to_be_visible()

    await page.get_by_label("Name").fill("Office")
    await page.get_by_label("Time zone").fill("Mars/Olympus_Mons")
    await page.get_by_label("Tuesday intervals").fill("08:00-12:00, 13:00-17:00")
    await page.get_by_label("Sunday enabled").check()
    await page.get_by_label("Sunday opens").fill("20:00")
    await page.get_by_label("Sunday closes").fill("24:00")
    await page.get_by_role("button", name="Create working hours").click()
    # The API's refusal, at the field it names; the form keeps what was typed.
    zone = page.get_by_label("Time zone")
    await expect(zone).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#f-timezone-errors")).to_contain_text("not an IANA time zone")
    await expect(page.get_by_label("Tuesday intervals")).to_have_value("08:00-12:00, 13:00-17:00")
    assert (await api.get("/ccaas/1/working-hours")).json()["workingHours"] == []

    await zone.fill("Europe/Zagreb")
    await page.get_by_role("button", name="Create working hours").click()
    await expect(page.get_by_role("heading", name="Working hours Office")).to_be_visible()
    (hours,) = (await api.get("/ccaas/1/working-hours")).json()["workingHours"]
    week = hours["workWeek"]
    assert week["TUESDAY"]["intervals"] == [{"startTime": 480, "endTime": 720}, {"startTime": 780, "endTime": 1020}]
    assert (week["SUNDAY"]["enabled"], week["SUNDAY"]["startTime"], week["SUNDAY"]["endTime"]) == (True, 1200, 1440)
    assert (week["MONDAY"]["startTime"], week["SATURDAY"]["enabled"]) == (540, False)
    await expect(page.get_by_label("Tuesday intervals")).to_have_value("08:00-12:00, 13:00-17:00")
    await expect(page.get_by_label("Sunday closes")).to_have_value("24:00")
    status = (await api.get(f"/ccaas/1/working-hours/{hours['id']}/status")).json()
    await expect(page.get_by_test_id("hours-status")).to_contain_text(status["status"])

    # A holiday ending before it starts is refused at its field; then one is added, and deleted.
    await page.get_by_label("Holiday name").fill("Christmas")
    await page.get_by_label("First day").fill("2026-12-26")
    await page.get_by_label("Last day").fill("2026-12-25")
    await page.get_by_role("button", name="Add holiday").click()
    await expect(page.get_by_label("Last day")).to_have_attribute("aria-invalid", "true")
    await page.get_by_label("First day").fill("2026-12-25")
    await page.get_by_label("Last day").fill("2026-12-26")
    await page.get_by_role("button", name="Add holiday").click()
    await expect(page.get_by_test_id("holiday-row")).to_contain_text("2026-12-26")
    await page.get_by_label("Holiday name").fill("Spare")
    await page.get_by_label("First day").fill("2027-01-06")
    await page.get_by_role("button", name="Add holiday").click()
    await expect(page.get_by_test_id("holiday-row")).to_have_count(2)
    await page.get_by_test_id("holiday-row").filter(has_text="Spare").get_by_role("button", name="Delete").click()
    await expect(page.get_by_test_id("holiday-row")).to_have_count(1)
    holidays = (await api.get(f"/ccaas/1/working-hours/{hours['id']}")).json()["holidays"]
    assert [(h["name"], h["startDate"], h["endDate"]) for h in holidays] == [("Christmas", "2026-12-25", "2026-12-26")]

    # Listed with its status; set on a queue in its settings.
    await page.get_by_role("link", name="All working hours").click()
    await expect(page.get_by_test_id("hours-row")).to_contain_text("Europe/Zagreb")
    await expect(page.get_by_test_id("hours-row").get_by_test_id("hours-status")).to_contain_text("_OF_WORKING_HOURS")
    await page.goto(f"/console/queues/{queue_id}/settings")
    await page.get_by_label("Working hours", exact=True).select_option(label="Office")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_role("heading", name="Queues")).to_be_visible()
    assert (await api.get(f"/ccaas/1/queues/{queue_id}")).json()["workingHoursId"] == hours["id"]
    await page.goto(f"/console/working-hours/{hours['id']}")
    await expect(page.get_by_test_id("hours-queues")).to_have_text("Front desk")


async def test_an_agent_sees_working_hours_read_only(live_stack):
    api = live_stack.api
    week = {day: {"enabled": True, "startTime": 540, "endTime": 1020}
            for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")}
    hours = await create(api, "/ccaas/1/working-hours",
                         {"name": "Office", "timezone": "Europe/Zagreb", "message": "Closed", "workWeek": week})
    agent = await create(api, "/ccaas/1/agents", {"displayName": "Ada Agent", "email": "ada@example.com"})
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=cookies(live_stack, agent["apiKey"])) as browser:
        listing = await browser.get("/console/working-hours")
        assert listing.status_code == 200 and "Office" in listing.text and "Create working hours" not in listing.text
        shown = await browser.get(f"/console/working-hours/{hours['id']}")
        assert shown.status_code == 200 and "hours-status" in shown.text
        assert "Save working hours" not in shown.text and "Add holiday" not in shown.text
        refused = await browser.post(f"/console/working-hours/{hours['id']}/edit",
                                     data={"csrf_token": TOKEN, "name": "Mine"})
        assert refused.status_code == 403
    assert (await api.get(f"/ccaas/1/working-hours/{hours['id']}")).json()["name"] == "Office"
