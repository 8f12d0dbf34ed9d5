"""The directory pages in a real browser against the live stack: what the page shows, and
what the API holds afterwards."""

from __future__ import annotations

import re

from playwright.async_api import expect

from console.client import Refusal
from console.forms import folded, split_list
from tests.console.helpers import create, create_queue, queue, sign_in, signed_in

QUEUES = "/ccaas/1/queues"


async def queues_by_name(api) -> dict[str, dict]:
    response = await api.get(QUEUES, params={"limit": 999})
    return {queue["name"]: queue for queue in response.json()["queues"]}


async def test_supervisor_sets_up_the_scenario_queues_and_their_bot(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    await signed_in(page, live_stack.supervisor_key)

    # A bot, its key shown once.
    await page.get_by_role("link", name="Bots").click()
    await page.get_by_label("Name").fill("Auth bot")
    await page.get_by_role("button", name="Create bot").click()
    await expect(page.get_by_text("Copy it now: it will not be shown again.")).to_be_visible()
    bot_key = await page.get_by_label("New API key of bot Auth bot").input_value()
    assert (await api.get("/ccaas/1/bots", headers={"Authorization": f"App {bot_key}"})).status_code == 200
    await page.get_by_role("link", name="Go on to Auth bot").click()
    await expect(page.get_by_role("heading", name="Auth bot")).to_be_visible()
    assert bot_key not in await page.content()

    # The scenario's three queues, one served by the bot.
    await create_queue(page, "Front desk")
    await create_queue(page, "Chatbot authentication", bot="Auth bot", timeout="120")
    await create_queue(page, "Authenticated sessions")
    await expect(page.get_by_test_id("queue-row")).to_have_count(4)  # and the install's Default
    row = page.get_by_test_id("queue-row").filter(has_text="Chatbot authentication")
    await expect(row).to_contain_text("Auth bot")
    await expect(row).to_contain_text("2m")
    queues = await queues_by_name(api)
    bot_id = queues["Chatbot authentication"]["botId"]
    assert (await api.get(f"/ccaas/1/bots/{bot_id}")).json()["displayName"] == "Auth bot"
    assert queues["Chatbot authentication"]["botTimeoutSeconds"] == 120
    assert queues["Front desk"]["botId"] is None

    # The API's refusal at its field: a name in use (409), the form kept as typed.
    await create_queue(page, "Front desk", timeout="30")
    name_input = page.get_by_label("Name")
    await expect(name_input).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#f-name-errors")).to_have_text("already in use")
    await expect(page.get_by_test_id("refusal")).to_contain_text("A queue with this name already exists")
    await expect(page.get_by_label("Bot timeout (seconds)")).to_have_value("30")
    # A timeout that is no number is refused at its field before the API is asked.
    await create_queue(page, "Walk-ins", timeout="soon")
    await expect(page.locator("#f-botTimeoutSeconds-errors")).to_have_text("must be a whole number")
    assert set(await queues_by_name(api)) == {"Default", "Front desk", "Chatbot authentication",
                                              "Authenticated sessions"}

    # Front desk becomes the default queue; deleting it is then refused (409) and shown.
    await page.get_by_label("Default queue").select_option(label="Front desk")
    await page.get_by_role("button", name="Set default queue").click()
    await expect(page.get_by_test_id("queue-row").filter(has_text="Front desk")).to_contain_text("default")
    settings = (await api.get("/ccaas/1/routing/settings")).json()
    assert settings["defaultQueueId"] == queues["Front desk"]["id"]
    await page.get_by_role("link", name="Settings of Front desk").click()
    await page.get_by_role("button", name="Delete queue").click()
    await expect(page.get_by_test_id("refusal")).to_contain_text("Queue is the default queue")
    assert "Front desk" in await queues_by_name(api)

    # Settings are a PUT of the fields the form holds: what the console does not edit is kept.
    sessions = queues["Authenticated sessions"]
    answer = await api.put(f"{QUEUES}/{sessions['id']}", json={"name": sessions["name"], "externalId": "crm-7"})
    assert answer.status_code == 200, answer.text
    await page.goto(f"/console/queues/{sessions['id']}/settings")
    await page.get_by_label("Name").fill("Strongly authenticated")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_role("link", name="Strongly authenticated", exact=True)).to_be_visible()
    renamed = (await api.get(f"{QUEUES}/{sessions['id']}")).json()
    assert (renamed["name"], renamed["externalId"]) == ("Strongly authenticated", "crm-7")

    # The bot serves a queue: its delete is refused (409) and shown; the key is rotated.
    await page.goto(f"/console/bots/{bot_id}")
    await page.get_by_role("button", name="Delete bot").click()
    await expect(page.get_by_test_id("refusal")).to_contain_text("Bot serves 1 queue(s)")
    await page.get_by_role("button", name="Rotate API key").click()
    new_key = await page.get_by_label("New API key of bot Auth bot").input_value()
    for key, status in ((bot_key, 401), (new_key, 200)):
        assert (await api.get("/ccaas/1/bots", headers={"Authorization": f"App {key}"})).status_code == status


