"""The routing editor's condition builder: every operator of the expression language built in
rows and read back from its JSON, groups nested, bad JSON leaving the builder as it was, and a
rule made only with the builder saved and routing conversations. One page session."""

from __future__ import annotations

import json

from playwright.async_api import Locator, expect

from tests.console.conftest import OUTPUT
from tests.console.helpers import queue, sign_in

CUSTOM = "customer.customAttributes."
# attribute, custom name, operator, value type (custom attributes), what is typed or picked,
# and the value the JSON must hold: every comparison of the language, each kind of value.
CASES = [
    ("message.channel", None, "$eq", None, "SMS", "SMS"),
    ("conversation.authentication", None, "$neq", None, "STRONG", "STRONG"),
    (CUSTOM, "score", "$lt", "number", "5", 5),
    ("conversation.priority", None, "$lte", None, "HIGH", "HIGH"),
    (CUSTOM, "age", "$gt", "number", "1.5", 1.5),
    ("message.from", None, "$gte", None, "B", "B"),
    ("customer.country", None, "$in", None, "Croatia, Spain", ["Croatia", "Spain"]),
    ("conversation.tags", None, "$nin", None, "spam,test", ["spam", "test"]),
    ("conversation.tags", None, "$contains", None, "vip", "vip"),
    ("message.content", None, "$startsWith", None, "Hello there", "Hello there"),
    ("message.to", None, "$endsWith", None, "385", "385"),
    ("customer.city", None, "$exists", None, "false", False),
    (CUSTOM, "gold", "$eq", "boolean", "true", True),
    (CUSTOM, "tier", "$in", "number", "1, 2", [1, 2]),
    (CUSTOM, "segment", "$neq", "text", "12", "12"),
]


async def set_value(control: Locator, value: str) -> None:
    if await control.evaluate("element => element.tagName") == "SELECT":
        await control.select_option(value)
    else:
        await control.fill(value)


async def expression(textarea: Locator) -> dict:
    return json.loads(await textarea.input_value())


