"""A queue's escalation steps in the console's forms, as plain HTTP (no script): how the rows
are read into the API's ladder, refused at their row, and shown to whom."""

from __future__ import annotations

import re

import httpx
import pytest

from console.client import Refusal
from console.directory_queues import after_text, as_posted, escalation_body, step_words
from console.forms import FormProblem, item_errors
from tests.console.helpers import TOKEN, cookies, create, queue

QUEUES = "/ccaas/1/queues"


def test_rows_are_read_in_order_of_their_numbers_with_gaps_and_blank_rows_dropped():
    values = {"escalation": "rows",
              "escalation-7-after": "2:30", "escalation-7-queueId": "q-2",
              "escalation-3-after": " 1 ", "escalation-3-priority": "HIGH", "escalation-3-queueId": "",
              "escalation-5-after": "", "escalation-5-priority": "", "escalation-5-queueId": "",
              "escalation-12-after": "90", "escalation-12-priority": "URGENT", "escalation-12-queueId": "q-3"}
    assert escalation_body(values) == [{"afterSeconds": 60, "priority": "HIGH"},
                                       {"afterSeconds": 150, "queueId": "q-2"},
                                       {"afterSeconds": 5400, "priority": "URGENT", "queueId": "q-3"}]
    # Shown again after a refusal: numbered as sent, so row i is the API's escalation[i].
    shown = as_posted(values)
    assert {name: value for name, value in shown.items() if name.startswith("escalation-")} == {
        "escalation-0-after": "1", "escalation-0-priority": "HIGH", "escalation-0-queueId": "",
        "escalation-1-after": "2:30", "escalation-1-priority": "", "escalation-1-queueId": "q-2",
        "escalation-2-after": "90", "escalation-2-priority": "URGENT", "escalation-2-queueId": "q-3"}


@pytest.mark.parametrize("after", ["soon", "1:75", "-5", "1.5", ""])
def test_an_after_that_is_not_minutes_is_refused_at_its_row(after):
    values = {"escalation-0-after": "5", "escalation-0-priority": "HIGH",
              "escalation-1-after": after, "escalation-1-priority": "URGENT"}
    with pytest.raises(FormProblem) as problem:
        escalation_body(values)
    assert problem.value.path == "escalation[1].afterSeconds"


def test_an_after_is_shown_as_minutes_with_seconds_only_when_there_are_some():
    assert [after_text(seconds) for seconds in (60, 1800, 90, 5, 3600 * 24)] == ["1", "30", "1:30", "0:05", "1440"]
    assert step_words({"afterSeconds": 5430, "priority": "HIGH", "queueId": "t2"}, {"t2": "Tier 2"}) == \
        "after 1 h 30 min 30 s: priority HIGH, move to Tier 2"
    assert step_words({"afterSeconds": 1800, "queueId": "gone"}, {}) == "after 30 min: move to unknown queue gone"


def test_the_apis_messages_are_grouped_by_step_and_field():
    refusal = Refusal(400, "Bad", {"escalation[1].afterSeconds": ["must be greater"], "escalation[0]": ["does nothing"],
                                   "escalation": ["too many"], "name": ["taken"], "escalation[1].priority": ["lower"]})
    assert item_errors(refusal, "escalation") == {1: {"afterSeconds": ["must be greater"], "priority": ["lower"]},
                                                 0: {"": ["does nothing"]}}
    assert item_errors(None, "escalation") == {}


def form(name: str, rows: dict[str, str]) -> dict[str, str]:
    return {"csrf_token": TOKEN, "name": name, "botTimeoutSeconds": "600", "escalation": "rows", **rows}


