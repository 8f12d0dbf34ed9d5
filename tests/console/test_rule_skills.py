"""A supervisor gives a routing rule required skills in the routing editor: saved with the
rule (and named in the version's diff), shown again when the editor opens, refused at the
rule, removed by the row's button."""

from __future__ import annotations

from playwright.async_api import expect

from tests.console.helpers import queue, sign_in

ROUTING = "/ccaas/1/routing"


async def test_a_supervisor_edits_a_rules_required_skills(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    await queue(api, "Spanish desk")
    await sign_in(page, live_stack.supervisor_key)
    await page.goto("/console/routing")
    await page.get_by_role("button", name="Add rule").click()
    rule = page.get_by_test_id("rule").nth(0)
    await rule.get_by_label("Name").fill("Spanish speakers")
    await rule.get_by_label("Queue").select_option(label="Spanish desk")
    await rule.get_by_label("Required skill 1", exact=True).fill("es")
    await rule.get_by_label("Required skill 1 min level").select_option("3")
    await rule.get_by_label("Required skill 1 relax after (seconds)").fill("soon")

    # Not a number: refused at the rule's skills without asking the API.
    await page.get_by_role("button", name="Save as a new version").click()
    await expect(rule.get_by_test_id("skills-error")).to_contain_text("relaxAfterSeconds: must be a whole number")
    assert (await api.get(ROUTING)).json()["version"] == 0

    # A number beyond the API's bound (a week): its message at the rule's skills, naming the field.
    await rule.get_by_label("Required skill 1 relax after (seconds)").fill("99999999")
    await page.get_by_role("button", name="Save as a new version").click()
    await expect(rule.get_by_test_id("skills-error")).to_contain_text("[0].relaxAfterSeconds")
    assert (await api.get(ROUTING)).json()["version"] == 0

    await rule.get_by_label("Required skill 1 relax after (seconds)").fill("90")
    await rule.get_by_label("Required skill 2", exact=True).fill("billing")  # the spare row; min level 1
    await page.get_by_role("button", name="Save as a new version").click()
    await expect(page.get_by_test_id("saved")).to_contain_text("Saved as version 1")
    routes = (await api.get(ROUTING)).json()["routes"]
    assert routes[0]["requiredSkills"] == [{"name": "es", "minLevel": 3, "relaxAfterSeconds": 90},
                                           {"name": "billing", "minLevel": 1, "relaxAfterSeconds": None}]
    await page.get_by_role("link", name="See what changed").click()
    await expect(page.get_by_test_id("diff-added")).to_contain_text(
        "requires es 3+ (relaxes after 1m 30s), billing 1+")

    # The editor shows them again; Remove takes one out of the draft, Save stores that.
    await page.get_by_role("link", name="Routing", exact=True).click()
    rule = page.get_by_test_id("rule").nth(0)
    await expect(rule.get_by_label("Required skill 1", exact=True)).to_have_value("es")
    await expect(rule.get_by_label("Required skill 1 min level")).to_have_value("3")
    await expect(rule.get_by_label("Required skill 1 relax after (seconds)")).to_have_value("90")
    await expect(rule.get_by_label("Required skill 2 relax after (seconds)")).to_have_value("")
    await rule.get_by_role("button", name="Remove required skill es").click()
    await expect(rule.get_by_label("Required skill 1", exact=True)).to_have_value("billing")
    assert (await api.get(ROUTING)).json()["version"] == 1  # a draft edit stores nothing
    await page.get_by_role("button", name="Save as a new version").click()
    await expect(page.get_by_test_id("saved")).to_contain_text("Saved as version 2")
    routes = (await api.get(ROUTING)).json()["routes"]
    assert routes[0]["requiredSkills"] == [{"name": "billing", "minLevel": 1, "relaxAfterSeconds": None}]
