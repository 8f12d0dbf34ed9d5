"""Work distribution in the console: an agent's My conversations (status, take, release,
close, a refusal in plain words), a supervisor assigning on the conversation page, a queue's
agents with their load after an auto-assignment, the agent form's capacity box, and a queue's
auto-assignment turned on in its settings."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import expect

from tests.console.helpers import TOKEN, cookies, create, queue, signed_in
from tests.helpers import wait_for

AGENTS = "/ccaas/1/agents"
CONVERSATIONS = "/ccaas/1/conversations"
QUEUES = "/ccaas/1/queues"


async def member(api: httpx.AsyncClient, name: str, queue_id: str, **fields) -> dict:
    agent = await create(api, AGENTS, {"displayName": name, **fields})
    await create(api, f"{AGENTS}/{agent['id']}/queues", {"queueId": queue_id}, status=200)
    return agent


async def test_an_agent_goes_active_takes_releases_and_closes_in_my_conversations(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    front_desk = await queue(api, "Front desk")  # no auto-assignment: the agent takes them
    ada = await member(api, "Ada Agent", front_desk, status="AWAY")
    bob = await member(api, "Bob Agent", front_desk)
    card = await create(api, CONVERSATIONS, {"topic": "Card blocked", "queueId": front_desk})
    refund = await create(api, CONVERSATIONS, {"topic": "Refund", "queueId": front_desk})
    address = await create(api, CONVERSATIONS, {"topic": "Address change", "queueId": front_desk})
    assigned = await api.put(f"{CONVERSATIONS}/{address['id']}/assignee", json={"agentId": ada["id"]})
    assert assigned.status_code == 200, assigned.text

    await signed_in(page, ada["apiKey"])
    await page.get_by_role("link", name="My conversations").click()
    await page.get_by_label("Your status", exact=True).select_option("ACTIVE")
    await page.get_by_role("button", name="Set status").click()
    await expect(page.get_by_test_id("my-status")).to_have_text("ACTIVE")
    assert (await api.get(f"{AGENTS}/{ada['id']}")).json()["status"] == "ACTIVE"

    held, waiting = page.get_by_test_id("my-conversation"), page.get_by_test_id("waiting-conversation")
    await expect(held).to_have_count(1)
    await expect(held).to_contain_text("Address change")
    await expect(page.get_by_test_id("my-load")).to_have_text("1/5")
    await expect(waiting.get_by_role("link")).to_have_text(["Card blocked", "Refund"])  # oldest first
    await expect(waiting.get_by_test_id("queue-position")).to_have_text(["1", "2"])

    await page.get_by_role("button", name="Take Card blocked").click()
    await expect(held.get_by_role("link")).to_have_text(["Card blocked", "Address change"])  # oldest first
    await expect(page.get_by_test_id("my-load")).to_have_text("2/5")
    await expect(waiting.get_by_role("link")).to_have_text(["Refund"])
    assert (await api.get(f"{CONVERSATIONS}/{card['id']}")).json()["agentId"] == ada["id"]

    await page.get_by_role("button", name="Release Card blocked").click()
    await expect(held.get_by_role("link")).to_have_text(["Address change"])
    await expect(waiting.get_by_role("link")).to_have_text(["Card blocked", "Refund"])

    await page.get_by_role("button", name="Close Address change").click()  # the dialog is accepted
    await expect(held).to_have_count(0)
    await expect(page.get_by_text("None assigned to you.")).to_be_visible()
    await expect(page.get_by_text("And 1 closed.")).to_be_visible()
    assert (await api.get(f"{CONVERSATIONS}/{address['id']}")).json()["status"] == "CLOSED"

    # Refund goes to Bob while Ada's page still offers it (her focus holds the page still).
    take_refund = page.get_by_role("button", name="Take Refund")
    await take_refund.focus()
    assigned = await api.put(f"{CONVERSATIONS}/{refund['id']}/assignee", json={"agentId": bob["id"]})
    assert assigned.status_code == 200, assigned.text
    await take_refund.click()
    refusal = page.get_by_test_id("refusal")
    await expect(refusal).to_contain_text(f"Could not take conversation {refund['id'][:8]}")
    await expect(refusal).to_contain_text("assigned to another agent")
    await expect(page.get_by_text("Traceback")).to_have_count(0)
    assert (await api.get(f"{CONVERSATIONS}/{refund['id']}")).json()["agentId"] == bob["id"]

    # The conversation page offers the same: take it, then release it.
    await page.get_by_role("link", name="Card blocked").click()
    await expect(page.get_by_test_id("conversation-assignee")).to_have_text("nobody")
    await page.get_by_role("button", name="Take it").click()
    await expect(page.get_by_test_id("conversation-assignee")).to_have_text("Ada Agent")
    await expect(page.locator("[data-type=ASSIGNED]").last).to_contain_text("taken by the agent")
    await page.get_by_role("button", name="Release").click()
    await expect(page.get_by_test_id("conversation-assignee")).to_have_text("nobody")
    await expect(page.get_by_role("button", name="Take it")).to_be_visible()


async def test_a_supervisor_assigns_and_unassigns_on_the_conversation_page(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    front_desk = await queue(api, "Front desk")
    await member(api, "Ada Agent", front_desk)
    bob = await member(api, "Bob Agent", front_desk, status="AWAY", maxConversations=1)
    conversation = await create(api, CONVERSATIONS, {"topic": "Card blocked", "queueId": front_desk})

    await signed_in(page, live_stack.supervisor_key)
    await page.goto(f"/console/conversations/{conversation['id']}")
    assignee = page.get_by_test_id("conversation-assignee")
    await expect(assignee).to_have_text("nobody")
    await expect(page.get_by_test_id("conversation-queue-position")).to_have_text("number 1 in its queue")
    await page.get_by_label("Agent", exact=True).select_option(label="Bob Agent (away, 0/1)")
    await page.get_by_role("button", name="Assign", exact=True).click()
    await expect(assignee).to_have_text("Bob Agent")
    await expect(page.locator("[data-type=ASSIGNED]")).to_contain_text("agent Bob Agent")
    assert (await api.get(f"{CONVERSATIONS}/{conversation['id']}")).json()["agentId"] == bob["id"]

    await page.get_by_role("button", name="Unassign").click()
    await expect(assignee).to_have_text("nobody")
    await expect(page.locator("[data-type=UNASSIGNED]")).to_have_count(1)
    # My conversations is an agent's page.
    response = await page.goto("/console/my-conversations")
    assert response is not None and response.status == 403
    await expect(page.get_by_test_id("refusal")).to_contain_text("for agents")


async def test_the_queue_page_shows_an_agents_load_after_an_auto_assignment(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    auto_desk = await queue(api, "Auto desk", isAutoAssignmentEnabled=True)
    await signed_in(page, live_stack.supervisor_key)
    await page.goto("/console/agents")  # its capacity set in the console's form
    await page.get_by_label("Name").fill("Ada Agent")
    await page.get_by_label("Maximum conversations").fill("3")
    await page.get_by_role("button", name="Create agent").click()
    await expect(page.get_by_role("heading", name="API key of Ada Agent")).to_be_visible()
    ada = (await api.get(AGENTS, params={"name": "Ada Agent"})).json()["agents"][0]
    assert ada["maxConversations"] == 3
    await create(api, f"{AGENTS}/{ada['id']}/queues", {"queueId": auto_desk}, status=200)
    conversation = await create(api, CONVERSATIONS, {"topic": "Card blocked", "queueId": auto_desk})

    async def assigned() -> bool:
        return (await api.get(f"{CONVERSATIONS}/{conversation['id']}")).json()["agentId"] == ada["id"]

    await wait_for(assigned, timeout=15)
    await page.goto(f"/console/queues/{auto_desk}")
    agent_row = page.get_by_test_id("queue-agent").filter(has_text="Ada Agent")
    await expect(agent_row).to_contain_text("ACTIVE")
    await expect(agent_row.get_by_test_id("agent-load")).to_have_text("1/3")
    await expect(page.get_by_test_id("assigned")).to_have_text("1")
    await expect(page.get_by_test_id("waiting-unassigned")).to_have_text("0")
    await expect(page.get_by_test_id("eligible-agents")).to_have_text("1")
    await expect(page.get_by_test_id("time-to-assignment")).to_contain_text("p50")
    await expect(page.get_by_test_id("queue-conversation")).to_contain_text("Ada Agent")


async def test_the_agent_form_sends_its_capacity_only_when_changed(live_stack):
    api = live_stack.api
    ada = await create(api, AGENTS, {"displayName": "Ada Agent", "maxConversations": 3})
    form = {"csrf_token": TOKEN, "displayName": "Ada Lovelace", "email": "", "role": "AGENT",
            "shownMaxConversations": "3"}
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=cookies(live_stack)) as browser:
        edit = f"/console/agents/{ada['id']}/edit"
        kept = await browser.post(edit, data={**form, "maxConversations": "3"})
        assert kept.status_code == 303, kept.text
        assert (await api.get(f"{AGENTS}/{ada['id']}")).json()["displayName"] == "Ada Lovelace"

        refused = await browser.post(edit, data={**form, "maxConversations": "three"})
        assert refused.status_code == 400 and "must be a whole number" in refused.text
        refused = await browser.post(edit, data={**form, "maxConversations": "-1"})
        assert refused.status_code == 400
        assert re.search(r'id="f-maxConversations"[^>]*aria-invalid="true"', refused.text)

        raised = await browser.post(edit, data={**form, "maxConversations": "7"})
        assert raised.status_code == 303
        assert (await api.get(f"{AGENTS}/{ada['id']}")).json()["maxConversations"] == 7

        emptied = await browser.post(edit, data={**form, "shownMaxConversations": "7", "maxConversations": ""})
        assert emptied.status_code == 303
        assert (await api.get(f"{AGENTS}/{ada['id']}")).json()["maxConversations"] == 5  # the default


async def test_a_supervisor_turns_auto_assignment_on_in_the_queue_settings(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    front_desk = await queue(api, "Front desk")  # auto-assignment off
    ada = await member(api, "Ada Agent", front_desk, status="ACTIVE")
    conversation = await create(api, CONVERSATIONS, {"topic": "Card blocked", "queueId": front_desk})
    before = (await api.get(f"{QUEUES}/{front_desk}")).json()

    await signed_in(page, live_stack.supervisor_key)
    await page.goto(f"/console/queues/{front_desk}")
    await expect(page.get_by_test_id("auto-assignment")).to_have_text("off")
    await page.goto("/console/queues")
    await page.get_by_role("link", name="Settings of Front desk").click()
    auto, algorithm = page.get_by_label("Auto-assignment"), page.get_by_label("Algorithm")
    sticky, days = page.get_by_label("Sticky agent"), page.get_by_label("Sticky for (days)")
    await expect(auto).not_to_be_checked()
    await expect(algorithm).to_have_value("LOAD_BALANCING")
    await expect(algorithm.locator("option[value=PERFORMANCE_BASED]")).to_have_text(re.compile("balances load"))
    await expect(days).to_have_value("")
    await auto.check()
    await algorithm.select_option(label="Round robin")
    await sticky.check()

    # A number of days the API refuses (1 to 365): shown at the box, the form kept as sent.
    await days.fill("366")
    await page.get_by_role("button", name="Save settings").click()
    errors = page.locator("#f-stickyAgentTimeoutDays-errors")
    await expect(errors).to_contain_text("365")
    await expect(days).to_have_attribute("aria-invalid", "true")
    await expect(days).to_have_value("366")
    await expect(auto).to_be_checked()
    await expect(sticky).to_be_checked()
    await expect(algorithm).to_have_value("ROUND_ROBIN")
    assert (await api.get(f"{QUEUES}/{front_desk}")).json() == before  # nothing changed
    assert (await api.get(f"{CONVERSATIONS}/{conversation['id']}")).json()["agentId"] is None

    await days.fill("30")
    await page.get_by_role("button", name="Save settings").click()
    row = page.get_by_test_id("queue-row").filter(has_text="Front desk")
    await expect(row).to_contain_text("on, round robin, sticky for 30 days")
    saved = (await api.get(f"{QUEUES}/{front_desk}")).json()
    assert (saved["isAutoAssignmentEnabled"], saved["autoAssignmentAlgorithm"],
            saved["isStickyAutoAssignmentEnabled"], saved["stickyAgentTimeoutDays"]) == (True, "ROUND_ROBIN", True, 30)

    async def assigned() -> bool:
        return (await api.get(f"{CONVERSATIONS}/{conversation['id']}")).json()["agentId"] == ada["id"]

    await wait_for(assigned, timeout=15)
    await page.goto(f"/console/queues/{front_desk}")
    await expect(page.get_by_test_id("auto-assignment")).to_have_text("on, round robin, sticky for 30 days")
    await expect(page.get_by_test_id("queue-conversation")).to_contain_text("Ada Agent")
    await expect(page.get_by_test_id("assigned")).to_have_text("1")


async def test_the_queue_forms_send_their_auto_assignment_fields(live_stack):
    api = live_stack.api
    form = {"csrf_token": TOKEN, "name": "Back office", "botId": "", "botTimeoutSeconds": "",
            "autoAssignmentAlgorithm": "PERFORMANCE_BASED", "stickyAgentTimeoutDays": ""}
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=cookies(live_stack)) as browser:
        created = await browser.post("/console/queues", data={**form, "isAutoAssignmentEnabled": "on"})
        assert created.status_code == 303, created.text
        queue_id = (await api.get(QUEUES, params={"name": "Back office"})).json()["queues"][0]["id"]
        back_office = (await api.get(f"{QUEUES}/{queue_id}")).json()
        assert (back_office["isAutoAssignmentEnabled"], back_office["autoAssignmentAlgorithm"],
                back_office["isStickyAutoAssignmentEnabled"], back_office["stickyAgentTimeoutDays"]) == (
                    True, "PERFORMANCE_BASED", False, None)
        answer = await api.put(f"{QUEUES}/{queue_id}", json={"externalId": "crm-7"})
        assert answer.status_code == 200, answer.text

        settings = f"/console/queues/{queue_id}/settings"
        shown = (await browser.get(settings)).text
        assert re.search(r'id="f-isAutoAssignmentEnabled"[^>]*checked', shown)
        assert not re.search(r'id="f-isStickyAutoAssignmentEnabled"[^>]*checked', shown)
        assert re.search(r'<option value="PERFORMANCE_BASED" selected>', shown)

        for days, message in (("0", "greater than or equal to 1"), ("two", "must be a whole number")):
            refused = await browser.post(settings, data={**form, "stickyAgentTimeoutDays": days})
            assert refused.status_code == 400 and message in refused.text, refused.text
            assert re.search(r'id="f-stickyAgentTimeoutDays"[^>]*aria-invalid="true"', refused.text)
            # The form as sent: the unticked box stays unticked.
            assert not re.search(r'id="f-isAutoAssignmentEnabled"[^>]*checked', refused.text)
        refused = await browser.post(settings, data={**form, "autoAssignmentAlgorithm": "FASTEST"})
        assert refused.status_code == 400
        assert re.search(r'id="f-autoAssignmentAlgorithm"[^>]*aria-invalid="true"', refused.text)
        assert (await api.get(f"{QUEUES}/{queue_id}")).json() == back_office | {
            "externalId": "crm-7", "updatedAt": answer.json()["updatedAt"]}

        # Sticky for 3 days, then unticked boxes are off and an empty box clears the days (7).
        kept = await browser.post(settings, data={**form, "isAutoAssignmentEnabled": "on",
                                                  "isStickyAutoAssignmentEnabled": "on", "stickyAgentTimeoutDays": "3"})
        assert kept.status_code == 303, kept.text
        sticky = (await api.get(f"{QUEUES}/{queue_id}")).json()
        assert (sticky["isStickyAutoAssignmentEnabled"], sticky["stickyAgentTimeoutDays"]) == (True, 3)
        cleared = await browser.post(settings, data={**form, "autoAssignmentAlgorithm": "LOAD_BALANCING"})
        assert cleared.status_code == 303, cleared.text
        off = (await api.get(f"{QUEUES}/{queue_id}")).json()
        assert (off["isAutoAssignmentEnabled"], off["autoAssignmentAlgorithm"], off["isStickyAutoAssignmentEnabled"],
                off["stickyAgentTimeoutDays"], off["externalId"]) == (False, "LOAD_BALANCING", False, None, "crm-7")
