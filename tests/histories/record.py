"""Records the histories of real runs of every ConversationWorkflow path into this folder,
for tests/replay to replay against the current workflow code.

Run: .venv/bin/python -m tests.histories.record

Record again (and commit the files) when a path is added or when a change is meant to be
incompatible and is guarded by `workflow.patched` (see the README, "Changing the workflow").
Keep the earlier recordings, moved into a folder named for what changed (e.g.
`one_change_update/`, from before one update per intent): running conversations may still
be on those paths, and tests/replay replays every folder.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from domain.conversation import workflow_id
from store.bootstrap import bootstrap
from store.db import make_engine
from switchboard.temporal import DATA_CONVERTER
from switchboard.worker import build_worker
from workflows import search_attributes

HERE = Path(__file__).parent
# Small, so one scenario continues as new without thousands of events.
CONTINUE_AS_NEW_AFTER = 60


async def until(condition, timeout: float = 30.0) -> None:
    """Polls until the condition holds: it reads the API, which has no event to wait on."""
    async with asyncio.timeout(timeout):
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(0.1)


async def save_runs(client: Client, name: str, conversation_id: str) -> list[str]:
    """Writes every run of the conversation's workflow, oldest first."""
    runs = [run async for run in client.list_workflows(f"WorkflowId = '{workflow_id(conversation_id)}'")]
    runs.sort(key=lambda run: run.start_time)
    written = []
    for index, run in enumerate(runs):
        history = await client.get_workflow_handle(run.id, run_id=run.run_id).fetch_history()
        path = HERE / (f"{name}.json" if len(runs) == 1 else f"{name}-run{index + 1}.json")
        path.write_text(history.to_json())
        written.append(path.name)
    return written


