"""Routing on the customer's attributes in People, found by `customer` or by `from`."""

from __future__ import annotations

from tests.conftest import Stack
from tests.helpers import create_conversation, create_queue, put_routing, rule, unique


async def create_person(stack: Stack, **fields) -> dict:
    response = await stack.http.post("/people/2/persons", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def routed_event(stack: Stack, conversation_id: str) -> dict:
    events = (await stack.http.get(f"/ccaas/1/conversations/{conversation_id}/events")).json()["events"]
    return next(event for event in events if event["type"] == "ROUTED")


async def test_customer_facts_decide_the_queue(stack: Stack):
    vip, croatia, gold = [await create_queue(stack.http, unique(name)) for name in ("VIP", "Croatia", "Gold")]
    await put_routing(stack.http, [
        rule("VIP", vip["id"], {"$contains": {"customer.tags": "vip"}}, priority="URGENT"),
        rule("Croatia", croatia["id"], {"$in": {"customer.country": ["Croatia"]}}),
        rule("Gold tier", gold["id"], {"$eq": {"customer.customAttributes.tier": "gold"}}),
    ])
    vip_person = await create_person(stack, firstName="Vera", tags=["vip"],
                                     contactInformation={"phone": [{"number": "+385 91 111 2222"}]})
    croat = await create_person(stack, firstName="Cvita", country="Croatia",
                                contactInformation={"email": [{"address": "cvita@example.com"}]})
    golden = await create_person(stack, firstName="Goran", externalId=unique("crm"),
                                 customAttributes={"tier": "gold"})

    by_customer = await create_conversation(stack.http, customer={"identifier": "+385911112222", "type": "PHONE"})
    assert (by_customer["queueId"], by_customer["priority"]) == (vip["id"], "URGENT")
    assert by_customer["customerId"] == vip_person["id"]

    by_email = await create_conversation(stack.http, channel="EMAIL", **{"from": "Cvita@Example.com"})
    assert (by_email["queueId"], by_email["customerId"]) == (croatia["id"], croat["id"])

    by_external_id = await create_conversation(
        stack.http, customer={"identifier": golden["externalId"], "type": "EXTERNAL_ID"})
    assert by_external_id["queueId"] == gold["id"]

    # WhatsApp-style numbers come without "+": still the same person.
    by_phone = await create_conversation(stack.http, channel="WHATSAPP", **{"from": "385911112222"})
    assert (by_phone["queueId"], by_phone["customerId"]) == (vip["id"], vip_person["id"])

    facts = (await routed_event(stack, by_customer["id"]))["facts"]
    assert facts["customer.tags"] == ["vip"]
    assert (await routed_event(stack, by_external_id["id"]))["facts"]["customer.customAttributes.tier"] == "gold"


async def test_an_unknown_customer_has_no_customer_facts(stack: Stack):
    known = await create_queue(stack.http)
    await put_routing(stack.http, [
        rule("anyone known", known["id"], {"$exists": {"customer.country": True}}),
        rule("not from Spain", known["id"], {"$neq": {"customer.country": "Spain"}}),
    ])
    default = (await stack.http.get("/ccaas/1/routing/settings")).json()["defaultQueueId"]
    stranger = await create_conversation(stack.http, **{"from": "+10000000000"},
                                         customer={"identifier": "nobody@example.com", "type": "EMAIL"})
    assert (stranger["queueId"], stranger["customerId"]) == (default, None)
    event = await routed_event(stack, stranger["id"])
    assert not any(key.startswith("customer.") for key in event["facts"])
    assert [t["outcome"] for t in event["trace"]] == ["NOT_MATCHED", "NOT_MATCHED"]


async def test_a_change_to_a_person_affects_later_routing_only(stack: Stack):
    spain = await create_queue(stack.http)
    await put_routing(stack.http, [rule("Spain", spain["id"], {"$eq": {"customer.country": "Spain"}})])
    person = await create_person(stack, firstName="Pilar", country="France",
                                 contactInformation={"email": [{"address": "pilar@example.com"}]})
    before = await create_conversation(stack.http, **{"from": "pilar@example.com"})
    assert before["queueId"] != spain["id"]

    moved = await stack.http.patch(f"/people/2/persons/{person['id']}", json={"country": "Spain"})
    assert moved.status_code == 200, moved.text
    after = await create_conversation(stack.http, **{"from": "pilar@example.com"})
    assert after["queueId"] == spain["id"]

    # History keeps what routing saw then.
    assert (await routed_event(stack, before["id"]))["facts"]["customer.country"] == "France"
    unchanged = (await stack.http.get(f"/ccaas/1/conversations/{before['id']}")).json()
    assert unchanged["queueId"] == before["queueId"]
    simulated = (await stack.http.get(f"/ccaas/1/conversations/{before['id']}/simulate-routing")).json()
    assert simulated["queueId"] == spain["id"], "a dry run uses the person as it is now"
