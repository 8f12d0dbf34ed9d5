"""People's data is for supervisors (issue 20): a conversation routed on a person's
customAttributes.creditScore, seen by an agent of its queue, by the bot serving that queue and
by a supervisor, through every exit: answers, the timeline, the dry run, the live stream and
webhooks. The agent and the bot never receive the person's values; the supervisor gets them all."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks.webhooks import Webhook

from domain.audience import HIDDEN
from switchboard.composition import api_app
from tests.conftest import Stack
from tests.helpers import create_queue, put_routing, rule, unique, wait_for
from tests.sse import EventReader, event_stream, of, serving
from tests.webhook_receiver import Receiver, running_receiver

pytestmark = pytest.mark.integration

SCORE = 713.375
SCORE_SHOWN = "713.375"
SCORE_FACT = "customer.customAttributes.creditScore"


def app_of(stack: Stack) -> FastAPI:
    return api_app(stack.settings, stack.engine, stack.temporal)


def as_(key: str) -> dict[str, str]:
    return {"Authorization": f"App {key}"}


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


class Secrets:
    """A person's values, and whether a text holds any of them."""

    def __init__(self, nickname: str) -> None:
        self.values = [SCORE_SHOWN, nickname]

    def in_(self, text: str) -> list[str]:
        return [value for value in self.values if value in text]


def assert_without_people(body: Any, secrets: Secrets) -> None:
    """Nothing of the person: no value anywhere, no customer.* fact."""
    text = json.dumps(body)
    assert not secrets.in_(text), text
    events = [body["data"]["event"]] if "data" in body else body.get("events", [])
    for event in events:
        assert not [name for name in event.get("facts") or {} if name.startswith("customer.")], event


async def routed_in_timeline(http: httpx.AsyncClient, path: str, key: str, count: int) -> dict | None:
    """The timeline as `key` reads it, once it holds `count` ROUTED events."""
    timeline = await ok(await http.get(path, headers=as_(key)))
    return timeline if sum(event["type"] == "ROUTED" for event in timeline["events"]) >= count else None


async def routed_bodies(reader: EventReader, conversation: dict[str, Any], count: int) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while len(bodies) < count:
        events = await reader.until(of(conversation, "conversation.routed"))
        bodies.append(events[-1].body)
    return bodies


async def routed_deliveries(receiver: Receiver, secret: str, conversation_id: str, count: int) -> list[dict]:
    """The receiver's conversation.routed bodies of the conversation (signatures checked),
    once `count` have come."""

    async def arrived() -> list[dict] | None:
        bodies = [Webhook(secret).verify(item.body, item.headers) for item in receiver.received]
        routed = [body for body in bodies if body["type"] == "conversation.routed"
                  and body["data"]["conversation"]["id"] == conversation_id]
        return routed if len(routed) >= count else None

    return await wait_for(arrived)