async def record(client: Client, http: httpx.AsyncClient, as_bot: httpx.AsyncClient, as_agent: httpx.AsyncClient,
                 places: dict) -> None:
    C = "/ccaas/1/conversations"

    async def create(**body) -> str:
        response = await http.post(C, json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def ok(response: httpx.Response) -> dict:
        assert response.status_code == 200, response.text
        return response.json()

    async def close(cid: str) -> None:
        await ok(await http.patch(f"{C}/{cid}", json={"status": "CLOSED", "reason": "done"}))

    # Routing at creation, then every kind of change a person makes, then closing.
    cid = await create(channel="SMS", topic="Refund", tags=["new"])
    await ok(await http.patch(f"{C}/{cid}", json={"priority": "HIGH", "status": "WAITING", "summary": "s"}))
    await ok(await http.patch(f"{C}/{cid}", json={"priority": "LOW"}))
    await ok(await http.patch(f"{C}/{cid}", json={"status": "OPEN"}))
    await ok(await http.post(f"{C}/{cid}/tags", json={"tagName": "vip"}))
    await ok(await http.delete(f"{C}/{cid}/tags/new"))
    await ok(await http.patch(f"{C}/{cid}", json={"agentId": places["agent"]}))
    await ok(await http.post(f"{C}/{cid}/route"))
    await close(cid)
    print(await save_runs(client, "routed_changed_closed", cid))

    # Routing run again on an assigned conversation keeps its queue: unassigned, and the
    # decision recorded in place (ROUTED with rule, version and trace); again, unassigned.
    cid = await create(channel="SMS")
    await ok(await http.put(f"{C}/{cid}/assignee", json={"agentId": places["agent"]}))
    await ok(await http.post(f"{C}/{cid}/route"))
    await ok(await http.post(f"{C}/{cid}/route"))
    await close(cid)
    print(await save_runs(client, "routed_again_in_place", cid))

    # Placed by the creator, rerouted by hand.
    cid = await create(queueId=places["front"], externalId=f"ext-{uuid.uuid4()}")
    await ok(await http.patch(f"{C}/{cid}", json={"queueId": places["other"], "reason": "wrong desk"}))
    await close(cid)
    print(await save_runs(client, "placed_and_rerouted", cid))

    # The hand-off: rerouted to the bot's queue, the bot reports, routing moves it on.
    cid = await create(channel="SMS")
    await ok(await http.patch(f"{C}/{cid}", json={"queueId": places["bot"], "reason": "authenticate"}))
    await ok(await as_bot.post(f"{C}/{cid}/authentication", json={"status": "SUCCEEDED"}))
    await close(cid)
    print(await save_runs(client, "bot_completed", cid))

    # Created with an agent and a status (as Infobip allows); the customer's first message
    # arrives through the channel integration (a supervisor key): routing facts, then closed.
    cid = await create(channel="SMS", agentId=places["agent"], status="WAITING")
    message = {"channel": "SMS", "from": "+385911234567", "to": "switchboard", "direction": "INBOUND",
               "contentType": "TEXT", "content": {"text": "my card is blocked"}}
    created = await http.post(f"{C}/{cid}/messages", json=message)
    assert created.status_code == 201, created.text
    await close(cid)
    print(await save_runs(client, "created_with_agent_and_message", cid))

    # Work distribution: the dispatcher's claim is recorded, released by hand, claimed again,
    # then a move to a queue the agent is not a member of unassigns it.
    cid = await create(queueId=places["auto"])

    async def assigned() -> bool:
        return (await http.get(f"{C}/{cid}")).json()["agentId"] == places["agent"]

    await until(assigned)
    await ok(await http.delete(f"{C}/{cid}/assignee"))
    await until(assigned)
    await ok(await http.patch(f"{C}/{cid}", json={"queueId": places["other"], "reason": "wrong desk"}))
    await close(cid)
    print(await save_runs(client, "auto_assigned_released_rerouted", cid))

    # The bot never reports: timed out, routed on.
    cid = await create(channel="SMS")
    await ok(await http.patch(f"{C}/{cid}", json={"queueId": places["quick_bot"]}))

    async def timed_out() -> bool:
        events = (await http.get(f"{C}/{cid}/events")).json()["events"]
        return any(event["type"] == "BOT_TIMED_OUT" for event in events)

    await until(timed_out)
    await close(cid)
    print(await save_runs(client, "bot_timed_out", cid))

    # Escalation: two steps of its queue's ladder (a priority, then a move), a step of the
    # target queue's own ladder, then an assignment stops the clock (its timer cancelled).
    cid = await create(queueId=places["escalating"])

    async def escalated_three_times() -> bool:
        events = (await http.get(f"{C}/{cid}/events")).json()["events"]
        return sum(event["type"] == "ESCALATED" for event in events) == 3

    await until(escalated_three_times)
    await ok(await http.patch(f"{C}/{cid}", json={"agentId": places["agent"]}))
    await close(cid)
    print(await save_runs(client, "escalated", cid))

    # Out of hours: routed into a closed queue (answered, held), then moved by hand into one
    # whose hours close conversations.
    cid = await create(channel="EMAIL", **{"from": "ana@example.com", "to": "bank@example.com"})
    await ok(await http.patch(f"{C}/{cid}", json={"queueId": places["closing"]}))
    print(await save_runs(client, "out_of_hours", cid))

    # Out of hours with an agent: created with one into a queue whose hours close
    # conversations (the agent keeps it: not answered, not closed), then moved by hand into a
    # closed queue the agent is not a member of (unassigned first, then answered and held).
    cid = await create(queueId=places["closing"], agentId=places["agent"], channel="EMAIL",
                       **{"from": "ana@example.com", "to": "bank@example.com"})
    await ok(await http.patch(f"{C}/{cid}", json={"queueId": places["closed"]}))
    await close(cid)
    print(await save_runs(client, "out_of_hours_with_agent", cid))

    # Skills: required at creation (billing), added by the routing rule (es); es relaxes in
    # the queue, a PATCH adds fr (billing unchanged keeps its clock), billing relaxes; closed.
    cid = await create(channel="WHATSAPP", requiredSkills=[{"name": "billing", "relaxAfterSeconds": 3}])

    def relaxed(count: int):
        async def enough() -> bool:
            events = (await http.get(f"{C}/{cid}/events")).json()["events"]
            return sum(event["type"] == "SKILLS_RELAXED" for event in events) == count
        return enough

    await until(relaxed(1))
    await ok(await http.patch(f"{C}/{cid}", json={"requiredSkills": [
        {"name": "billing", "relaxAfterSeconds": 3}, {"name": "es", "minLevel": 2, "relaxAfterSeconds": 1},
        {"name": "fr"}]}))
    await until(relaxed(2))
    await close(cid)
    print(await save_runs(client, "skills_required_relaxed", cid))

    # Offers: offered to the only agent, declined, offered again (all have passed it over),
    # lapsed, offered again, accepted; closed. Then one offered and withdrawn by closing.
    cid = await create(queueId=places["offering"])

    def offers(count: int, lapsed: int = 0):
        async def enough() -> bool:
            events = (await http.get(f"{C}/{cid}/events")).json()["events"]
            return (sum(event["type"] == "OFFERED" for event in events) == count
                    and sum(event["type"] == "OFFER_EXPIRED" for event in events) == lapsed)
        return enough

    await until(offers(1))
    await ok(await as_agent.post(f"{C}/{cid}/offer/decline", json={"reason": "busy"}))
    await until(offers(3, lapsed=1), timeout=30)
    await ok(await as_agent.post(f"{C}/{cid}/offer/accept"))
    await close(cid)
    print(await save_runs(client, "offered_declined_lapsed_accepted", cid))
    cid = await create(queueId=places["offering"])
    await until(offers(1))
    await close(cid)
    print(await save_runs(client, "offered_withdrawn", cid))

    # SLA clocks: a policy matches at the first placement; first response warns and breaches
    # (onBreach raises the priority and moves it), resolution pauses while WAITING, runs
    # again, and is met at CLOSED.
    cid = await create(queueId=places["front"], channel="TELEGRAM")

    async def breached() -> bool:
        events = (await http.get(f"{C}/{cid}/events")).json()["events"]
        return any(event["type"] == "SLA_BREACHED" for event in events)

    await until(breached)
    await ok(await http.patch(f"{C}/{cid}", json={"status": "WAITING"}))
    await ok(await http.patch(f"{C}/{cid}", json={"status": "OPEN"}))
    await close(cid)
    print(await save_runs(client, "sla_breached_paused_met", cid))

    # A long conversation continues as new, then is closed in its second run.
    cid = await create(channel="SMS")
    for index in range(12):
        await ok(await http.post(f"{C}/{cid}/tags", json={"tagName": f"t{index}"}))
    await close(cid)
    written = await save_runs(client, "continued_as_new", cid)
    assert len(written) >= 2, "the workflow did not continue as new"
    print(written)


async def main() -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        search_attributes=search_attributes.ALL,
        data_converter=DATA_CONVERTER,
        dev_server_log_level="error",
        dev_server_extra_args=[
            "--dynamic-config-value", f"limit.historyCount.suggestContinueAsNew={CONTINUE_AS_NEW_AFTER}",
        ],
    )
    try:
        with tempfile.TemporaryDirectory() as home:
            engine = make_engine(f"sqlite:///{home}/record.db")
            key = bootstrap(engine)
            app = create_app(engine, env.client, "record")
            transport = httpx.ASGITransport(app=app)
            base = "http://switchboard.record"
            async with build_worker(env.client, engine, "record"), httpx.AsyncClient(
                transport=transport, base_url=base, headers={"Authorization": f"App {key}"}
            ) as http:
                bot = (await http.post("/ccaas/1/bots", json={"displayName": "bot"})).json()
                agent = (await http.post("/ccaas/1/agents", json={
                    "displayName": "Ana", "email": "ana@example.com"})).json()
                places = {"agent": agent["id"]}
                for name, fields in {
                    "front": {}, "other": {}, "authenticated": {}, "auto": {"isAutoAssignmentEnabled": True},
                    "bot": {"botId": bot["id"]}, "quick_bot": {"botId": bot["id"], "botTimeoutSeconds": 1},
                    "offering": {"isAutoAssignmentEnabled": True, "offerTimeoutSeconds": 5},
                }.items():
                    places[name] = (await http.post("/ccaas/1/queues", json={"name": name, **fields})).json()["id"]
                places["esc_target"] = (await http.post("/ccaas/1/queues", json={
                    "name": "esc_target", "escalation": [
                        {"afterSeconds": 1, "priority": "URGENT"}, {"afterSeconds": 600, "queueId": places["other"]},
                    ]})).json()["id"]
                places["escalating"] = (await http.post("/ccaas/1/queues", json={
                    "name": "escalating", "escalation": [
                        {"afterSeconds": 1, "priority": "HIGH"}, {"afterSeconds": 2, "queueId": places["esc_target"]},
                    ]})).json()["id"]
                never = dict.fromkeys(("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY",
                                       "SUNDAY"), {"startTime": 0, "endTime": 0, "enabled": False})
                for name, closes in {"closed": False, "closing": True}.items():
                    hours = (await http.post("/ccaas/1/working-hours", json={
                        "name": name, "timezone": "Europe/Zagreb", "message": "We are closed.", "workWeek": never,
                        "closeConversations": closes})).json()
                    places[name] = (await http.post("/ccaas/1/queues", json={
                        "name": name, "workingHoursId": hours["id"]})).json()["id"]
                await http.post(f"/ccaas/1/agents/{agent['id']}/queues", json={"queueId": places["auto"]})
                await http.post(f"/ccaas/1/agents/{agent['id']}/queues", json={"queueId": places["offering"]})
                rules = [
                    {"name": "strong", "queueId": places["authenticated"],
                     "expression": {"$eq": {"conversation.authentication": "STRONG"}}},
                    {"name": "sms", "queueId": places["front"], "expression": {"$eq": {"message.channel": "SMS"}}},
                    {"name": "email", "queueId": places["closed"],
                     "expression": {"$eq": {"message.channel": "EMAIL"}}},
                    {"name": "spanish", "queueId": places["front"],
                     "expression": {"$eq": {"message.channel": "WHATSAPP"}},
                     "requiredSkills": [{"name": "es", "minLevel": 2, "relaxAfterSeconds": 1}]},
                ]
                assert (await http.put("/ccaas/1/routing", json=rules)).status_code == 200
                policy = await http.post("/ccaas/1/sla-policies", json={
                    "name": "telegram", "expression": {"$eq": {"message.channel": "TELEGRAM"}},
                    "firstResponseSeconds": 2, "resolutionSeconds": 3600, "warnBeforeSeconds": 1,
                    "onBreach": {"priority": "HIGH", "queueId": places["other"]}})
                assert policy.status_code == 201, policy.text
                async with httpx.AsyncClient(transport=transport, base_url=base,
                                             headers={"Authorization": f"App {bot['apiKey']}"}) as as_bot, \
                        httpx.AsyncClient(transport=transport, base_url=base,
                                          headers={"Authorization": f"App {agent['apiKey']}"}) as as_agent:
                    await record(env.client, http, as_bot, as_agent, places)
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