async def test_builder_round_trips_every_operator_nests_and_saves_a_routing_rule(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    await queue(api, "Card services")
    await sign_in(page, live_stack.supervisor_key)
    await page.goto("/console/routing")
    await page.get_by_role("button", name="Add rule").click()
    rule = page.get_by_test_id("rule").first
    textarea = rule.get_by_label("Expression (JSON)")
    builder = rule.get_by_test_id("builder")
    rows = builder.get_by_test_id("builder-row")
    row = rows.first
    # The new rule's JSON, shown as one row.
    await expect(rows).to_have_count(1)
    await expect(row.get_by_label("Attribute", exact=True)).to_have_value("message.channel")
    await expect(row.get_by_label("Value", exact=True)).to_have_value("WHATSAPP")

    for attribute, custom, operator, value_type, typed, wanted in CASES:
        name = CUSTOM + custom if custom else attribute
        # Built in the builder: the JSON follows.
        await row.get_by_label("Attribute", exact=True).select_option(attribute)
        if custom:
            await row.get_by_label("Custom attribute", exact=True).fill(custom)
        await row.get_by_label("Operator", exact=True).select_option(operator)
        if value_type:
            await row.get_by_label("Value type", exact=True).select_option(value_type)
        await set_value(row.get_by_label("Value", exact=True), typed)
        assert await expression(textarea) == {operator: {name: wanted}}, (operator, name)
        # Loaded from its JSON: the builder shows the same row.
        await textarea.fill('{"$eq": {"message.channel": "RESET"}}')
        await expect(row.get_by_label("Value", exact=True)).to_have_value("RESET")
        await textarea.fill(json.dumps({operator: {name: wanted}}))
        await expect(rows).to_have_count(1)
        await expect(row.get_by_label("Attribute", exact=True)).to_have_value(CUSTOM if custom else attribute)
        if custom:
            await expect(row.get_by_label("Custom attribute", exact=True)).to_have_value(custom)
        await expect(row.get_by_label("Operator", exact=True)).to_have_value(operator)
        if value_type:
            await expect(row.get_by_label("Value type", exact=True)).to_have_value(value_type)
        shown = ", ".join(map(str, wanted)) if isinstance(wanted, list) else json.dumps(wanted).strip('"')
        await expect(row.get_by_label("Value", exact=True)).to_have_value(shown)

    # Groups, nested: JSON to builder...
    a, b, c = ({"$eq": {"message.channel": "SMS"}}, {"$contains": {"customer.tags": "vip"}},
               {"$gte": {"conversation.priority": "HIGH"}})
    nested = {"$or": [{"$and": [a, b]}, {"$not": c}]}
    await textarea.fill(json.dumps(nested))
    groups = builder.get_by_test_id("builder-group")
    await expect(groups).to_have_count(3)
    types = [await groups.nth(i).get_by_label("Group type").first.input_value() for i in range(3)]
    assert types == ["$or", "$and", "$not"]
    await expect(rows).to_have_count(3)
    await expect(rows.nth(1).get_by_label("Value", exact=True)).to_have_value("vip")
    # ... and builder to JSON: a group added, its type and its row changed, a row removed.
    await groups.nth(1).get_by_role("button", name="Add group").first.click()
    inner = groups.nth(1).get_by_test_id("builder-group")
    await inner.get_by_label("Group type").select_option("$and")
    await inner.get_by_test_id("builder-row").get_by_label("Value", exact=True).fill("VIBER")
    await rows.first.get_by_role("button", name="Remove condition").click()
    assert await expression(textarea) == {"$or": [{"$and": [b, {"$and": [{"$eq": {"message.channel": "VIBER"}}]}]},
                                                  {"$not": c}]}
    await groups.first.get_by_label("Group type").first.select_option("$and")
    assert list(await expression(textarea)) == ["$and"]

    # Bad JSON: said, and the builder stays as it was; so does JSON the builder cannot show.
    kept = await textarea.input_value()
    await textarea.fill('{"$and": [')
    note = rule.get_by_test_id("builder-note")
    await expect(note).to_contain_text("not valid")
    await expect(rows).to_have_count(3)
    await textarea.fill('{"$eq": {"no.such": 1}}')
    await expect(note).to_contain_text("cannot show")
    await expect(rows).to_have_count(3)
    await textarea.fill(kept)
    await expect(note).to_be_hidden()

    await rule.screenshot(path=OUTPUT / "condition_builder.png")

    # A rule made only with the builder: SMS or VIBER conversations about cards go to Card services.
    await textarea.fill('{"$eq": {"message.channel": "WHATSAPP"}}')  # as a new rule starts
    await row.get_by_label("Operator", exact=True).select_option("$in")
    await row.get_by_label("Value", exact=True).fill("SMS, VIBER")
    await builder.get_by_role("button", name="Add condition").first.click()
    second = rows.nth(1)
    await second.get_by_label("Attribute", exact=True).select_option("conversation.topic")
    await second.get_by_label("Operator", exact=True).select_option("$startsWith")
    await second.get_by_label("Value", exact=True).fill("Card")
    await rule.get_by_label("Name").first.fill("Cards by text")
    await rule.get_by_label("Queue").select_option(label="Card services")
    await rule.get_by_label("Priority").select_option("HIGH")
    await rule.get_by_label("Only during working hours").check()  # none exist: always open
    await page.get_by_role("button", name="Save as a new version").click()
    await expect(page.get_by_test_id("saved")).to_contain_text("Saved as version 1")

    (route,) = (await api.get("/ccaas/1/routing")).json()["routes"]
    assert route["routeOnlyDuringWorkingHours"] is True
    assert route["expression"] == {"$and": [{"$in": {"message.channel": ["SMS", "VIBER"]}},
                                            {"$startsWith": {"conversation.topic": "Card"}}]}
    cards = (await api.post("/ccaas/1/conversations", json={"channel": "VIBER", "topic": "Card lost"})).json()
    routed = (cards["queueId"], cards["priority"], cards["routedBy"]["routeId"])
    assert routed == (route["queueId"], "HIGH", route["id"])
    other = (await api.post("/ccaas/1/conversations", json={"channel": "WHATSAPP", "topic": "Card lost"})).json()
    assert other["queueId"] != route["queueId"]
