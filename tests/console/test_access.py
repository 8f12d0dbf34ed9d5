"""Who gets into the console and what they may do there: the cookie, CSRF, agents' limits."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from playwright.async_api import expect
from sqlmodel import select

from console.session import CSRF_COOKIE, SESSION_COOKIE
from domain.models import utcnow
from store.db import session_scope
from store.tables import ConsoleSessionRow
from tests.console.helpers import TOKEN, cookies, create, queue, sign_in


async def test_an_agent_cannot_reach_the_routing_editor_and_a_form_without_its_token_is_refused(
    browser_page, live_stack
):
    page, api = browser_page, live_stack.api
    agent = await create(api, "/ccaas/1/agents", {"displayName": "Ada Agent", "email": "ada@example.com"})
    await sign_in(page, agent["apiKey"])
    for supervisors_only in ("Routing", "Agents", "Bots", "People"):
        await expect(page.get_by_role("link", name=supervisors_only, exact=True)).to_have_count(0)

    response = await page.goto("/console/routing")
    assert response.status == 403
    await expect(page.get_by_test_id("refusal")).to_contain_text("for supervisors")
    # The form the editor would post, sent anyway with this browser's own token: refused too.
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = await page.request.post("/console/routing", form={"csrf_token": token, "count": "0", "action": "save"})
    assert refused.status == 403

    # A form posted without its CSRF token is refused, and nothing is done.
    front_desk = await queue(api, "Front desk")
    await create(api, f"/ccaas/1/agents/{agent['id']}/queues", {"queueId": front_desk}, status=200)
    conversation = await create(api, "/ccaas/1/conversations", {"topic": "Lost card", "queueId": front_desk})
    await page.goto(f"/console/conversations/{conversation['id']}")
    await page.locator("form[aria-label='Add a tag'] input[name=csrf_token]").evaluate("input => input.remove()")
    await page.get_by_label("New tag").fill("vip")
    await page.get_by_role("button", name="Add tag").click()
    await expect(page.get_by_role("heading", name="Form refused")).to_be_visible()
    assert (await api.get(f"/ccaas/1/conversations/{conversation['id']}")).json()["tags"] == []


def console_paths(routes) -> list[tuple[str, str]]:
    """(method, path) of every console route, through routers included in routers."""
    paths = []
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's record of a router included in another
            paths += console_paths(route.original_router.routes)
        elif getattr(route, "path", "").startswith("/console"):
            paths += [(method, route.path) for method in getattr(route, "methods", ()) if method != "HEAD"]
    return paths


async def test_every_console_form_needs_the_token(live_stack):
    """Checked on every POST route of the console, so a new form cannot forget it."""
    posts = [path for method, path in console_paths(live_stack.app.routes) if method == "POST"]
    assert len(posts) > 10
    async with httpx.AsyncClient(base_url=live_stack.base_url) as browser:
        for path in posts:
            concrete = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
            for form in ({}, {"csrf_token": "not-the-cookie"}, {"csrf_token": "jeton-été"}):
                answer = await browser.post(concrete, data=form, headers=cookies(live_stack))
                assert answer.status_code == 403, (path, form, answer.status_code)
                assert "Form refused" in answer.text
        # From another site, even with the right token: refused by its Origin.
        answer = await browser.post("/console/sign-out", data={"csrf_token": TOKEN},
                                    headers={**cookies(live_stack), "Origin": "https://evil.example"})
        assert answer.status_code == 403


async def sign_in_over_http(browser: httpx.AsyncClient, key: str) -> str:
    """Signs in as a browser would (the form, with its CSRF token); the session cookie's value."""
    token = (await browser.get("/console")).cookies[CSRF_COOKIE]
    signed = await browser.post("/console/sign-in", data={"csrf_token": token, "apiKey": key},
                                headers={"Cookie": f"{CSRF_COOKIE}={token}"})
    assert signed.status_code == 303, signed.text
    return signed.cookies[SESSION_COOKIE]


