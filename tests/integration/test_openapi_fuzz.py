"""Every operation of the OpenAPI document fuzzed by schemathesis against the real stack (a
Temporal worker, SQLite): the answers are those the document promises, and the document
accepts what the server accepts and refuses what it refuses.

The stack runs on an event loop of its own, in a thread, so that Hypothesis can drive the
synchronous test while the worker keeps running between examples."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode, checks
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from store.bootstrap import bootstrap
from store.db import make_engine
from switchboard.composition import api_app, worker_process
from switchboard.settings import Settings
from switchboard.temporal import DATA_CONVERTER
from tests.settings import stack_settings
from tests.sse import hang_up_on_streams

T = TypeVar("T")

# The document is built from the routes alone: no database or Temporal is touched.
DOCUMENT = api_app(stack_settings("sqlite://", "unused"), make_engine("sqlite://"), cast(Client, None)).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.positive_data_acceptance,
    checks.negative_data_rejection,
]

POSITIVE = checks.positive_data_acceptance
# A webhook's URL may not name a private address (unless the operator allows it), and its
# host name is resolved when it is saved: where a name points is no schema's to say.
WEBHOOK_ADDRESS = "a webhook URL's address must be public, and a host name is resolved"
# Working hours' checks no schema says: the zone is one of the IANA database's (the pattern
# says only its form), an enabled day's startTime comes before its endTime, a day's intervals
# do not overlap, a holiday does not end before it starts.
WORKING_HOURS = ("the zone must be in the IANA database, an enabled day's startTime before its endTime, its "
                 "intervals apart, a holiday's endDate not before its startDate")
# An escalation ladder's rules across its steps, and a step's queue must exist.
LADDER = "a ladder's afterSeconds increase and its priorities never go down; a step's queueId names a live queue"
# Infobip's agent has `status` and `availability`, two names for one thing: given both, they agree.
AVAILABILITY = "an agent's availability, given with its status, must equal it"
# An SLA policy's checks no schema says: its expression's grammar, at least one clock, the
# warning before the shorter clock, a place within the list, and the hours and queue it names existing.
SLA_POLICY = ("the expression must be valid routing language, a policy needs a clock, warnBeforeSeconds is below "
              "the shorter one, order is within the list, workingHoursId and onBreach.queueId name what exists")
# Deliberate exceptions: (method, path) -> the checks not run there, and why. Each is a rule that
# refuses some input the document calls valid; nowhere is input it calls invalid accepted.
EXCEPTIONS: dict[tuple[str, str], tuple[list[Any], str]] = {
    ("POST", "/ccaas/1/queues"): ([POSITIVE], LADDER),
    ("PUT", "/ccaas/1/queues/{queue_id}"): ([POSITIVE], f"{LADDER}; a bot on the default queue is a 409"),
    ("POST", "/ccaas/1/agents"): ([POSITIVE], AVAILABILITY),
    ("PUT", "/ccaas/1/agents/{agent_id}"): ([POSITIVE], AVAILABILITY),
    ("POST", "/ccaas/1/bots"): ([POSITIVE], WEBHOOK_ADDRESS),
    ("PUT", "/ccaas/1/bots/{bot_id}"): ([POSITIVE], WEBHOOK_ADDRESS),
    ("POST", "/ccaas/1/webhooks"): ([POSITIVE], WEBHOOK_ADDRESS),
    ("PUT", "/ccaas/1/webhooks/{webhook_id}"): ([POSITIVE], WEBHOOK_ADDRESS),
    ("POST", "/ccaas/1/routing/simulate"): ([POSITIVE], "`rules` and `version` exclude each other"),
    ("PUT", "/ccaas/1/routing"): ([POSITIVE], "rules are checked against the routing in force (a rule's id "
                                  "must be one of it) and expressions against their grammar"),
    ("PUT", "/ccaas/1/routing/settings"): ([POSITIVE], "the default queue may not be one a bot serves"),
    ("GET", "/people/2/persons"): ([POSITIVE], "`identifier` needs `type` (and the reverse)"),
    ("POST", "/people/2/persons"): ([POSITIVE], "customAttributes' names and values"),
    ("PUT", "/people/2/persons/{person_id}"): ([POSITIVE], "customAttributes' names and values"),
    ("PATCH", "/people/2/persons/{person_id}"): ([POSITIVE], "customAttributes' names and values"),
    ("POST", "/ccaas/1/working-hours"): ([POSITIVE], WORKING_HOURS),
    ("PUT", "/ccaas/1/working-hours/{working_hours_id}"): ([POSITIVE], WORKING_HOURS),
    ("PATCH", "/ccaas/1/working-hours/{working_hours_id}"): ([POSITIVE], WORKING_HOURS),
    ("POST", "/ccaas/1/working-hours/{working_hours_id}/holiday"): (
        [POSITIVE], "a holiday's endDate may not come before its startDate"),
    ("POST", "/ccaas/1/sla-policies"): ([POSITIVE], SLA_POLICY),
    ("PUT", "/ccaas/1/sla-policies/{sla_policy_id}"): ([POSITIVE], SLA_POLICY),
    ("GET", "/ccaas/1/queues/{queue_id}/staffing"): (
        [POSITIVE], "the window is more than nothing and at most P31D (the pattern says only its form); the load "
        "(arrivals × handle time) at most 10000 Erlangs"),
    ("GET", "/ccaas/1/queues/{queue_id}/statistics"): (
        [POSITIVE], "the window's `from` comes before its `to`, at most 31 days apart"),
}


class LiveStack:
    """The API and a worker on a loop in their own thread; `run` calls into it."""

    def __init__(self, temporal_target: str, namespace: str, database_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        # As deployed, webhooks to private addresses are refused (WEBHOOK_ADDRESS below).
        self.stack_settings: Settings = stack_settings(
            database_url, f"fuzz-{uuid.uuid4()}", SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE="0")
        self.engine = make_engine(database_url)
        key = bootstrap(self.engine)
        assert key is not None
        self.key = key
        self.run(self._start(temporal_target, namespace))

    async def _start(self, target: str, namespace: str) -> None:
        self.client = await Client.connect(target, namespace=namespace, data_converter=DATA_CONVERTER)
        self.worker = worker_process(self.stack_settings, self.engine, self.client)
        self.worker_task = asyncio.create_task(self.worker.run())
        app = api_app(self.stack_settings, self.engine, self.client)
        # The live event stream never ends, and ASGITransport waits for the end of an answer:
        # the client hangs up once the stream's head has come (its status and content type are
        # what the checks look at; its events are tests/integration/test_event_stream.py's).
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=hang_up_on_streams(app)), base_url="http://switchboard.test"
        )

    async def _stop(self) -> None:
        await self.http.aclose()
        await self.worker.shutdown()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def request(self, **kwargs: Any) -> httpx.Response:
        return self.run(self.http.request(**kwargs))

    def get(self, path: str) -> dict[str, Any]:
        response = self.request(method="GET", url=path, headers={"Authorization": f"App {self.key}"})
        assert response.status_code == 200, response.text
        return cast(dict[str, Any], response.json())

    def post(self, path: str, body: Any, status: int = 201) -> dict[str, Any]:
        response = self.request(method="POST", url=path, json=body, headers={"Authorization": f"App {self.key}"})
        assert response.status_code == status, response.text
        return cast(dict[str, Any], response.json())

    def close(self) -> None:
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.engine.dispose()


@pytest.fixture(scope="module")
def live(temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    config = temporal_env.client.service_client.config
    database = Path(tmp_path_factory.mktemp("fuzz")) / "switchboard.db"
    stack = LiveStack(config.target_host, temporal_env.client.namespace, f"sqlite:///{database}")
    try:
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="module")
def ids(live: LiveStack) -> dict[str, str]:
    """A few objects, so that path parameters name something and the fuzzing reaches past 404."""
    queue = live.post("/ccaas/1/queues", {"name": "Fuzzed queue"})
    agent = live.post("/ccaas/1/agents", {"displayName": "Fuzzed agent", "email": "fuzz@example.com"})
    bot = live.post("/ccaas/1/bots", {"displayName": "Fuzzed bot"})
    person = live.post("/people/2/persons", {"firstName": "Fuzzed"})
    # A webhook made before the conversation, so that it has a delivery to replay.
    webhook = live.post("/ccaas/1/webhooks", {"url": SAFE_URL})
    spare_webhook = live.post("/ccaas/1/webhooks", {"url": SAFE_URL})
    live.post(f"/ccaas/1/agents/{agent['id']}/queues", {"queueId": queue["id"]}, status=200)
    # Assigned to the agent: every operation on a conversation meets one that has an agent.
    conversation = live.post("/ccaas/1/conversations", {"channel": "EMAIL", "tags": ["fuzz"], **assigned(queue["id"],
                                                                                                         agent["id"])})
    assert conversation["agentId"] == agent["id"]
    delivery = live.get(f"/ccaas/1/webhooks/{webhook['id']}/deliveries")["deliveries"][0]
    # What a DELETE may remove without taking the others' objects with it.
    spare_queue = live.post("/ccaas/1/queues", {"name": "Fuzzed queue to delete"})
    spare_bot = live.post("/ccaas/1/bots", {"displayName": "Fuzzed bot to delete"})
    spare_person = live.post("/people/2/persons", {"firstName": "Fuzzed to delete"})
    spare_agent = live.post("/ccaas/1/agents", {"displayName": "Fuzzed agent to change"})
    spare_conversation = live.post("/ccaas/1/conversations", {"channel": "EMAIL"})
    live.post("/ccaas/1/tags", {"name": "fuzz-spare"})
    day = {"startTime": 540, "endTime": 1020, "enabled": True}
    hours = {"name": "Fuzzed hours", "timezone": "Europe/Zagreb", "message": "Closed",
             "workWeek": dict.fromkeys(("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY",
                                        "SUNDAY"), day),
             "holidays": [{"id": "fuzz", "name": "Fuzzed holiday", "startDate": "2026-12-25"}]}
    working_hours = live.post("/ccaas/1/working-hours", hours)
    spare_working_hours = live.post("/ccaas/1/working-hours", {**hours, "name": "Fuzzed hours to delete"})
    policy = {"name": "Fuzzed policy", "expression": {"$eq": {"message.channel": "EMAIL"}}, "firstResponseSeconds": 60}
    sla_policy = live.post("/ccaas/1/sla-policies", policy)
    spare_sla_policy = live.post("/ccaas/1/sla-policies", {**policy, "name": "Fuzzed policy to delete"})
    return {
        "working_hours_id": working_hours["id"], "spare:working_hours_id": spare_working_hours["id"],
        "holiday_id": "fuzz",
        "sla_policy_id": sla_policy["id"], "spare:sla_policy_id": spare_sla_policy["id"],
        "spare:queue_id": spare_queue["id"], "spare:bot_id": spare_bot["id"],
        "spare:person_id": str(spare_person["id"]), "spare:agent_id": spare_agent["id"], "spare:tag_name": "fuzz-spare",
        "spare:conversation_id": spare_conversation["id"], "spare:webhook_id": spare_webhook["id"],
        "webhook_id": webhook["id"], "delivery_id": delivery["id"],
        "queue_id": queue["id"], "agent_id": agent["id"], "bot_id": bot["id"], "person_id": str(person["id"]),
        "conversation_id": conversation["id"], "tag_name": "fuzz", "number": "1", "a": "1", "b": "1",
    }


def assigned(queue_id: str, agent_id: str) -> dict[str, Any]:
    """A new conversation's body that places it in the queue, assigned to the agent."""
    return {"queueId": queue_id, "agentId": agent_id, "topic": "Fuzzed", "priority": "HIGH"}


