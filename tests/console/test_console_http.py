"""The console's pages as plain HTTP: what every route demands, and what a save keeps."""

from __future__ import annotations

import re
import uuid

import httpx

from domain.models import utcnow
from store.db import session_scope
from store.tables import MessageRow
from tests.console.helpers import TOKEN, cookies, create, queue
from tests.console.test_access import console_paths


async def test_every_console_page_and_form_needs_a_signed_in_user(live_stack):
    """No route of the console is open: a new one without the sign-in check fails here."""
    async with httpx.AsyncClient(base_url=live_stack.base_url) as browser:
        for method, path in console_paths(live_stack.app.routes):
            if path in ("/console/sign-in",) or path.startswith("/console/static"):
                continue
            concrete = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
            headers = {"Cookie": f"switchboard_csrf={TOKEN}"}
            answer = await browser.request(method, concrete, data={"csrf_token": TOKEN} if method == "POST" else None,
                                           headers=headers)
            if method == "GET":
                assert answer.status_code == 401 and "Sign in" in answer.text, (path, answer.status_code)
            else:
                assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in", path


async def test_a_console_save_keeps_what_the_editor_does_not_show(live_stack):
    api = live_stack.api
    front_desk = await queue(api, "Front desk")
    rule = {"name": "Nights", "queueId": front_desk, "expression": {"$eq": {"message.channel": "SMS"}},
            "routeOnlyDuringWorkingHours": True}
    assert (await api.put("/ccaas/1/routing", json=[rule])).status_code == 200
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=cookies(live_stack)) as browser:
        editor = (await browser.get("/console/routing")).text
        form = dict(re.findall(r'name="(rules-0-[^"]+|count|version)"[^>]*?value="([^"]*)"', editor))
        form |= {"rules-0-name": "Nights", "rules-0-queueId": front_desk, "rules-0-priority": "NORMAL",
                 "rules-0-enabled": "on", "rules-0-expression": '{"$eq": {"message.channel": "SMS"}}',
                 "csrf_token": TOKEN, "action": "save"}
        saved = await browser.post("/console/routing", data=form)
        assert saved.status_code == 303, saved.text
    routing = (await api.get("/ccaas/1/routing")).json()
    assert routing["version"] == 2 and routing["routes"][0]["routeOnlyDuringWorkingHours"] is True


async def test_a_save_over_a_newer_version_is_refused_once_then_replaces_it_knowingly(live_stack):
    api = live_stack.api
    front_desk = await queue(api, "Front desk")
    draft = {"count": "1", "version": "0", "rules-0-name": "Mine", "rules-0-queueId": front_desk,
             "rules-0-priority": "NORMAL", "rules-0-enabled": "on", "csrf_token": TOKEN, "action": "save",
             "rules-0-expression": '{"$eq": {"message.channel": "SMS"}}'}
    theirs = [{"name": "Theirs", "queueId": front_desk, "expression": {"$eq": {"message.channel": "EMAIL"}}}]
    assert (await api.put("/ccaas/1/routing", json=theirs)).status_code == 200  # saved meanwhile
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=cookies(live_stack)) as browser:
        refused = await browser.post("/console/routing", data=draft)
        assert refused.status_code == 409 and "Version 1 was saved while you edited" in refused.text
        assert 'name="version" value="1"' in refused.text  # the next Save is made knowing it
        assert (await api.get("/ccaas/1/routing")).json()["routes"][0]["name"] == "Theirs"
        again = await browser.post("/console/routing", data={**draft, "version": "1"})
        assert again.status_code == 303
    assert (await api.get("/ccaas/1/routing")).json()["routes"][0]["name"] == "Mine"


async def test_an_expression_python_would_read_but_json_does_not_is_refused_at_its_field(live_stack):
    front_desk = await queue(live_stack.api, "Front desk")
    draft = {"count": "1", "version": "0", "rules-0-name": "Odd", "rules-0-queueId": front_desk,
             "rules-0-priority": "NORMAL", "csrf_token": TOKEN, "action": "simulate",
             "rules-0-expression": '{"$gt": {"customer.customAttributes.score": NaN}}'}
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=cookies(live_stack)) as browser:
        answer = await browser.post("/console/routing", data=draft)
    assert answer.status_code == 400 and "NaN is not a JSON number" in answer.text


