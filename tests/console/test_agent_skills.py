"""A supervisor edits an agent's skills on its directory page: added in the spare row, removed
by its button, a refusal of the API shown at its row with nothing changed."""

from __future__ import annotations

from playwright.async_api import expect

from tests.console.helpers import create, signed_in

AGENTS = "/ccaas/1/agents"


async def test_a_supervisor_adds_and_removes_an_agents_skills(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    ada = await create(api, AGENTS, {"displayName": "Ada Agent"})
    skills_url = f"{AGENTS}/{ada['id']}/skills"

    async def held() -> list[tuple[str, int]]:
        return sorted((skill["name"], skill["level"]) for skill in (await api.get(skills_url)).json()["skills"])

    await signed_in(page, live_stack.supervisor_key)
    await page.goto(f"/console/agents/{ada['id']}")
    await expect(page.get_by_test_id("agent-skills")).to_contain_text("No skills")

    form = page.get_by_role("form", name="Skills")
    await form.get_by_label("Skill 1", exact=True).fill("es")
    await form.get_by_label("Skill 1 level").select_option("3")
    await form.get_by_role("button", name="Save skills").click()
    await expect(page.get_by_test_id("agent-skills")).to_have_text("es 3")
    assert await held() == [("es", 3)]

    # The next skill goes in the spare row the page offers again; Enter saves.
    await form.get_by_label("Skill 2", exact=True).fill("billing")
    await form.get_by_label("Skill 2 level").select_option("2")
    await form.get_by_label("Skill 2", exact=True).press("Enter")
    await expect(page.get_by_test_id("agent-skills")).to_have_text("billing 2, es 3")
    assert await held() == [("billing", 2), ("es", 3)]

    await form.get_by_role("button", name="Remove skill es").click()
    await expect(page.get_by_test_id("agent-skills")).to_have_text("billing 2")
    assert await held() == [("billing", 2)]

    # A name the API refuses: its message at that row, the rows as typed, nothing changed.
    await form.get_by_label("Skill 2", exact=True).fill("no spaces")
    await form.get_by_role("button", name="Save skills").click()
    row_error = page.get_by_test_id("skill-row-error")
    await expect(row_error).to_have_count(1)
    await expect(row_error).to_contain_text("name")
    await expect(form.get_by_label("Skill 2", exact=True)).to_have_value("no spaces")
    await expect(form.get_by_label("Skill 2", exact=True)).to_have_attribute("aria-invalid", "true")
    await expect(form.get_by_label("Skill 1", exact=True)).not_to_have_attribute("aria-invalid", "true")
    assert await held() == [("billing", 2)]


async def test_an_agent_sees_its_own_skills_read_only(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    ada = await create(api, AGENTS, {"displayName": "Ada Agent"})
    assert (await api.put(f"{AGENTS}/{ada['id']}/skills", json={"skills": [
        {"name": "es", "level": 3}, {"name": "billing", "level": 2}]})).status_code == 200
    await signed_in(page, ada["apiKey"])
    await page.get_by_role("link", name="My conversations").click()
    await expect(page.get_by_test_id("my-skills")).to_have_text("billing 2, es 3")
    response = await page.goto(f"/console/agents/{ada['id']}")  # the agents' pages are supervisors'
    assert response is not None and response.status == 403
