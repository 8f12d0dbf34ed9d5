"""The OpenAPI document, exactly as the API serves it, is a contract a generated client can keep:
openapi-python-client generates a Python client from it, and the hand-off scenario
(tests/integration/test_handoff.py) runs through that client alone against the real stack."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast, get_args, get_type_hints

import httpx
import pytest
import pytest_asyncio
from openapi_python_client.strings import PythonIdentifier
from temporalio.client import Client

from store.db import make_engine
from switchboard.composition import api_app
from tests.conftest import Stack, clean_body_check
from tests.helpers import unique
from tests.settings import stack_settings

PACKAGE = "switchboard_client"
STRONG = {"$eq": {"conversation.authentication": "STRONG"}}


@dataclass
class Generated:
    """The generated package, imported from where the generator wrote it, and what it said."""

    document: dict[str, Any]
    models: ModuleType
    client: ModuleType
    log: str

    def operation(self, method: str, path: str) -> ModuleType:
        """One operation's module, found as the generator names it (a folder per tag, a module
        per operationId). Looked up by method and path: renaming a route's function renames its
        operationId, and the test should not care."""
        operation = self.document["paths"][path][method.lower()]
        tag = PythonIdentifier((operation.get("tags") or ["default"])[0], prefix="tag")
        name = PythonIdentifier(operation["operationId"], prefix="field_")
        try:
            return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")
        except ModuleNotFoundError as error:
            raise AssertionError(f"{method} {path} was not generated; the generator said:\n{self.log}") from error

    def as_key(self, stack: Stack, key: str) -> Any:
        """A generated client calling the stack's API in process with a key, as `stack.http`
        does; any status the document does not list for the operation raises."""
        return self.client.AuthenticatedClient(
            base_url=str(stack.http.base_url), token=key, prefix="App", raise_on_unexpected_status=True,
            httpx_args={"transport": stack.http._transport, "event_hooks": {"response": [clean_body_check(key)]}},
        )


async def served_document() -> dict[str, Any]:
    """/openapi.json as the API answers it; the document is built from the routes alone, so no
    database or Temporal is touched."""
    app = api_app(stack_settings("sqlite://", "unused"), make_engine("sqlite://"), cast(Client, None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://switchboard.test") as http:
        response = await http.get("/openapi.json")
    assert response.status_code == 200, response.text
    return cast(dict[str, Any], response.json())


async def generate(document: dict[str, Any], root: Path) -> str:
    """Writes the client package into root/PACKAGE and returns what the generator printed."""
    (root / "openapi.json").write_text(json.dumps(document))
    # No ruff post-hooks: formatting the output is no part of the contract.
    (root / "config.json").write_text(json.dumps({"post_hooks": []}))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "openapi_python_client", "generate", "--path", str(root / "openapi.json"),
        "--output-path", str(root / PACKAGE), "--meta", "none", "--config", str(root / "config.json"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


@pytest_asyncio.fixture(scope="module")
async def generated(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Generated]:
    """Generated once for the module (about a second)."""
    document = await served_document()
    root = tmp_path_factory.mktemp("generated_client")
    log = await generate(document, root)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(root))
        yield Generated(
            document, importlib.import_module(f"{PACKAGE}.models"), importlib.import_module(f"{PACKAGE}.client"), log,
        )
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


async def call(operation: ModuleType, status: int, **arguments: Any) -> Any:
    """One call through the generated client: the answer's status, then its parsed model."""
    response = await operation.asyncio_detailed(**arguments)
    assert response.status_code == status, response.content
    return response.parsed