async def test_a_deleted_queue_is_still_named_in_the_timeline_and_unknown_pages_are_pages(live_stack):
    api = live_stack.api
    old = await queue(api, "Old desk")
    new = await queue(api, "New desk")
    conversation = await create(api, "/ccaas/1/conversations", {"topic": "Moved", "queueId": old})
    assert (await api.patch(f"/ccaas/1/conversations/{conversation['id']}", json={"queueId": new})).status_code == 200
    assert (await api.delete(f"/ccaas/1/queues/{old}")).status_code == 200
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=cookies(live_stack)) as browser:
        page = (await browser.get(f"/console/conversations/{conversation['id']}")).text
        assert "Old desk (deleted) → New desk" in page
        missing = await browser.get("/console/no-such-page")
        assert missing.status_code == 404 and "There is no such console page" in missing.text
        odd = await browser.get("/console/conversations/x%3Fy")  # an id must stay one path segment
        assert odd.status_code == 404 and "Not found" in odd.text


async def test_a_bounded_trace_says_how_many_rules_it_leaves_out(live_stack):
    api = live_stack.api
    never = await queue(api, "Never")
    rules = [{"name": f"r{n}", "queueId": never, "expression": {"$eq": {"message.channel": "FAX"}}} for n in range(150)]
    assert (await api.put("/ccaas/1/routing", json=rules)).status_code == 200
    conversation = await create(api, "/ccaas/1/conversations", {"channel": "SMS"})
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=cookies(live_stack)) as browser:
        page = (await browser.get(f"/console/conversations/{conversation['id']}")).text
    assert "Trace: 150 rules tried" in page and "… 50 more rules tried, not kept" in page


async def test_the_editor_takes_odd_numbers_in_its_own_fields_for_their_defaults(live_stack):
    """Hidden and numeric fields the page fills in; a careless or hostile client's values
    (far too long, not digits) must not break the page."""
    odd = {"csrf_token": TOKEN, "count": "9" * 5000, "version": "٣", "recent": "-1", "action": "add"}
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=cookies(live_stack)) as browser:
        answer = await browser.post("/console/routing", data=odd)
    assert answer.status_code == 200
    assert answer.text.count('data-testid="rule"') == 1  # no rules read; the one just added
    assert 'name="version" value="0"' in answer.text
    assert 'name="recent" type="number" min="1" max="1000" value="100"' in answer.text


async def test_a_stored_message_that_cannot_be_shown_leaves_the_conversation_page_readable(live_stack, engine):
    """Content an older version stored beyond today's bounds (256 levels deep, as issue 20
    found) is withheld on the page, the rest of the conversation shown."""
    api = live_stack.api
    conversation = await create(api, "/ccaas/1/conversations", {"topic": "Deep", "queueId": await queue(api, "Q")})
    deep: dict = {"leaf": "never-shown-leaf"}
    for _ in range(255):
        deep = {"next": deep}
    now = utcnow()
    with session_scope(engine) as session:
        session.add(MessageRow(
            id=str(uuid.uuid4()), conversation_id=conversation["id"], direction="INBOUND", author_type="CUSTOMER",
            channel="LIVE_CHAT", from_="+447700900123", to="support", content_type="BLOB", content=deep,
            recorded_at=now, created_at=now, updated_at=now,
        ))
    await create(api, f"/ccaas/1/conversations/{conversation['id']}/messages", {
        "channel": "LIVE_CHAT", "from": "support", "to": "+447700900123", "contentType": "TEXT",
        "content": {"text": "Shown as ever"}})
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=cookies(live_stack)) as browser:
        page = await browser.get(f"/console/conversations/{conversation['id']}")
    assert page.status_code == 200, page.text
    assert "content not shown" in page.text and "Shown as ever" in page.text and "never-shown-leaf" not in page.text
