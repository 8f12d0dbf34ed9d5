"""API keys: shown once, rotated and disabled with immediate effect, never leaked."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.conftest import Stack
from tests.helpers import assert_error, unique


def client(stack: Stack, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=stack.http._transport, base_url=stack.http.base_url,
                             headers={"Authorization": f"App {key}"})


async def new_agent(stack: Stack, **fields) -> dict:
    body = {"displayName": unique("agent"), "email": f"{unique('a')}@example.com", **fields}
    response = await stack.http.post("/ccaas/1/agents", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def new_bot(stack: Stack) -> dict:
    response = await stack.http.post("/ccaas/1/bots", json={"displayName": unique("bot")})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("kind", ["agents", "bots"])
async def test_rotation_refuses_the_old_key_at_once(stack: Stack, kind: str):
    made = await (new_agent(stack) if kind == "agents" else new_bot(stack))
    old_key = made["apiKey"]
    async with client(stack, old_key) as old:
        assert (await old.get("/ccaas/1/queues")).status_code == 200
        rotated = await stack.http.post(f"/ccaas/1/{kind}/{made['id']}/api-key")
        assert rotated.status_code == 200, rotated.text
        new_key = rotated.json()["apiKey"]
        assert new_key != old_key
        assert_error(await old.get("/ccaas/1/queues"), 401, "UNAUTHORIZED")
    async with client(stack, new_key) as new:
        assert (await new.get("/ccaas/1/queues")).status_code == 200
    # The bootstrap supervisor key is untouched by any rotation.
    assert (await stack.http.get("/ccaas/1/queues")).status_code == 200


async def test_a_disabled_agent_is_refused_at_once_and_back_when_enabled(stack: Stack):
    agent = await new_agent(stack)
    body = {"displayName": agent["displayName"], "email": agent["email"]}
    async with client(stack, agent["apiKey"]) as as_agent:
        assert (await as_agent.get("/ccaas/1/queues")).status_code == 200
        disabled = await stack.http.put(f"/ccaas/1/agents/{agent['id']}", json={**body, "enabled": False})
        assert disabled.status_code == 200
        assert_error(await as_agent.get("/ccaas/1/queues"), 401, "UNAUTHORIZED")
        enabled = await stack.http.put(f"/ccaas/1/agents/{agent['id']}", json={**body, "enabled": True})
        assert enabled.status_code == 200
        assert (await as_agent.get("/ccaas/1/queues")).status_code == 200


async def test_a_disabled_or_deleted_bot_is_refused_at_once(stack: Stack):
    bot = await new_bot(stack)
    async with client(stack, bot["apiKey"]) as as_bot:
        assert (await as_bot.get("/ccaas/1/queues")).status_code == 200
        await stack.http.put(f"/ccaas/1/bots/{bot['id']}", json={"displayName": "off", "enabled": False})
        assert_error(await as_bot.get("/ccaas/1/queues"), 401, "UNAUTHORIZED")
        await stack.http.put(f"/ccaas/1/bots/{bot['id']}", json={"displayName": "on", "enabled": True})
        assert (await as_bot.get("/ccaas/1/queues")).status_code == 200
        assert (await stack.http.delete(f"/ccaas/1/bots/{bot['id']}")).status_code == 200
        assert_error(await as_bot.get("/ccaas/1/queues"), 401, "UNAUTHORIZED")


async def test_a_role_change_takes_effect_at_once(stack: Stack):
    agent = await new_agent(stack)
    body = {"displayName": agent["displayName"], "email": agent["email"]}
    async with client(stack, agent["apiKey"]) as as_agent:
        assert_error(await as_agent.post("/ccaas/1/queues", json={"name": unique("q")}), 403, "FORBIDDEN")
        await stack.http.put(f"/ccaas/1/agents/{agent['id']}", json={**body, "role": "SUPERVISOR"})
        assert (await as_agent.post("/ccaas/1/queues", json={"name": unique("q")})).status_code == 201


async def test_keys_appear_only_in_their_creation_answer_and_never_in_logs(stack: Stack, caplog):
    caplog.set_level(logging.DEBUG)
    agent = await new_agent(stack)
    bot = await new_bot(stack)
    secrets = [agent["apiKey"], bot["apiKey"], stack.supervisor_key]
    async with client(stack, agent["apiKey"]) as as_agent, client(stack, bot["apiKey"]) as as_bot:
        answers = [
            await stack.http.get("/ccaas/1/agents"),
            await stack.http.get(f"/ccaas/1/agents/{agent['id']}"),
            await stack.http.get("/ccaas/1/bots"),
            await stack.http.get(f"/ccaas/1/bots/{bot['id']}"),
            await as_agent.get("/ccaas/1/agents"),
            await as_bot.get("/ccaas/1/bots"),
            await as_agent.post("/ccaas/1/queues", json={"name": "refused"}),
            await stack.http.get("/ccaas/1/queues", headers={"Authorization": f"App {agent['apiKey']}x"}),
        ]
    for answer in answers:
        for secret in secrets:
            assert secret not in answer.text
    for secret in secrets:
        assert secret not in caplog.text
    assert "apiKey" not in (await stack.http.get(f"/ccaas/1/agents/{agent['id']}")).text
