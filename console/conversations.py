"""A conversation's page: its fields, its customer, its timeline, and the actions its
viewer may take. Every action is one API call; its refusal is shown at its form."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import Principal
from console.client import Answer, Api, Refusal, api
from console.conversation_skills import FIELD, PREFIX, skills_part
from console.forms import CHECK_TEXT, FormProblem, form_values, optional
from console.live import live_page
from console.lookups import agents_by_id, live_queues, queues_by_id
from console.render import page, redirect
from console.session import check_csrf, console_user, require_supervisor
from console.skill_rows import REQUIRED, posted, required_body
from domain.messages import Channel
from domain.models import Priority, Status

router = APIRouter(dependencies=[Depends(console_user), Depends(check_csrf)])
BASE = "/ccaas/1/conversations"
# Closing has its own button (it cannot be undone); the status picker offers the rest.
CHANGEABLE_STATUSES = [status.value for status in Status if status != Status.CLOSED]
# How many of the latest messages the page shows.
SHOWN_MESSAGES = 100


def reply_defaults(conversation: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, str]:
    """Where a reply goes: back the way the customer's last message came, else the
    conversation's own channel and addresses."""
    inbound = [message for message in messages if message["direction"] == "INBOUND"]
    if inbound:
        last = inbound[-1]
        return {"channel": last["channel"], "from": last["to"], "to": last["from"]}
    channel = conversation.get("channel")
    return {"channel": channel if channel in {c.value for c in Channel} else Channel.LIVE_CHAT.value,
            "from": conversation.get("to") or "", "to": conversation.get("from") or ""}


def rule_name(event: dict[str, Any]) -> str | None:
    """The deciding rule's name, as the trace of that decision recorded it."""
    for entry in event.get("trace") or []:
        if entry["routeId"] == event.get("routeId"):
            return entry["name"]
    return None


async def show_conversation(
    request: Request, conversation_id: str, client: Api, principal: Principal,
    refusal=None, failed_action: str | None = None, values: dict[str, str] | None = None,
):
    """The page; after a refused form, its `refusal` at the form of `failed_action`, and the
    form's `values` where the page shows them again (the skills rows)."""
    conversation = await client.read(f"{BASE}/{conversation_id}")
    events = (await client.read(f"{BASE}/{conversation_id}/events"))["events"]
    # The latest messages, shown oldest first.
    listed = await client.read(f"{BASE}/{conversation_id}/messages",
                               {"orderBy": "createdAt:desc", "limit": SHOWN_MESSAGES})
    messages = list(reversed(listed["messages"]))
    queues = await queues_by_id(client, [conversation.get("queueId")]
                                + [e[side] for e in events for side in ("fromQueueId", "toQueueId")])
    customer = None
    if conversation.get("customerId") and principal.is_supervisor:  # People are supervisors' to read
        answer = await client.call("GET", f"/people/2/persons/{conversation['customerId']}")
        customer = answer.body if answer.ok else None
    for event in events:
        event["ruleName"] = rule_name(event)
    agents = await agents_by_id(client)
    # Whom a supervisor may assign: any enabled agent, by name (over capacity too: the API says so).
    assignable = sorted((agent for agent in agents.values() if agent["enabled"]),
                        key=lambda agent: agent["displayName"].lower()) if principal.is_supervisor else []
    routed_by = conversation.get("routedBy") or {}
    deciding_rule = next((event["ruleName"] for event in reversed(events)
                          if event["routeId"] and event["routeId"] == routed_by.get("routeId")), None)
    return page(
        request, "conversation.html", status_code=refusal.status if refusal else 200,
        title=conversation.get("topic") or f"Conversation {conversation_id[:8]}", section="queues",
        conversation=conversation, events=events, queues=queues,
        messages=messages, messages_total=listed["pagination"]["totalItems"],
        reply=reply_defaults(conversation, messages),
        channels=[channel.value for channel in Channel], customer=customer, deciding_rule=deciding_rule,
        live_queues=live_queues(queues), agents=agents, assignable=assignable,
        statuses=CHANGEABLE_STATUSES, priorities=[p.value for p in reversed(Priority)],
        refusal=refusal, failed_action=failed_action,
        **await skills_part(client, conversation, refusal if failed_action == "skills" else None, values),
    )


@router.get("/console/conversations/{conversation_id}", dependencies=[Depends(live_page)])
async def conversation_page(
    request: Request, conversation_id: str,
    principal: Principal = Depends(console_user), client: Api = Depends(api),
):
    return await show_conversation(request, conversation_id, client, principal)


async def show_outcome(request: Request, conversation_id: str, action: str, answer: Answer, client: Api,
                       principal: Principal):
    """Back to the page after a change; the same page with the refusal at the form if not."""
    if not answer.ok:
        return await show_conversation(request, conversation_id, client, principal, answer.refusal, action)
    if not (await client.call("GET", f"{BASE}/{conversation_id}")).ok:
        # Moved out of every queue this agent works in: it is no longer theirs to see.
        return redirect(f"/console?moved={conversation_id}")
    return redirect(f"/console/conversations/{conversation_id}")


@router.post("/console/conversations/{conversation_id}/reroute")
async def reroute(request: Request, conversation_id: str,
                  principal: Principal = Depends(console_user), client: Api = Depends(api)):
    form = await form_values(request)
    change = {"queueId": optional(form, "queueId") or "", "reason": optional(form, "reason")}
    answer = await client.call("PATCH", f"{BASE}/{conversation_id}",
                               json={k: v for k, v in change.items() if v is not None})
    return await show_outcome(request, conversation_id, "reroute", answer, client, principal)