async def test_an_agent_and_a_bot_never_receive_a_persons_attributes(stack: Stack) -> None:
    http = stack.http
    nickname = unique("nickname")
    secrets = Secrets(nickname)
    async with running_receiver("/bot") as bot_receiver, running_receiver("/supervisors") as supervisors_receiver:
        bot = await ok(await http.post("/ccaas/1/bots", json={"displayName": unique("bot"),
                                                              "webhookUrl": bot_receiver.url}), 201)
        hook = await ok(await http.post("/ccaas/1/webhooks", json={"url": supervisors_receiver.url}), 201)
        top = await create_queue(http, unique("Top"))
        prime = await create_queue(http, unique("Prime"), botId=bot["id"])
        agent = await ok(await http.post("/ccaas/1/agents", json={
            "displayName": unique("agent"), "email": f"{unique('agent')}@example.com"}), 201)
        await ok(await http.post(f"/ccaas/1/agents/{agent['id']}/queues", json={"queueId": prime["id"]}))
        agent_key, bot_key = agent["apiKey"], bot["apiKey"]
        await put_routing(http, [
            rule("Top", top["id"], {"$gt": {SCORE_FACT: 900}}),
            rule("Prime", prime["id"], {"$and": [{"$eq": {"message.channel": "WHATSAPP"}},
                                                 {"$gte": {SCORE_FACT: 700}}]}),
        ])
        person = await ok(await http.post("/people/2/persons", json={
            "firstName": "Petra", "externalId": unique("crm"),
            "customAttributes": {"creditScore": SCORE, "nickname": nickname}}), 201)

        async with serving(app_of(stack)) as served, \
                event_stream(served.base_url, stack.supervisor_key) as supervisors_stream, \
                event_stream(served.base_url, agent_key) as agents_stream, \
                event_stream(served.base_url, bot_key) as bots_stream:
            # Any role may create one naming the customer: here the agent.
            created = await ok(await http.post("/ccaas/1/conversations", headers=as_(agent_key), json={
                "channel": "WHATSAPP", "topic": "card limit",
                "customer": {"identifier": person["externalId"], "type": "EXTERNAL_ID"}}), 201)
            assert (created["queueId"], created["customerId"]) == (prime["id"], person["id"])
            assert_without_people(created, secrets)
            # The bot routes it again: nothing moves, but the decision is recorded (a second
            # ROUTED). Then it reports: routing passes over the bot's own queue (a third).
            routed_again = await ok(await http.post(f"/ccaas/1/conversations/{created['id']}/route",
                                                    headers=as_(bot_key)))
            assert routed_again["queueId"] == prime["id"]
            assert_without_people(routed_again, secrets)

            # While it is in the agent's queue: the timeline and the dry run.
            timeline = f"/ccaas/1/conversations/{created['id']}/events"
            agents_timeline = await wait_for(lambda: routed_in_timeline(http, timeline, agent_key, 2))
            assert_without_people(agents_timeline, secrets)
            agents_routed = next(event for event in agents_timeline["events"] if event["type"] == "ROUTED")
            assert [entry["outcome"] for entry in agents_routed["trace"]] == ["NOT_MATCHED", "MATCHED"]
            assert agents_routed["trace"][0]["reason"] == f"{SCORE_FACT} is {HIDDEN}, not $gt 900"
            assert agents_routed["facts"]["message.channel"] == "WHATSAPP"  # not a person's: still shown
            supervisors_timeline = await ok(await http.get(timeline))
            assert secrets.in_(json.dumps(supervisors_timeline)) == secrets.values
            # Bots do not read timelines at all (the spec's table).
            assert (await http.get(timeline, headers=as_(bot_key))).status_code == 403

            dry_run = f"/ccaas/1/conversations/{created['id']}/simulate-routing"
            agents_dry_run = await ok(await http.get(dry_run, headers=as_(agent_key)))
            assert_without_people(agents_dry_run, secrets)
            assert agents_dry_run["trace"][0]["reason"] == f"{SCORE_FACT} is {HIDDEN}, not $gt 900"
            assert SCORE_SHOWN in json.dumps(await ok(await http.get(dry_run)))

            reported = await ok(await http.post(f"/ccaas/1/conversations/{created['id']}/authentication",
                                                headers=as_(bot_key), json={"status": "SUCCEEDED"}))
            assert reported["queueId"] != prime["id"]
            assert_without_people(reported, secrets)

            for_supervisors = await routed_bodies(supervisors_stream, created, 3)
            for_agent = await routed_bodies(agents_stream, created, 3)
            for_bot = await routed_bodies(bots_stream, created, 3)

        # The live stream.
        for body in for_agent + for_bot:
            assert_without_people(body, secrets)
            event = body["data"]["event"]
            assert event["facts"]["message.channel"] == "WHATSAPP"
            assert event["trace"][0]["reason"] == f"{SCORE_FACT} is {HIDDEN}, not $gt 900"
        assert [entry["outcome"] for entry in for_bot[1]["data"]["event"]["trace"]] == ["NOT_MATCHED", "MATCHED"]
        assert [entry["outcome"] for entry in for_bot[2]["data"]["event"]["trace"]] == ["NOT_MATCHED", "SKIPPED"]
        for body in for_supervisors:
            assert body["data"]["event"]["facts"][SCORE_FACT] == SCORE
            assert body["data"]["event"]["facts"]["customer.customAttributes.nickname"] == nickname
            assert body["data"]["event"]["trace"][0]["reason"] == f"{SCORE_FACT} is {SCORE_SHOWN}, not $gt 900"

        # Webhooks: the bot's own is rendered for the bot, the supervisors' subscription for them.
        bots_deliveries = await routed_deliveries(bot_receiver, bot["webhookSecret"], created["id"], 3)
        supervisors_deliveries = await routed_deliveries(supervisors_receiver, hook["secret"], created["id"], 3)
        for body in bots_deliveries:
            assert_without_people(body, secrets)
            assert body["data"]["event"]["trace"][0]["reason"] == f"{SCORE_FACT} is {HIDDEN}, not $gt 900"
        for body in supervisors_deliveries:
            assert body["data"]["event"]["facts"][SCORE_FACT] == SCORE
        # Nothing the bot was sent, of any type, held the person's values.
        for item in bot_receiver.received:
            assert not secrets.in_(item.body.decode()), item.body
        # The same event (one webhook-id) went to both, rendered per audience.
        assert {b["data"]["event"]["seq"] for b in bots_deliveries} == \
            {b["data"]["event"]["seq"] for b in supervisors_deliveries}
