"""People (a supervisor's pages: personal data): the list by pages, create, edit, delete.
Lists are typed as text (tags by commas; phones and emails by commas or lines) and custom
attributes as a JSON object; the API's messages about one item show at the input holding it."""

from __future__ import annotations

import json
from functools import partial

from fastapi import APIRouter, Depends, Query, Request

from console.client import Api, Refusal, api
from console.forms import act, folded, json_object, optional, split_list
from console.render import page, pager
from console.session import check_csrf, console_user, require_supervisor
from domain.models import PersonType

router = APIRouter(dependencies=[Depends(console_user), Depends(check_csrf), Depends(require_supervisor)])
PERSONS = "/people/2/persons"
PAGE_SIZE = 20
TEXT_FIELDS = ("firstName", "lastName", "externalId", "country", "city", "preferredLanguage")
TYPES = [(person_type.value, person_type.value.capitalize()) for person_type in PersonType]


def person_body(values: dict[str, str]) -> dict:
    return {field: optional(values, field) for field in TEXT_FIELDS} | {
        "type": values.get("type", ""),
        "tags": split_list(values.get("tags")),
        "customAttributes": json_object(values, "customAttributes", "customAttributes"),
        "contactInformation": {
            "phone": [{"number": number} for number in split_list(values.get("phones"))],
            "email": [{"address": address} for address in split_list(values.get("emails"))],
        },
    }


def person_values(person: dict) -> dict[str, str]:
    """A person as its form shows it."""
    contacts = person["contactInformation"]
    attributes = person["customAttributes"]
    return {field: person[field] or "" for field in TEXT_FIELDS} | {
        "type": person["type"],
        "tags": ", ".join(person["tags"]),
        "phones": "\n".join(phone["number"] for phone in contacts["phone"]),
        "emails": "\n".join(email["address"] for email in contacts["email"]),
        "customAttributes": json.dumps(attributes, indent=2, ensure_ascii=False) if attributes else "",
    }


def person_name(person: dict) -> str:
    name = " ".join(part for part in (person["firstName"], person["lastName"]) if part)
    return name or person["externalId"] or f"Person {person['id'][:8]}"


async def person_page(request: Request, client: Api, person_id: str | None, refusal: Refusal | None = None,
                      values: dict[str, str] | None = None):
    """The form of a new person (no `person_id`) or of one to edit, with the values sent if any."""
    person = await client.read(f"{PERSONS}/{person_id}") if person_id else None
    values = (person_values(person) if person else {"type": PersonType.CUSTOMER.value}) | (values or {})
    # An item's message (phone 2, tag 3, attribute "x") shows at the input holding the list.
    errors = folded(refusal, {
        "tags": split_list(values.get("tags")),
        "contactInformation.phone": split_list(values.get("phones")),
        "contactInformation.email": split_list(values.get("emails")),
        "customAttributes": [],
    })
    return page(request, "directory_person.html", status_code=refusal.status if refusal else 200,
                title=person_name(person) if person else "New person", section="people", person=person,
                types=TYPES, values=values, refusal=refusal, errors=errors)


@router.get("/console/people")
async def show_people(request: Request, page_number: int = Query(default=0, alias="page", ge=0, le=100_000),
                      client: Api = Depends(api)):
    listing = await client.read(PERSONS, {"page": page_number, "limit": PAGE_SIZE, "orderBy": "lastName:asc"})
    total = listing["pagination"]["totalItems"]
    return page(
        request, "directory_people.html", title="People", section="people", persons=listing["persons"],
        total=total, pager=pager("/console/people", {}, page_number, PAGE_SIZE, total),
        person_name=person_name,
    )


@router.get("/console/people/new")
async def new_person(request: Request, client: Api = Depends(api)):
    return await person_page(request, client, None)


@router.post("/console/people")
async def create_person(request: Request, client: Api = Depends(api)):
    return await act(request, client, "POST", PERSONS, partial(person_page, request, client, None),
                     body=person_body, done=lambda answer: f"/console/people/{answer.body['id']}")


@router.get("/console/people/{person_id}")
async def show_person(request: Request, person_id: str, client: Api = Depends(api)):
    return await person_page(request, client, person_id)


@router.post("/console/people/{person_id}/edit")
async def edit_person(request: Request, person_id: str, client: Api = Depends(api)):
    return await act(request, client, "PUT", f"{PERSONS}/{person_id}",
                     partial(person_page, request, client, person_id),
                     body=person_body, done=f"/console/people/{person_id}")


@router.post("/console/people/{person_id}/delete")
async def delete_person(request: Request, person_id: str, client: Api = Depends(api)):
    return await act(request, client, "DELETE", f"{PERSONS}/{person_id}",
                     partial(person_page, request, client, person_id), done="/console/people")