def session_cookie(session: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={session}; {CSRF_COOKIE}={TOKEN}"}


async def test_sign_in_sets_a_locked_down_session_cookie_and_refuses_bad_keys(live_stack):
    async with httpx.AsyncClient(base_url=live_stack.base_url) as browser:
        first = await browser.get("/console")
        assert first.status_code == 401 and "Sign in" in first.text
        token = first.cookies[CSRF_COOKIE]
        headers = {"Cookie": f"{CSRF_COOKIE}={token}"}

        for wrong_key in ("nope", "clé-" + "x" * 40, "x" * 5000):
            wrong = await browser.post("/console/sign-in", data={"csrf_token": token, "apiKey": wrong_key},
                                       headers=headers)
            assert wrong.status_code == 401 and "not valid" in wrong.text
        bot = await create(live_stack.api, "/ccaas/1/bots", {"displayName": "Auth bot"})
        as_bot = await browser.post("/console/sign-in", data={"csrf_token": token, "apiKey": bot["apiKey"]},
                                    headers=headers)
        assert as_bot.status_code == 403 and "bots use the API" in as_bot.text

        signed = await browser.post("/console/sign-in", headers=headers, data={
            "csrf_token": token, "apiKey": live_stack.supervisor_key, "next": "https://evil.example/"})
        assert signed.status_code == 303 and signed.headers["location"] == "/console"  # no open redirect
        cookie = signed.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/console", "Max-Age=43200"):
            assert attribute in cookie, cookie
        # The cookie is a session of the console's own: the key is nowhere in it.
        session = signed.cookies[SESSION_COOKIE]
        assert live_stack.supervisor_key not in cookie and session != live_stack.supervisor_key
        assert (await browser.get("/console", headers=session_cookie(session))).status_code == 200
        # Nor does the key itself open the console as a cookie.
        as_key = await browser.get("/console", headers=session_cookie(live_stack.supervisor_key))
        assert as_key.status_code == 401


async def test_signing_out_ends_the_session_for_good(live_stack):
    async with httpx.AsyncClient(base_url=live_stack.base_url) as browser:
        session = await sign_in_over_http(browser, live_stack.supervisor_key)
        other_browser = await sign_in_over_http(browser, live_stack.supervisor_key)
        assert (await browser.get("/console", headers=session_cookie(session))).status_code == 200

        out = await browser.post("/console/sign-out", data={"csrf_token": TOKEN}, headers=session_cookie(session))
        assert out.status_code == 303 and f'{SESSION_COOKIE}=""' in out.headers["set-cookie"]
        # The old cookie, kept or copied, opens nothing any more: the session is gone server-side.
        again = await browser.get("/console", headers=session_cookie(session))
        assert again.status_code == 401 and "session has ended" in again.text
        stream = await browser.get("/console/events/stream", headers=session_cookie(session))
        assert stream.status_code == 401
        # Another browser's session of the same key goes on.
        assert (await browser.get("/console", headers=session_cookie(other_browser))).status_code == 200


async def test_a_rotated_key_ends_its_console_sessions(live_stack):
    api = live_stack.api
    agent = await create(api, "/ccaas/1/agents", {"displayName": "Ada Agent", "email": "ada@example.com"})
    async with httpx.AsyncClient(base_url=live_stack.base_url) as browser:
        session = await sign_in_over_http(browser, agent["apiKey"])
        board = await browser.get("/console", headers=session_cookie(session))
        assert board.status_code == 200
        # Not kept for the Back button after sign-out, not framed by another site.
        assert board.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in board.headers["content-security-policy"]
        await create(api, f"/ccaas/1/agents/{agent['id']}/api-key", {}, status=200)
        again = await browser.get("/console", headers=session_cookie(session))
        assert again.status_code == 401 and "session has ended" in again.text


async def test_an_expired_session_is_refused(live_stack):
    async with httpx.AsyncClient(base_url=live_stack.base_url) as browser:
        session = await sign_in_over_http(browser, live_stack.supervisor_key)
        assert (await browser.get("/console", headers=session_cookie(session))).status_code == 200
        # Its end moved to the past in the store, as time would: no waiting.
        with session_scope(live_stack.app.state.engine) as db:
            (row,) = db.exec(select(ConsoleSessionRow)).all()
            assert row.expires_at - row.created_at == timedelta(hours=12)  # SWITCHBOARD_CONSOLE_SESSION_HOURS
            row.expires_at = utcnow() - timedelta(seconds=1)
            db.add(row)
        expired = await browser.get("/console", headers=session_cookie(session))
        assert expired.status_code == 401 and "session has ended" in expired.text


async def test_the_temporal_link_and_history_download_are_a_supervisors(live_stack):
    api = live_stack.api
    front_desk = await queue(api, "Front desk")
    agent = await create(api, "/ccaas/1/agents", {"displayName": "Ada Agent", "email": "ada@example.com"})
    await create(api, f"/ccaas/1/agents/{agent['id']}/queues", {"queueId": front_desk}, status=200)
    conversation = await create(api, "/ccaas/1/conversations", {"topic": "History", "queueId": front_desk})
    base = f"/console/conversations/{conversation['id']}"
    async with httpx.AsyncClient(base_url=live_stack.base_url) as browser:
        link = await browser.get(f"{base}/temporal", headers=cookies(live_stack))
        assert link.status_code == 303
        assert link.headers["location"].startswith("http://127.0.0.1:8233/namespaces/")
        assert f"/workflows/conversation-{conversation['id']}/" in link.headers["location"]
        download = await browser.get(f"{base}/workflow-history", headers=cookies(live_stack))
        assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]

        assert (await browser.get(base, headers=cookies(live_stack, agent["apiKey"]))).status_code == 200
        for supervisors_only in ("temporal", "workflow-history"):
            refused = await browser.get(f"{base}/{supervisors_only}", headers=cookies(live_stack, agent["apiKey"]))
            assert refused.status_code == 403
        page = (await browser.get(base, headers=cookies(live_stack, agent["apiKey"]))).text
        assert "workflow-history" not in page and "Temporal UI" not in page


async def test_the_console_works_from_the_keyboard(browser_page, live_stack):
    page = browser_page
    await page.goto("/console")
    await page.keyboard.type(live_stack.supervisor_key)  # the key field has the focus
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Queues board")).to_be_visible()

    async def tab_to(name: str) -> None:
        for _ in range(30):
            await page.keyboard.press("Tab")
            if (await page.evaluate("document.activeElement.textContent")).strip() == name:
                return
        raise AssertionError(f"{name!r} is not reachable with Tab")

    await tab_to("Skip to content")
    await tab_to("Routing")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="Routing", exact=True)).to_be_visible()
    await tab_to("Add rule")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("rule")).to_have_count(1)
    await expect(page.get_by_label("Name")).to_have_accessible_name("Name")


async def test_an_agent_sets_its_own_status_on_the_board(browser_page, live_stack):
    page, api = browser_page, live_stack.api
    agent = await create(api, "/ccaas/1/agents", {"displayName": "Ada Agent", "email": "ada@example.com"})
    await sign_in(page, agent["apiKey"])
    await page.get_by_label("Your status", exact=True).select_option("BUSY")
    await page.get_by_role("button", name="Set status").click()
    await expect(page.get_by_label("Your status", exact=True)).to_have_value("BUSY")
    assert (await api.get(f"/ccaas/1/agents/{agent['id']}")).json()["status"] == "BUSY"
