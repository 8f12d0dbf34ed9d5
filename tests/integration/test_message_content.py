"""A message's `content` is bounded (64 KB as JSON, 16 levels deep, finite numbers, Unicode):
beyond, a 400 at `content` and nothing stored. And nothing stored can make a read fail: a row
whose content may not be shown (an older version's) is listed with it withheld."""

from __future__ import annotations

import json
import uuid
from typing import Any

from domain.messages import MAX_CONTENT_BYTES, MAX_CONTENT_DEPTH
from domain.models import utcnow
from store.db import session_scope
from store.tables import MessageRow
from tests.conftest import Stack
from tests.helpers import assert_error, create_conversation

C = "/ccaas/1/conversations"
JSON = {"Content-Type": "application/json"}


def nested(levels: int) -> dict[str, Any]:
    """Content `levels` objects deep, itself the first."""
    content: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        content = {"next": content}
    return content


def sized(size: int) -> dict[str, Any]:
    """Content of exactly `size` bytes as compact JSON."""
    content = {"data": ""}
    content["data"] = "x" * (size - len(json.dumps(content, separators=(",", ":"))))
    return content


def message(content: Any, content_type: str = "BLOB") -> dict[str, Any]:
    return {"channel": "LIVE_CHAT", "from": "+447700900123", "to": "support", "contentType": content_type,
            "content": content}


async def test_content_beyond_its_bounds_is_a_400_at_content_and_nothing_is_stored(stack: Stack):
    cid = (await create_conversation(stack.http))["id"]
    url = f"{C}/{cid}/messages"
    # At the bounds: stored and shown back as sent.
    accepted = []
    for content in (nested(MAX_CONTENT_DEPTH), {"list": [[[[1]]]]}, sized(MAX_CONTENT_BYTES),
                     {"text": "é" * 1000}):
        response = await stack.http.post(url, json=message(content))
        assert response.status_code == 201, response.text
        assert response.json()["content"] == content and response.json()["contentNotShown"] is False
        accepted.append(response.json()["id"])

    deep_list: list[Any] = [1]
    for _ in range(MAX_CONTENT_DEPTH - 1):
        deep_list = [deep_list]
    for content in (nested(MAX_CONTENT_DEPTH + 1), nested(256), {"list": deep_list},
                    sized(MAX_CONTENT_BYTES + 1), {"text": "é" * (MAX_CONTENT_BYTES // 2)}):
        error = assert_error(await stack.http.post(url, json=message(content)), 400, "BAD_REQUEST", "content")
        assert set(error["validationErrors"]) == {"content"}, error
    # What JSON cannot answer (Python's json reads NaN and lone surrogates): refused too.
    for raw in ('{"n": NaN}', '{"n": [Infinity]}', '{"text": "\\ud800"}'):
        body = json.dumps(message("RAW")).replace('"RAW"', raw)
        assert_error(await stack.http.post(url, content=body, headers=JSON), 400, "BAD_REQUEST", "content")
    # A TEXT message's rules still apply within the bounds.
    assert_error(await stack.http.post(url, json=message(nested(MAX_CONTENT_DEPTH + 1), "TEXT")),
                 400, "BAD_REQUEST", "content")

    listed = await stack.http.get(url, params={"limit": 100})
    assert listed.status_code == 200, listed.text
    assert [m["id"] for m in listed.json()["messages"]] == accepted


async def test_content_type_is_bounded_by_what_is_stored(stack: Stack):
    cid = (await create_conversation(stack.http))["id"]
    url = f"{C}/{cid}/messages"
    longest = "X" * 32
    response = await stack.http.post(url, json=message({"a": 1}, longest))
    assert response.status_code == 201, response.text
    assert response.json()["contentType"] == longest
    assert_error(await stack.http.post(url, json=message({"a": 1}, "X" * 33)), 400, "BAD_REQUEST", "contentType")
    assert (await stack.http.get(url)).json()["pagination"]["totalItems"] == 1


async def test_a_first_message_given_at_creation_is_bounded_too(stack: Stack):
    for content in (nested(256), {"text": "hi"}, "x" * 4097):
        assert_error(await stack.http.post(C, json={"message": {"content": content}}),
                     400, "BAD_REQUEST", "message.content")


def store_message(stack: Stack, conversation_id: str, content: Any, content_type: str = "BLOB") -> str:
    """A row as an older version could have written it, straight to the store."""
    now = utcnow()
    row = MessageRow(
        id=str(uuid.uuid4()), conversation_id=conversation_id, direction="INBOUND", author_type="CUSTOMER",
        channel="LIVE_CHAT", from_="+447700900123", to="support", content_type=content_type,
        content=content, recorded_at=now, created_at=now, updated_at=now,
    )
    with session_scope(stack.engine) as session:
        session.add(row)
    return row.id


async def test_a_stored_message_whose_content_cannot_be_shown_is_listed_without_it(stack: Stack):
    cid = (await create_conversation(stack.http))["id"]
    unshowable: list[Any] = [nested(256), nested(MAX_CONTENT_DEPTH + 1), sized(MAX_CONTENT_BYTES + 1),
                             ["not", "an", "object"], "text"]
    if stack.engine.dialect.name == "sqlite":  # PostgreSQL's json refuses these itself
        unshowable += [{"n": float("nan")}, {"text": "\ud800"}]
    shown = store_message(stack, cid, {"text": "fine"}, "TEXT")
    withheld = [store_message(stack, cid, content) for content in unshowable]

    listed = await stack.http.get(f"{C}/{cid}/messages", params={"limit": 100, "orderBy": "id:asc"})
    assert listed.status_code == 200, listed.text
    by_id = {m["id"]: m for m in listed.json()["messages"]}
    assert set(by_id) == {shown, *withheld}
    assert (by_id[shown]["content"], by_id[shown]["contentNotShown"]) == ({"text": "fine"}, False)
    for id_ in withheld:
        assert (by_id[id_]["content"], by_id[id_]["contentNotShown"]) == ({}, True), by_id[id_]
        assert by_id[id_]["contentType"] == "BLOB" and by_id[id_]["direction"] == "INBOUND"
    # The conversation itself reads, and takes new messages.
    assert (await stack.http.get(f"{C}/{cid}")).status_code == 200
    response = await stack.http.post(f"{C}/{cid}/messages", json=message({"text": "after"}, "TEXT"))
    assert response.status_code == 201, response.text
