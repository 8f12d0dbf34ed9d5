"""Agents (a supervisor's pages): the list, create (the key shown once), edit, enable or
disable (agents are disabled, not deleted, so timelines keep naming them), status, queue
membership, skills (console.skill_rows) and key rotation."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Depends, Request

from console.client import Api, Refusal, api
from console.forms import act, form_values, item_errors, key_page, optional, whole_number
from console.render import page
from console.session import check_csrf, console_user, require_supervisor
from console.skill_rows import HELD, held_body, held_rows, posted
from console.skill_rows import shown as posted_rows
from domain.models import AgentStatus, Role

router = APIRouter(dependencies=[Depends(console_user), Depends(check_csrf), Depends(require_supervisor)])
AGENTS = "/ccaas/1/agents"
# PUT replaces an agent: the fields a form does not hold are sent back as they are.
AGENT_FIELDS = ("displayName", "email", "role", "status", "enabled")
ROLES = [(role.value, role.value.capitalize()) for role in Role]
STATUSES = [(status.value, status.value.capitalize()) for status in AgentStatus]


def edited(values: dict[str, str]) -> dict[str, str | int | None]:
    """The form's fields as the API's body: an empty email box is no email (null: none at
    creation, and PUT clears it), as Infobip's AgentRequest has none. An empty capacity box is
    the installation's default. The edit form shows the capacity in force (the API does not say
    whether it is the agent's own or the default), so it is sent only when changed there."""
    body: dict[str, str | int | None] = {
        "displayName": values.get("displayName", "").strip(), "email": optional(values, "email"),
        "role": values.get("role", "").strip()}
    capacity = whole_number(values, "maxConversations")
    if "shownMaxConversations" in values:  # the edit form
        changed = values.get("maxConversations", "").strip() != values["shownMaxConversations"]
    else:
        changed = capacity is not None
    if changed:
        body["maxConversations"] = capacity
    return body


def shown(agent: dict) -> dict[str, str]:
    """The agent's fields as the edit form shows them (no email: an empty box)."""
    return {field: str(agent.get(field) or "") for field in ("displayName", "email", "role")} | {
        "maxConversations": str(agent["maxConversations"])}


async def agents_page(request: Request, client: Api, refusal: Refusal | None = None,
                      values: dict[str, str] | None = None):
    return page(request, "directory_agents.html", status_code=refusal.status if refusal else 200,
                title="Agents", section="agents", agents=await client.read_all(AGENTS, "agents"),
                roles=ROLES, refusal=refusal, values={"role": Role.AGENT.value} | (values or {}))


async def agent_page(request: Request, client: Api, agent_id: str, refusal: Refusal | None = None,
                     values: dict[str, str] | None = None):
    agent = await client.read(f"{AGENTS}/{agent_id}")
    memberships = (await client.read(f"{AGENTS}/{agent_id}/queues"))["queues"]
    member_of = {queue["id"] for queue in memberships}
    queues = await client.read_all("/ccaas/1/queues", "queues")
    skills = (await client.read(f"{AGENTS}/{agent_id}/skills"))["skills"]
    posted_skills = posted_rows(values, "skills", HELD)
    return page(
        request, "directory_agent.html", status_code=refusal.status if refusal else 200,
        title=agent["displayName"], section="agents", agent=agent, memberships=memberships,
        queue_choices=[(queue["id"], queue["name"]) for queue in queues if queue["id"] not in member_of],
        roles=ROLES, statuses=STATUSES, refusal=refusal, values=shown(agent) | (values or {}),
        skills=skills, held_skill_rows=held_rows(skills) if posted_skills is None else posted_skills,
        skill_errors=item_errors(refusal, "skills"),
    )


async def replaced(client: Api, agent_id: str, **changes) -> dict:
    """The agent's whole body for PUT, with `changes`."""
    agent = await client.read(f"{AGENTS}/{agent_id}")
    return {field: agent[field] for field in AGENT_FIELDS} | changes


async def change(request: Request, client: Api, agent_id: str, method: str, path: str, body=lambda values: None):
    """One change on the agent's page; a refusal is shown on that page."""
    return await act(request, client, method, path, partial(agent_page, request, client, agent_id),
                     body=body, done=f"/console/agents/{agent_id}")


@router.get("/console/agents")
async def show_agents(request: Request, client: Api = Depends(api)):
    return await agents_page(request, client)


@router.post("/console/agents")
async def create_agent(request: Request, client: Api = Depends(api)):
    return await act(request, client, "POST", AGENTS, partial(agents_page, request, client), body=edited,
                     done=key_page(request, client, "agent"))


@router.get("/console/agents/{agent_id}")
async def show_agent(request: Request, agent_id: str, client: Api = Depends(api)):
    return await agent_page(request, client, agent_id)


@router.post("/console/agents/{agent_id}/edit")
async def edit_agent(request: Request, agent_id: str, client: Api = Depends(api)):
    current = await replaced(client, agent_id)
    return await change(request, client, agent_id, "PUT", f"{AGENTS}/{agent_id}",
                        lambda values: current | edited(values))


@router.post("/console/agents/{agent_id}/enabled")
async def enable_agent(request: Request, agent_id: str, client: Api = Depends(api)):
    body = await replaced(client, agent_id, enabled=(await form_values(request)).get("enabled") == "true")
    return await change(request, client, agent_id, "PUT", f"{AGENTS}/{agent_id}", lambda values: body)


@router.post("/console/agents/{agent_id}/status")
async def set_status(request: Request, agent_id: str, client: Api = Depends(api)):
    return await change(request, client, agent_id, "PUT", f"{AGENTS}/{agent_id}/status",
                        lambda values: {"status": values.get("status", "")})


@router.post("/console/agents/{agent_id}/queues")
async def add_to_queue(request: Request, agent_id: str, client: Api = Depends(api)):
    return await change(request, client, agent_id, "POST", f"{AGENTS}/{agent_id}/queues",
                        lambda values: {"queueId": values.get("queueId", "")})


@router.post("/console/agents/{agent_id}/queues/{queue_id}/remove")
async def remove_from_queue(request: Request, agent_id: str, queue_id: str, client: Api = Depends(api)):
    return await change(request, client, agent_id, "DELETE", f"{AGENTS}/{agent_id}/queues/{queue_id}")


@router.post("/console/agents/{agent_id}/skills")
async def set_skills(request: Request, agent_id: str, client: Api = Depends(api)):
    """The whole list, as the API's PUT replaces it: the rows, without the one whose Remove was pressed."""
    def body(values: dict[str, str]) -> dict:
        return {"skills": held_body(posted(values, "skills", HELD, optional(values, "remove")))}

    return await change(request, client, agent_id, "PUT", f"{AGENTS}/{agent_id}/skills", body)


@router.post("/console/agents/{agent_id}/api-key")
async def rotate_key(request: Request, agent_id: str, client: Api = Depends(api)):
    return await act(request, client, "POST", f"{AGENTS}/{agent_id}/api-key",
                     partial(agent_page, request, client, agent_id),
                     done=key_page(request, client, "agent", agent_id))