def open_and_assigned(live: LiveStack, ids: dict[str, str]) -> str:
    """A conversation open and assigned to the seeded agent: the last one, while an example
    has not closed or unassigned it (or moved it, or reassigned it), else a new one."""
    if (last := ids.get("assigned:conversation_id")) is not None:
        conversation = live.get(f"/ccaas/1/conversations/{last}")
        if conversation["status"] == "OPEN" and conversation["agentId"] == ids["agent_id"]:
            return last
    fresh = live.post("/ccaas/1/conversations", assigned(ids["queue_id"], ids["agent_id"]))
    assert fresh["agentId"] == ids["agent_id"], fresh
    ids["assigned:conversation_id"] = fresh["id"]
    return cast(str, fresh["id"])


# Body fields that name another object, and the seeded object they are given.
REFERENCES = {"queueId": "queue_id", "defaultQueueId": "queue_id", "botId": "bot_id", "agentId": "agent_id"}
# Webhook URLs in a body: one that never resolves (RFC 6761), so that the courier posts no
# fuzzed event to a host that happens to exist.
SAFE_URL = "https://fuzz.invalid/hook"
WEBHOOK_URLS = ("url", "webhookUrl")
# Besides a DELETE, what may spoil the object it names for the other operations: a PUT of an
# agent may disable it, a PATCH or PUT of a conversation may close it (every change after is a
# 409, and its answers would go unchecked).
SPOILING = {("PUT", "/ccaas/1/agents/{agent_id}"), ("PATCH", "/ccaas/1/conversations/{conversation_id}"),
            ("PUT", "/ccaas/1/conversations/{conversation_id}")}