async def test_a_supervisor_saves_rows_without_a_script_and_a_refusal_keeps_them_at_their_row(live_stack):
    api = live_stack.api
    front_desk = await queue(api, "Front desk")
    tier_2 = await queue(api, "Tier 2")
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=cookies(live_stack)) as browser:
        settings = (await browser.get(f"/console/queues/{front_desk}/settings")).text
        # One blank row to fill in, offering the other queues but not the queue itself.
        assert re.findall(r'name="(escalation-[^"]+-after)"', settings) == ["escalation-0-after",
                                                                          "escalation-__n__-after"]
        assert f'<option value="{tier_2}"' in settings and f'<option value="{front_desk}"' not in settings

        saved = await browser.post(f"/console/queues/{front_desk}/settings", data=form("Front desk", {
            "escalation-0-after": "30", "escalation-0-priority": "HIGH",
            "escalation-4-after": "", "escalation-4-priority": "", "escalation-4-queueId": "",
            "escalation-2-after": "45:30", "escalation-2-queueId": tier_2}))
        assert saved.status_code == 303, saved.text
        ladder = [{"afterSeconds": 1800, "priority": "HIGH", "queueId": None},
                  {"afterSeconds": 2730, "priority": None, "queueId": tier_2}]
        assert (await api.get(f"{QUEUES}/{front_desk}")).json()["escalation"] == ladder

        # The second step before the first: the API's 400 at escalation[1].afterSeconds, shown in
        # that row, with what was typed kept; nothing saved.
        refused = await browser.post(f"/console/queues/{front_desk}/settings", data=form("Front desk", {
            "escalation-0-after": "30", "escalation-0-priority": "HIGH",
            "escalation-1-after": "10", "escalation-1-queueId": tier_2}))
        assert refused.status_code == 400
        first, second = refused.text.split('data-testid="escalation-step"')[1:3]
        assert 'name="escalation-0-after" value="30"' in first and "aria-invalid" not in first
        assert 'name="escalation-1-after" value="10"' in second and f'<option value="{tier_2}" selected>' in second
        assert 'aria-invalid="true"' in second and "after: must be greater than the step before" in second
        assert (await api.get(f"{QUEUES}/{front_desk}")).json()["escalation"] == ladder

        # A form without the rows (another client of the page) keeps the ladder; cleared rows empty it.
        kept = await browser.post(f"/console/queues/{front_desk}/settings",
                                  data={"csrf_token": TOKEN, "name": "Front desk", "botTimeoutSeconds": "600"})
        assert kept.status_code == 303
        assert (await api.get(f"{QUEUES}/{front_desk}")).json()["escalation"] == ladder
        cleared = await browser.post(f"/console/queues/{front_desk}/settings", data=form("Front desk", {
            "escalation-0-after": "", "escalation-0-priority": "", "escalation-0-queueId": ""}))
        assert cleared.status_code == 303
        assert (await api.get(f"{QUEUES}/{front_desk}")).json()["escalation"] == []

        # The create form takes steps too; a step the console cannot read is refused before the API.
        bad = await browser.post("/console/queues", data=form("Tier 3", {"escalation-0-after": "soon",
                                                                         "escalation-0-priority": "URGENT"}))
        assert bad.status_code == 400 and "is not minutes" in bad.text and 'value="soon"' in bad.text
        made = await browser.post("/console/queues", data=form("Tier 3", {"escalation-0-after": "1:05",
                                                                          "escalation-0-priority": "URGENT"}))
        assert made.status_code == 303
    tier_3 = next(q for q in (await api.get(QUEUES)).json()["queues"] if q["name"] == "Tier 3")
    assert tier_3["escalation"] == [{"afterSeconds": 65, "priority": "URGENT", "queueId": None}]


async def test_an_agent_sees_the_ladder_but_no_dry_run_and_cannot_edit_it(live_stack):
    api = live_stack.api
    tier_2 = await queue(api, "Tier 2")
    front_desk = await queue(api, "Front desk", escalation=[{"afterSeconds": 1800, "priority": "HIGH",
                                                             "queueId": tier_2}])
    agent = await create(api, "/ccaas/1/agents", {"displayName": "Ada Agent", "email": "ada@example.com"})
    await create(api, f"/ccaas/1/agents/{agent['id']}/queues", {"queueId": front_desk}, status=200)
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers=cookies(live_stack, agent["apiKey"])) as browser:
        shown = await browser.get(f"/console/queues/{front_desk}/escalation")
        assert shown.status_code == 200
        assert "after 30 min: priority HIGH, move to Tier 2" in shown.text
        assert "escalation-dry-run" not in shown.text and "/settings" not in shown.text
        queue_page = (await browser.get(f"/console/queues/{front_desk}")).text
        assert "after 30 min: priority HIGH, move to Tier 2" in queue_page
        assert "escalation-dry-run" not in queue_page
        assert (await browser.get(f"/console/queues/{front_desk}/settings")).status_code == 403
        lower = form("Front desk", {"escalation-0-after": "1", "escalation-0-priority": "LOW"})
        refused = await browser.post(f"/console/queues/{front_desk}/settings", data=lower)
        assert refused.status_code == 403
    assert (await api.get(f"{QUEUES}/{front_desk}")).json()["escalation"][0]["afterSeconds"] == 1800