@router.post("/console/conversations/{conversation_id}/route")
async def route_again(request: Request, conversation_id: str,
                      principal: Principal = Depends(console_user), client: Api = Depends(api)):
    answer = await client.call("POST", f"{BASE}/{conversation_id}/route")
    return await show_outcome(request, conversation_id, "route", answer, client, principal)


@router.post("/console/conversations/{conversation_id}/change")
async def change_status_or_priority(request: Request, conversation_id: str,
                 principal: Principal = Depends(console_user), client: Api = Depends(api)):
    form = await form_values(request)
    # Only what the user changed: the other picker may show a value that has moved on since.
    shown = {"status": optional(form, "shownStatus"), "priority": optional(form, "shownPriority")}
    chosen = {name: optional(form, name) for name in shown}
    body = {name: value for name, value in chosen.items() if value and value != shown[name]}
    if not body:
        return redirect(f"/console/conversations/{conversation_id}")
    answer = await client.call("PATCH", f"{BASE}/{conversation_id}", json=body)
    return await show_outcome(request, conversation_id, "change", answer, client, principal)


@router.post("/console/conversations/{conversation_id}/close")
async def close(request: Request, conversation_id: str,
                principal: Principal = Depends(console_user), client: Api = Depends(api)):
    answer = await client.call("PATCH", f"{BASE}/{conversation_id}", json={"status": Status.CLOSED.value})
    return await show_outcome(request, conversation_id, "close", answer, client, principal)


@router.post("/console/conversations/{conversation_id}/assignee")
async def assign(request: Request, conversation_id: str,
                 principal: Principal = Depends(console_user), client: Api = Depends(api)):
    """A supervisor's choice of agent, or an agent taking it for itself (the form names it)."""
    form = await form_values(request)
    answer = await client.call("PUT", f"{BASE}/{conversation_id}/assignee",
                               json={"agentId": optional(form, "agentId") or ""})
    return await show_outcome(request, conversation_id, "assign", answer, client, principal)


@router.post("/console/conversations/{conversation_id}/assignee/remove")
async def unassign(request: Request, conversation_id: str,
                   principal: Principal = Depends(console_user), client: Api = Depends(api)):
    """A supervisor unassigning, or the agent releasing its own."""
    answer = await client.call("DELETE", f"{BASE}/{conversation_id}/assignee")
    return await show_outcome(request, conversation_id, "assign", answer, client, principal)


@router.post("/console/conversations/{conversation_id}/skills")
async def set_required_skills(request: Request, conversation_id: str,
                              principal: Principal = Depends(console_user), client: Api = Depends(api)):
    """Replaces the whole list, as the API's PATCH does (an unchanged requirement keeps its clock)."""
    form = await form_values(request)
    try:
        body = {FIELD: required_body(posted(form, PREFIX, REQUIRED, optional(form, "remove")), FIELD)}
    except FormProblem as problem:  # the API is not asked
        refusal = Refusal(400, CHECK_TEXT, {problem.path: [problem.message]})
        return await show_conversation(request, conversation_id, client, principal, refusal, "skills", form)
    answer = await client.call("PATCH", f"{BASE}/{conversation_id}", json=body)
    if not answer.ok:
        return await show_conversation(request, conversation_id, client, principal, answer.refusal, "skills", form)
    return await show_outcome(request, conversation_id, "skills", answer, client, principal)


@router.post("/console/conversations/{conversation_id}/tags")
async def add_tag(request: Request, conversation_id: str,
                  principal: Principal = Depends(console_user), client: Api = Depends(api)):
    form = await form_values(request)
    answer = await client.call("POST", f"{BASE}/{conversation_id}/tags",
                               json={"tagName": optional(form, "tagName") or ""})
    return await show_outcome(request, conversation_id, "tags", answer, client, principal)


@router.post("/console/conversations/{conversation_id}/tags/remove")
async def remove_tag(request: Request, conversation_id: str,
                     principal: Principal = Depends(console_user), client: Api = Depends(api)):
    form = await form_values(request)
    tag = quote(optional(form, "tagName") or "", safe="")
    answer = await client.call("DELETE", f"{BASE}/{conversation_id}/tags/{tag}")
    return await show_outcome(request, conversation_id, "tags", answer, client, principal)


@router.post("/console/conversations/{conversation_id}/messages")
async def reply(request: Request, conversation_id: str,
                principal: Principal = Depends(console_user), client: Api = Depends(api)):
    """An agent's reply: an OUTBOUND TEXT message (the channel integration sends it on)."""
    form = await form_values(request)
    body = {"channel": optional(form, "channel") or "", "from": optional(form, "from") or "",
            "to": optional(form, "to") or "", "direction": "OUTBOUND", "contentType": "TEXT",
            "content": {"text": optional(form, "text") or ""}}
    answer = await client.call("POST", f"{BASE}/{conversation_id}/messages", json=body)
    return await show_outcome(request, conversation_id, "reply", answer, client, principal)


@router.get("/console/conversations/{conversation_id}/workflow-history",
            dependencies=[Depends(require_supervisor)])
async def download_history(conversation_id: str, client: Api = Depends(api)):
    body = await client.read(f"{BASE}/{conversation_id}/workflow-history")
    return Response(
        json.dumps(body["history"], indent=1), media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{body["workflowId"]}-history.json"'},
    )


@router.get("/console/conversations/{conversation_id}/temporal", dependencies=[Depends(require_supervisor)])
async def open_in_temporal(conversation_id: str, client: Api = Depends(api)):
    """The Temporal Web UI page of this conversation's workflow, as the API names it."""
    body = await client.read(f"{BASE}/{conversation_id}/workflow-history")
    return RedirectResponse(body["temporalUiUrl"], status_code=303)