async def test_supervisor_creates_an_agent_and_puts_it_in_a_queue(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    front_desk = await queue(api, "Front desk")
    await create(api, "/ccaas/1/agents", {"displayName": "Bo", "email": "bo@example.com"})
    await signed_in(page, live_stack.supervisor_key)

    await page.get_by_role("link", name="Agents").click()
    await page.get_by_label("Name").fill("Ana")
    await page.get_by_label("Email").fill("ana@example.com")
    await page.get_by_label("Role").select_option("AGENT")
    await page.get_by_role("button", name="Create agent").click()
    await expect(page.get_by_text("Copy it now: it will not be shown again.")).to_be_visible()
    key = await page.get_by_label("New API key of agent Ana").input_value()
    await page.get_by_role("link", name="Go on to Ana").click()
    await page.wait_for_url(re.compile(r"/console/agents/[0-9a-f-]{36}$"))
    agent_id = page.url.rsplit("/", 1)[-1]
    ana = {"Authorization": f"App {key}"}
    assert (await api.get(f"/ccaas/1/agents/{agent_id}", headers=ana)).json()["email"] == "ana@example.com"

    # Another agent's email: the API's 409 at the email field; nothing changed.
    await page.get_by_label("Email").fill("bo@example.com")
    await page.get_by_role("button", name="Save agent").click()
    await expect(page.locator("#f-email-errors")).to_have_text("already in use")
    await expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    assert (await api.get(f"/ccaas/1/agents/{agent_id}")).json()["email"] == "ana@example.com"
    await page.get_by_label("Email").fill("ana.k@example.com")
    await page.get_by_role("button", name="Save agent").click()
    await expect(page.locator("#f-email-errors")).to_have_count(0)

    await page.get_by_label("Queue to add").select_option(label="Front desk")
    await page.get_by_role("button", name="Add to queue").click()
    await expect(page.get_by_test_id("membership")).to_have_text(re.compile("Front desk"))
    await page.get_by_label("Status").select_option("BUSY")
    await page.get_by_role("button", name="Set status").click()
    await expect(page.get_by_test_id("agent-status")).to_have_text("busy")
    agent = (await api.get(f"/ccaas/1/agents/{agent_id}")).json()
    assert (agent["email"], agent["status"], agent["role"]) == ("ana.k@example.com", "BUSY", "AGENT")
    memberships = (await api.get(f"/ccaas/1/agents/{agent_id}/queues")).json()["queues"]
    assert memberships == [{"id": front_desk, "name": "Front desk"}]

    # Disabled, not deleted: the key stops at once, the agent stays listed.
    await page.get_by_role("button", name="Disable agent").click()
    await expect(page.get_by_role("button", name="Enable agent")).to_be_visible()
    assert (await api.get(f"/ccaas/1/agents/{agent_id}", headers=ana)).status_code == 401
    agent = (await api.get(f"/ccaas/1/agents/{agent_id}")).json()
    assert (agent["enabled"], agent["status"]) == (False, "BUSY")


async def test_supervisor_creates_an_agent_without_email_and_clears_one(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    await signed_in(page, live_stack.supervisor_key)

    # Infobip's AgentRequest has no email: an empty box creates an agent without one.
    await page.goto("/console/agents")
    await page.get_by_label("Name").fill("Cy")
    await page.get_by_role("button", name="Create agent").click()
    await expect(page.get_by_text("Copy it now: it will not be shown again.")).to_be_visible()
    await page.get_by_role("navigation").get_by_role("link", name="Agents").click()
    row = page.get_by_test_id("agent-row").filter(has=page.get_by_role("link", name="Cy", exact=True))
    await expect(row).to_have_count(1)
    await expect(row.locator("td").nth(1)).to_have_text("")
    agents = (await api.get("/ccaas/1/agents", params={"displayName": "Cy"})).json()["agents"]
    assert [(agent["displayName"], agent["email"]) for agent in agents] == [("Cy", None)]

    # On edit, an emptied box clears the email (PUT with null); the rest is kept.
    agent_id = agents[0]["id"]
    answer = await api.put(f"/ccaas/1/agents/{agent_id}", json={
        "displayName": "Cy", "status": "BUSY", "role": "AGENT", "email": "cy@example.com"})
    assert answer.status_code == 200, answer.text
    await row.get_by_role("link", name="Cy").click()
    await expect(page.get_by_label("Email")).to_have_value("cy@example.com")
    await page.get_by_label("Email").fill("")
    await page.get_by_label("Name").fill("Cy B")
    await page.get_by_role("button", name="Save agent").click()
    await expect(page.get_by_role("heading", name="Cy B")).to_be_visible()
    await expect(page.get_by_label("Email")).to_have_value("")
    agent = (await api.get(f"/ccaas/1/agents/{agent_id}")).json()
    assert (agent["email"], agent["status"], agent["displayName"]) == (None, "BUSY", "Cy B")


async def test_supervisor_creates_and_edits_a_person(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    await signed_in(page, live_stack.supervisor_key)

    await page.get_by_role("link", name="People").click()
    await page.get_by_role("link", name="New person").click()
    await page.get_by_label("First name").fill("Iva")
    await page.get_by_label("Last name").fill("Horvat")
    await page.get_by_label("Phone numbers").fill("+385 91 234 5678")
    await page.get_by_label("Emails").fill("iva@example.com")
    await page.get_by_label("Tags").fill("vip, gold")
    await page.get_by_label("Custom attributes (JSON object)").fill('{"segment": "gold",}')
    await page.get_by_role("button", name="Create person").click()
    # A JSON mistake is shown at its field; the API is not asked.
    await expect(page.locator("#f-customAttributes-errors")).to_contain_text("is not valid JSON")
    assert (await api.get("/people/2/persons")).json()["pagination"]["totalItems"] == 0
    await page.get_by_label("Custom attributes (JSON object)").fill('{"segment": "gold"}')
    await page.get_by_role("button", name="Create person").click()
    await expect(page.get_by_role("heading", name="Iva Horvat")).to_be_visible()
    person_id = page.url.rsplit("/", 1)[-1]
    person = (await api.get(f"/people/2/persons/{person_id}")).json()
    assert person["tags"] == ["vip", "gold"]
    assert person["customAttributes"] == {"segment": "gold"}
    assert person["contactInformation"]["phone"] == [{"number": "+385 91 234 5678"}]

    # The API's message about the second email is shown at the emails input, naming it.
    await page.get_by_label("Emails").fill("iva@example.com\nnot-an-email")
    await page.get_by_label("City").fill("Zagreb")
    await page.get_by_role("button", name="Save person").click()
    await expect(page.locator("#f-emails-errors")).to_have_text("“not-an-email”: must look like local@domain")
    await expect(page.get_by_label("Emails")).to_have_attribute("aria-invalid", "true")
    assert (await api.get(f"/people/2/persons/{person_id}")).json()["city"] is None
    await page.get_by_label("Emails").fill("iva@example.com, iva.horvat@example.org")
    await page.get_by_role("button", name="Save person").click()
    await expect(page.locator("#f-emails-errors")).to_have_count(0)
    person = (await api.get(f"/people/2/persons/{person_id}")).json()
    assert person["city"] == "Zagreb"
    assert [email["address"] for email in person["contactInformation"]["email"]] == [
        "iva@example.com", "iva.horvat@example.org"]
    assert person["tags"] == ["vip", "gold"]  # the rest of the form went back as it was

    await page.get_by_role("link", name="All people").click()
    await expect(page.get_by_test_id("person-row")).to_contain_text("Zagreb")
    await page.get_by_role("link", name="Iva Horvat").click()
    await page.get_by_role("button", name="Delete person").click()
    await expect(page.get_by_text("No people yet.")).to_be_visible()
    assert (await api.get(f"/people/2/persons/{person_id}")).status_code == 404


async def test_an_agent_sees_its_queues_without_controls_and_no_supervisor_pages(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    mine = await queue(api, "Front desk")
    await queue(api, "Back office")
    agent = await create(api, "/ccaas/1/agents", {"displayName": "Ana", "email": "ana@example.com"})
    await create(api, f"/ccaas/1/agents/{agent['id']}/queues", {"queueId": mine}, status=200)
    await sign_in(page, agent["apiKey"])

    await page.goto("/console/queues")
    await expect(page.get_by_role("heading", name="Your queues")).to_be_visible()
    await expect(page.get_by_test_id("queue-row")).to_have_count(1)
    await expect(page.get_by_role("link", name="Front desk")).to_be_visible()
    await expect(page.get_by_role("button")).to_have_text(["Sign out"])  # no create, default or delete
    await expect(page.get_by_role("link", name=re.compile("Settings"))).to_have_count(0)

    for path in ("/console/agents", f"/console/queues/{mine}/settings", "/console/people"):
        response = await page.goto(path)
        assert response.status == 403, path
        await expect(page.get_by_test_id("refusal")).to_have_text("This page is for supervisors.")


def test_item_messages_are_shown_at_the_input_holding_the_list():
    refusal = Refusal(400, "Bad request", {
        "contactInformation.phone[1].number": ["must have 5 to 15 digits"],
        "customAttributes.x y": ["name must be 1 to 100 letters"],
        "firstName": ["too long"],
    })
    phones = split_list("+385 91 234 5678, 12\n")
    shown = folded(refusal, {"contactInformation.phone": phones, "customAttributes": []})
    assert phones == ["+385 91 234 5678", "12"]
    assert shown.fields == {
        "contactInformation.phone": ["“12”: must have 5 to 15 digits"],
        "customAttributes": ["x y: name must be 1 to 100 letters"],
        "firstName": ["too long"],
    }