# Those of them that change a conversation meet a new one each time, assigned to the seeded agent:
# an open conversation with an agent, as a client meets it (a spare one would be closed or
# unassigned after the first example, and every later one would fuzz a 409).
FRESH_CONVERSATION = {("PATCH", "/ccaas/1/conversations/{conversation_id}"),
                      ("PUT", "/ccaas/1/conversations/{conversation_id}")}
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_operation_answers_as_documented(case: schemathesis.Case, live: LiveStack, ids: dict[str, str]) -> None:
    # A DELETE of an object removes a spare one, and so do the SPOILING operations: the seeded
    # ones stay usable as references, and open.
    spare = case.path.count("{") == 1 and (
        case.method.upper() == "DELETE" or (case.method.upper(), case.path) in SPOILING
    )
    for name in case.path_parameters or {}:
        if name in ids:
            case.path_parameters[name] = ids[f"spare:{name}"] if spare and f"spare:{name}" in ids else ids[name]
    if (case.method.upper(), case.path) in FRESH_CONVERSATION and case.path_parameters:
        case.path_parameters["conversation_id"] = open_and_assigned(live, ids)
    if case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE:
        # References in a body name the seeded objects: an unknown id is a 400 no schema can say.
        for item in case.body if isinstance(case.body, list) else [case.body]:
            for name, seeded in REFERENCES.items():
                if isinstance(item, dict) and isinstance(item.get(name), str):
                    item[name] = ids[seeded]
            for name in WEBHOOK_URLS:
                if isinstance(item, dict) and isinstance(item.get(name), str):
                    item[name] = SAFE_URL
    excluded, _why = EXCEPTIONS.get((case.method.upper(), case.path), ([], ""))
    # The coverage phase may label a case positive though one of its parts is negative (seen
    # with a header parameter, the stream's Last-Event-ID): that case is not valid data.
    if case.meta is not None and any(part.mode == GenerationMode.NEGATIVE for part in case.meta.components.values()):
        excluded = [*excluded, POSITIVE]
    # The key replaces a generated `Authorization`; a case without one (negative) goes without.
    headers = {"Authorization": f"App {live.key}"} if "Authorization" in (case.headers or {}) else {}
    kwargs = case.as_transport_kwargs(base_url="http://switchboard.test", headers=headers)
    kwargs.pop("verify", None)
    kwargs.pop("allow_redirects", None)
    kwargs.pop("cookies", None)
    if isinstance(kwargs.get("data"), str | bytes):  # requests' raw body is httpx's `content`
        kwargs["content"] = kwargs.pop("data")
    response = live.request(**kwargs)
    case.validate_response(response, checks=[c for c in CHECKS if c not in excluded])


def test_every_exception_names_an_operation_and_says_why() -> None:
    operations = {(method.upper(), path) for path, methods in DOCUMENT["paths"].items() for method in methods}
    for key, (excluded, reason) in EXCEPTIONS.items():
        assert key in operations and excluded and reason, key
