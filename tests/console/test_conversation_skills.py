"""A conversation's required skills on its page: relaxed or until when they restrict, who may
take it now and at each coming relaxation (with why the others may not), and the requirements
replaced through the page's form, a refusal shown at its row."""

from __future__ import annotations

from playwright.async_api import expect

from tests.console.helpers import create, queue, signed_in
from tests.helpers import wait_for

AGENTS = "/ccaas/1/agents"
CONVERSATIONS = "/ccaas/1/conversations"


async def test_a_conversations_requirements_and_eligible_agents(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    desk = await queue(api, "Spanish desk")  # no auto-assignment: the conversation stays waiting
    agents = {}
    for name, skills in (("Ada Agent", [{"name": "es", "level": 3}]), ("Bob Agent", [])):
        agents[name] = await create(api, AGENTS, {"displayName": name})
        await create(api, f"{AGENTS}/{agents[name]['id']}/queues", {"queueId": desk}, status=200)
        assert (await api.put(f"{AGENTS}/{agents[name]['id']}/skills", json={"skills": skills})).status_code == 200
    conversation = await create(api, CONVERSATIONS, {"topic": "Hola", "queueId": desk, "requiredSkills": [
        {"name": "es", "minLevel": 2, "relaxAfterSeconds": 3600}, {"name": "billing", "relaxAfterSeconds": 0}]})
    url = f"{CONVERSATIONS}/{conversation['id']}"

    async def billing_relaxed() -> bool:
        required = (await api.get(url)).json()["requiredSkills"]
        return any(skill["name"] == "billing" and skill["relaxed"] for skill in required)

    await wait_for(billing_relaxed, timeout=15)

    await signed_in(page, live_stack.supervisor_key)
    await page.goto(f"/console/conversations/{conversation['id']}")
    requirements = page.get_by_test_id("requirement")
    await expect(requirements).to_have_count(2)
    await expect(requirements.get_by_role("cell").nth(0)).to_have_text("es")
    await expect(requirements.nth(0).get_by_test_id("requirement-state")).to_contain_text("restricts until")
    await expect(requirements.nth(1)).to_contain_text("billing")
    await expect(requirements.nth(1).get_by_test_id("requirement-state")).to_contain_text("relaxed")
    await expect(page.get_by_test_id("now-eligible").get_by_test_id("eligible-agent")).to_have_count(1)
    await expect(page.get_by_test_id("now-eligible")).to_contain_text("Ada Agent")
    bob_now = page.get_by_test_id("now-not-eligible").get_by_test_id("not-eligible-agent")
    await expect(bob_now).to_contain_text("Bob Agent")
    await expect(bob_now.get_by_test_id("why")).to_contain_text("es")
    # When es relaxes (in an hour) both may take it.
    relaxation = page.get_by_test_id("relaxation")
    await expect(relaxation).to_have_count(1)
    await expect(relaxation.get_by_test_id("eligible-agent")).to_have_count(2)

    # Ada's level 3 falls below a min level of 4.
    form = page.get_by_role("form", name="Required skills")
    await expect(form.get_by_label("Required skill 1", exact=True)).to_have_value("es")
    await form.get_by_label("Required skill 1 min level").select_option("4")
    await form.get_by_role("button", name="Set required skills").click()
    ada_now = page.get_by_test_id("now-not-eligible").get_by_test_id("not-eligible-agent").filter(has_text="Ada Agent")
    await expect(ada_now.get_by_test_id("why")).to_contain_text("below 4")
    await expect(page.get_by_test_id("now-eligible").get_by_test_id("eligible-agent")).to_have_count(0)
    assert [(skill["name"], skill["minLevel"]) for skill in (await api.get(url)).json()["requiredSkills"]] == [
        ("es", 4), ("billing", 1)]

    # A relax-after beyond the API's bound: refused at its row, the rows as typed, nothing changed.
    form = page.get_by_role("form", name="Required skills")
    await form.get_by_label("Required skill 2 relax after (seconds)").fill("99999999")
    await form.get_by_role("button", name="Set required skills").click()
    await expect(form.get_by_test_id("skill-row-error")).to_contain_text("relaxAfterSeconds")
    await expect(form.get_by_label("Required skill 2 relax after (seconds)")).to_have_value("99999999")
    assert [skill["relaxAfterSeconds"] for skill in (await api.get(url)).json()["requiredSkills"]] == [3600, 0]

    await page.goto(f"/console/conversations/{conversation['id']}")
    form = page.get_by_role("form", name="Required skills")
    await form.get_by_role("button", name="Remove required skill billing").click()
    await expect(page.get_by_test_id("requirement")).to_have_count(1)
    assert [skill["name"] for skill in (await api.get(url)).json()["requiredSkills"]] == ["es"]


async def test_an_agent_of_the_queue_sees_who_may_take_it(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    desk = await queue(api, "Spanish desk")
    ada = await create(api, AGENTS, {"displayName": "Ada Agent"})
    await create(api, f"{AGENTS}/{ada['id']}/queues", {"queueId": desk}, status=200)
    conversation = await create(api, CONVERSATIONS, {"topic": "Hola", "queueId": desk,
                                                     "requiredSkills": [{"name": "es"}]})
    await signed_in(page, ada["apiKey"])
    await page.goto(f"/console/conversations/{conversation['id']}")
    await expect(page.get_by_test_id("requirement-state")).to_have_text("restricts")
    await expect(page.get_by_test_id("now-not-eligible").get_by_test_id("why")).to_contain_text("es")
