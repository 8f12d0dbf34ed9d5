"""Offers in the console (SPEC "Offers"): an agent's My conversations rings with its pending
offer as the live stream brings it (the conversation, its queue, why, a countdown, Accept and
Decline with a reason), and drops it when it is answered, lapses or goes to another; the
conversation's timeline tells the offer events in words; a supervisor sets and clears a queue's
offer timeout in its form."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Page, expect

from tests.console.helpers import create, queue, signed_in
from tests.helpers import wait_for

AGENTS = "/ccaas/1/agents"
CONVERSATIONS = "/ccaas/1/conversations"
QUEUES = "/ccaas/1/queues"
# The stream brings it: well before the live parts' 30 s fallback would.
BY_STREAM = 5_000
COUNTDOWN = re.compile(r"^\d+:[0-5]\d$")


async def member(api: httpx.AsyncClient, name: str, queue_id: str, **fields) -> dict:
    agent = await create(api, AGENTS, {"displayName": name, **fields})
    await create(api, f"{AGENTS}/{agent['id']}/queues", {"queueId": queue_id}, status=200)
    return agent


async def set_status(api: httpx.AsyncClient, agent: dict, status: str) -> None:
    changed = await api.put(f"{AGENTS}/{agent['id']}/status", json={"status": status})
    assert changed.status_code == 200, changed.text


async def my_conversations(page: Page, key: str) -> None:
    """Signed in as the agent, on My conversations with its live stream open."""
    await signed_in(page, key)
    await page.get_by_role("link", name="My conversations").click()
    await expect(page.locator("body")).to_have_attribute("data-live-state", "open")


async def test_an_agent_accepts_one_offer_and_declines_another_with_a_reason(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    desk = await queue(api, "Offer desk", isAutoAssignmentEnabled=True, offerTimeoutSeconds=120)
    ada = await member(api, "Ada Agent", desk, status="ACTIVE")
    bob = await member(api, "Bob Agent", desk, status="AWAY")  # nothing goes to Bob yet

    await my_conversations(page, ada["apiKey"])
    offer = page.get_by_test_id("offer")
    await expect(offer).to_have_count(0)
    card = await create(api, CONVERSATIONS, {"topic": "Card blocked", "queueId": desk})

    # It rings, live: the conversation, its queue, why Ada, and the time left counting down.
    await expect(offer).to_be_visible(timeout=BY_STREAM)
    await expect(offer.get_by_role("heading")).to_have_text("Offered to you: Card blocked")
    await expect(offer).to_contain_text("In Offer desk.")
    await expect(offer.get_by_test_id("offer-reason")).not_to_be_empty()
    countdown = offer.get_by_test_id("offer-countdown")
    await expect(countdown).to_have_text(re.compile(r"^[12]:[0-5]\d$"))  # at most 2:00
    first = await countdown.text_content()
    await expect(countdown).not_to_have_text(first or "")  # it ticks in the page
    await expect(countdown).to_have_text(COUNTDOWN)
    await expect(page.get_by_test_id("my-conversation")).to_have_count(0)

    await offer.get_by_role("button", name="Accept Card blocked").click()
    await expect(offer).to_have_count(0)
    await expect(page.get_by_test_id("my-conversation").get_by_role("link")).to_have_text(["Card blocked"])
    accepted = (await api.get(f"{CONVERSATIONS}/{card['id']}")).json()
    assert accepted["agentId"] == ada["id"]

    # The next one rings too; Ada passes it on with a reason, and it goes to Bob, now active.
    refund = await create(api, CONVERSATIONS, {"topic": "Refund", "queueId": desk})
    await expect(offer.get_by_role("heading")).to_have_text("Offered to you: Refund", timeout=BY_STREAM)
    await set_status(api, bob, "ACTIVE")
    await offer.get_by_label("Reason for declining (optional)").fill("Not my area")
    await offer.get_by_role("button", name="Decline Refund").click()
    await expect(offer).to_have_count(0)
    await expect(page.get_by_test_id("refusal")).to_have_count(0)
    await expect(page.get_by_test_id("my-conversation").get_by_role("link")).to_have_text(["Card blocked"])

    async def offered_to_bob() -> bool:
        offers = (await api.get(f"{AGENTS}/{bob['id']}/offers")).json()["offers"]
        return [item["conversationId"] for item in offers] == [refund["id"]]

    await wait_for(offered_to_bob, timeout=BY_STREAM / 1000)
    events = (await api.get(f"{CONVERSATIONS}/{refund['id']}/events")).json()["events"]
    declined = [event for event in events if event["type"] == "OFFER_DECLINED"]
    assert [(event["agentId"], event["reason"]) for event in declined] == [(ada["id"], "Not my area")]

    # The timeline says it in words, with the agents' names and when each offer was due.
    await page.goto(f"/console/conversations/{refund['id']}")
    words = page.get_by_test_id("offer-event")
    await expect(words).to_have_text([
        re.compile(r"^Offered to Ada Agent, to answer by \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$"),
        "Ada Agent declined the offer.",
        re.compile(r"^Offered to Bob Agent, to answer by .+ UTC\.$"),
    ])
    await expect(page.locator("[data-type=OFFER_DECLINED]").get_by_test_id("event-reason")).to_have_text("Not my area")
    await page.goto(f"/console/conversations/{card['id']}")
    await expect(page.locator("[data-type=ASSIGNED]").get_by_test_id("offer-event")).to_have_text(
        re.compile(r"^Ada Agent accepted the offer \(due by .+ UTC\)\.$"))


async def test_an_offer_nobody_answers_lapses_off_the_page_by_itself(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    desk = await queue(api, "Quick desk", isAutoAssignmentEnabled=True, offerTimeoutSeconds=5)
    ada = await member(api, "Ada Agent", desk, status="ACTIVE")
    bob = await member(api, "Bob Agent", desk, status="AWAY")

    await my_conversations(page, ada["apiKey"])
    conversation = await create(api, CONVERSATIONS, {"topic": "Lost parcel", "queueId": desk})
    offer = page.get_by_test_id("offer")
    await expect(offer).to_be_visible(timeout=BY_STREAM)
    await expect(offer.get_by_test_id("offer-countdown")).to_have_text(re.compile(r"^0:0[0-5]$"))
    await set_status(api, bob, "ACTIVE")  # so that the lapsed offer goes to Bob, not to Ada again

    # Nobody touches the page: the lapse comes down the stream and takes the offer away.
    await expect(offer).to_have_count(0, timeout=5_000 + BY_STREAM)
    await expect(page.get_by_test_id("my-conversation")).to_have_count(0)
    events = (await api.get(f"{CONVERSATIONS}/{conversation['id']}/events")).json()["events"]
    assert [event["agentId"] for event in events if event["type"] == "OFFER_EXPIRED"] == [ada["id"]]

    await page.goto(f"/console/conversations/{conversation['id']}")
    await expect(page.locator("[data-type=OFFER_EXPIRED]").get_by_test_id("offer-event")).to_have_text(
        re.compile(r"^The offer to Ada Agent lapsed unanswered at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$"))


async def test_a_withdrawn_offer_goes_away_and_a_late_answer_is_refused_in_words(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    desk = await queue(api, "Offer desk", isAutoAssignmentEnabled=True, offerTimeoutSeconds=300)
    ada = await member(api, "Ada Agent", desk, status="ACTIVE")
    bob = await member(api, "Bob Agent", desk, status="AWAY")

    await my_conversations(page, ada["apiKey"])
    offer = page.get_by_test_id("offer")
    moved = await create(api, CONVERSATIONS, {"topic": "Wrong desk", "queueId": desk})
    await expect(offer.get_by_role("heading")).to_have_text("Offered to you: Wrong desk", timeout=BY_STREAM)
    closed = await api.patch(f"{CONVERSATIONS}/{moved['id']}", json={"status": "CLOSED"})
    assert closed.status_code == 200, closed.text
    await expect(offer).to_have_count(0, timeout=BY_STREAM)  # withdrawn: the stream takes it away

    # Ada's focus on Accept holds the ring still while a supervisor gives the conversation to Bob.
    late = await create(api, CONVERSATIONS, {"topic": "Late answer", "queueId": desk})
    accept = offer.get_by_role("button", name="Accept Late answer")
    await expect(accept).to_be_visible(timeout=BY_STREAM)
    await accept.focus()
    assigned = await api.put(f"{CONVERSATIONS}/{late['id']}/assignee", json={"agentId": bob["id"]})
    assert assigned.status_code == 200, assigned.text
    await accept.click()
    refusal = page.get_by_test_id("refusal")
    await expect(refusal).to_contain_text(f"Could not accept the offer of conversation {late['id'][:8]}")
    await expect(offer).to_have_count(0)
    await expect(page.get_by_test_id("my-conversation")).to_have_count(0)
    assert (await api.get(f"{CONVERSATIONS}/{late['id']}")).json()["agentId"] == bob["id"]

    await page.goto(f"/console/conversations/{late['id']}")
    await expect(page.locator("[data-type=OFFER_WITHDRAWN]").get_by_test_id("offer-event")).to_have_text(
        "The offer to Ada Agent was withdrawn.")


async def test_a_supervisor_sets_and_clears_a_queues_offer_timeout(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    await signed_in(page, live_stack.supervisor_key)

    # Created with offers on.
    await page.goto("/console/queues")
    await page.get_by_label("Name").fill("Offer desk")
    await page.get_by_label("Offer timeout (seconds)").fill("45")
    await page.get_by_role("button", name="Create queue").click()
    await expect(page.get_by_role("link", name="Offer desk", exact=True)).to_be_visible()
    desk = (await api.get(QUEUES, params={"name": "Offer desk"})).json()["queues"][0]
    assert (desk["offerTimeoutSeconds"], desk["maxMissedOffers"]) == (45, 3)

    await page.goto(f"/console/queues/{desk['id']}")
    offers = page.get_by_test_id("queue-offers")
    await expect(offers).to_have_text("45s to accept or decline; AWAY after 3 missed in a row")

    # A timeout the API refuses (5 to 600) is shown at its box, nothing saved.
    await page.goto(f"/console/queues/{desk['id']}/settings")
    timeout, missed = page.get_by_label("Offer timeout (seconds)"), page.get_by_label("Missed offers before AWAY")
    await expect(timeout).to_have_value("45")
    await expect(missed).to_have_value("3")
    await timeout.fill("4")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.locator("#f-offerTimeoutSeconds-errors")).to_contain_text("5")
    await expect(timeout).to_have_attribute("aria-invalid", "true")
    assert (await api.get(f"{QUEUES}/{desk['id']}")).json()["offerTimeoutSeconds"] == 45

    await timeout.fill("90")
    await missed.fill("5")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_role("link", name="Settings of Offer desk")).to_be_visible()
    saved = (await api.get(f"{QUEUES}/{desk['id']}")).json()
    assert (saved["offerTimeoutSeconds"], saved["maxMissedOffers"]) == (90, 5)
    await page.goto(f"/console/queues/{desk['id']}")
    await expect(offers).to_have_text("1m 30s to accept or decline; AWAY after 5 missed in a row")

    # Emptied: offers off, assigned directly; the missed-offers limit kept.
    await page.goto(f"/console/queues/{desk['id']}/settings")
    await page.get_by_label("Offer timeout (seconds)").fill("")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_role("link", name="Settings of Offer desk")).to_be_visible()
    saved = (await api.get(f"{QUEUES}/{desk['id']}")).json()
    assert (saved["offerTimeoutSeconds"], saved["maxMissedOffers"]) == (None, 5)
    await page.goto(f"/console/queues/{desk['id']}")
    await expect(offers).to_have_text("off: assigned directly")
