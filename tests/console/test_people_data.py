"""The conversation page shows a person's attributes (routing's customer.* facts) to a
supervisor only: an agent who opens it sees the trace with the values hidden (issue 20)."""

from __future__ import annotations

import httpx

from tests.console.helpers import cookies, create, queue
from tests.helpers import unique, wait_for


async def test_an_agent_opening_a_conversation_page_never_sees_the_persons_values(live_stack):
    api = live_stack.api
    prime = await queue(api, unique("Prime"))
    top = await queue(api, unique("Top"))
    rules = [{"name": "Top", "queueId": top, "expression": {"$gt": {"customer.customAttributes.creditScore": 900}}},
             {"name": "Prime", "queueId": prime,
              "expression": {"$gte": {"customer.customAttributes.creditScore": 700}}}]
    assert (await api.put("/ccaas/1/routing", json=rules)).status_code == 200
    person = await create(api, "/people/2/persons", {"firstName": "Petra", "externalId": unique("crm"),
                                                     "customAttributes": {"creditScore": 713.375}})
    agent = await create(api, "/ccaas/1/agents", {"displayName": unique("agent"),
                                                  "email": f"{unique('agent')}@example.com"})
    assert (await api.post(f"/ccaas/1/agents/{agent['id']}/queues", json={"queueId": prime})).status_code == 200
    conversation = await create(api, "/ccaas/1/conversations", {
        "channel": "WHATSAPP", "customer": {"identifier": person["externalId"], "type": "EXTERNAL_ID"}})
    assert conversation["queueId"] == prime

    async def routed() -> bool:
        events = (await api.get(f"/ccaas/1/conversations/{conversation['id']}/events")).json()["events"]
        return any(event["type"] == "ROUTED" for event in events)

    await wait_for(routed)
    path = f"/console/conversations/{conversation['id']}"
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=cookies(live_stack, agent["apiKey"])) as browser:
        agents_page = await browser.get(path)
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=cookies(live_stack)) as browser:
        supervisors_page = await browser.get(path)
    assert agents_page.status_code == supervisors_page.status_code == 200
    assert "Trace: 2 rules tried" in agents_page.text
    assert "713.375" not in agents_page.text
    assert "customer.customAttributes.creditScore is (hidden), not $gt 900" in agents_page.text
    assert "WHATSAPP" in agents_page.text  # the facts that are not a person's still show
    assert "713.375" in supervisors_page.text