async def test_the_handoff_through_the_generated_client(stack: Stack, generated: Generated):
    # The client was generated from what this very stack serves.
    assert (await stack.http.get("/openapi.json")).json() == generated.document
    models = generated.models
    create_queue = generated.operation("POST", "/ccaas/1/queues")
    put_routing = generated.operation("PUT", "/ccaas/1/routing")
    conversation_url = "/ccaas/1/conversations/{conversation_id}"
    # The rules' schema is written inline in the operation (it carries maxItems), so the generator
    # names its model after the operation: it is taken from the body's annotation.
    (rule,) = get_args(get_type_hints(put_routing.asyncio_detailed)["body"])

    async with generated.as_key(stack, stack.supervisor_key) as supervisor:
        # The supervisor sets up a bot, its queue, two more queues, and the routing.
        bot = await call(generated.operation("POST", "/ccaas/1/bots"), 201, client=supervisor,
                         body=models.BotIn(display_name=unique("Auth bot")))
        assert isinstance(bot, models.BotWithKey) and bot.api_key
        front = await call(create_queue, 201, client=supervisor, body=models.QueueIn(name=unique("Front desk")))
        bot_queue = await call(create_queue, 201, client=supervisor,
                               body=models.QueueIn(name=unique("Authentication bot"), bot_id=bot.id))
        authenticated = await call(create_queue, 201, client=supervisor,
                                   body=models.QueueIn(name=unique("Authenticated sessions")))
        assert isinstance(bot_queue, models.QueueOut) and bot_queue.bot_id == bot.id
        routing = await call(put_routing, 200, client=supervisor, body=[
            rule(name="Strongly authenticated", queue_id=authenticated.id, expression=STRONG,
                 priority=models.Priority.HIGH),
            rule(name="Everyone else", queue_id=front.id, expression={"$exists": {"message.channel": True}}),
        ])
        assert isinstance(routing, models.RoutingWithStatus)
        strong_rule = routing.routes[0]
        assert (strong_rule.queue_id, strong_rule.expression) == (authenticated.id, STRONG)

        # A customer writes in and lands in Front desk; the agent reroutes it to the bot's queue.
        conversation = await call(generated.operation("POST", "/ccaas/1/conversations"), 201, client=supervisor,
                                  body=models.ConversationIn(channel="WEBCHAT", topic="Card blocked"))
        assert isinstance(conversation, models.ConversationOut)
        assert (conversation.queue_id, conversation.priority) == (front.id, models.Priority.NORMAL)
        moved = await call(
            generated.operation("PATCH", conversation_url), 200, client=supervisor, conversation_id=conversation.id,
            body=models.ConversationChangeIn(queue_id=bot_queue.id, reason="needs strong authentication"),
        )
        assert moved.queue_id == bot_queue.id

        # The bot, with its own key, reports strong authentication; routing lands it in
        # Authenticated sessions by itself.
        async with generated.as_key(stack, bot.api_key) as bot_client:
            after = await call(
                generated.operation("POST", f"{conversation_url}/authentication"), 200, client=bot_client,
                conversation_id=conversation.id,
                body=models.AuthenticationIn(status=models.AuthenticationStatus.SUCCEEDED,
                                             level=models.AuthenticationLevel.STRONG),
            )
        assert isinstance(after, models.ConversationOut)
        assert after.queue_id == authenticated.id
        assert (after.authentication, after.priority) == (models.Authentication.STRONG, models.Priority.HIGH)
        assert after.routed_by == models.RoutedByOut(route_id=strong_rule.id, routing_version=routing.version)
        fetched = await call(generated.operation("GET", conversation_url), 200, client=supervisor,
                             conversation_id=conversation.id)
        assert fetched == after

        # Its timeline, read through the client too.
        timeline = await call(generated.operation("GET", f"{conversation_url}/events"), 200, client=supervisor,
                              conversation_id=conversation.id)
    assert isinstance(timeline, models.EventListOut)
    steps = [(e.type_, e.actor.type_, e.from_queue_id, e.to_queue_id) for e in timeline.events]
    assert steps == [
        (models.EventType.CREATED, models.ActorType.SUPERVISOR, None, None),
        (models.EventType.ROUTED, models.ActorType.SYSTEM, None, front.id),
        (models.EventType.REROUTED, models.ActorType.SUPERVISOR, front.id, bot_queue.id),
        (models.EventType.BOT_STARTED, models.ActorType.SYSTEM, None, bot_queue.id),
        (models.EventType.AUTHENTICATION_COMPLETED, models.ActorType.BOT, None, None),
        (models.EventType.ROUTED, models.ActorType.SYSTEM, bot_queue.id, authenticated.id),
    ]
    completed, routed_on = timeline.events[4], timeline.events[5]
    assert (completed.actor.id, completed.actor.name) == (bot.id, bot.display_name)
    assert (routed_on.route_id, routed_on.routing_version) == (strong_rule.id, routing.version)
    assert all(e.at.tzinfo is not None for e in timeline.events)


async def test_every_operation_of_the_document_is_generated(generated: Generated):
    # A schema name the generator refuses (two models of one name) drops its operations silently.
    for path, operations in generated.document["paths"].items():
        for method in operations:
            generated.operation(method.upper(), path)
