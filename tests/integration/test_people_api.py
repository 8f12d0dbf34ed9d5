"""People over HTTP: /people/2/persons against the real API and database, and the look-up
routing uses to find the person a conversation is with."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from store.db import session_scope
from store.people import customer_facts, find_person, person_for_conversation
from store.tables import PersonContactRow, PersonRow
from tests.helpers import assert_error, unique

PERSONS = "/people/2/persons"
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PERSON_FIELDS = {
    "id", "externalId", "type", "firstName", "lastName", "country", "city", "preferredLanguage",
    "tags", "customAttributes", "contactInformation", "createdAt", "modifiedAt",
}


def parse_time(value: str) -> datetime:
    assert TIME.match(value), value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def unique_phone() -> tuple[str, str]:
    """A Croatian mobile number never used by another test: as written, and normalised."""
    digits = f"{uuid.uuid4().int % 10**7:07d}"
    return f"+385 91 {digits[:3]}-{digits[3:]}", f"+38591{digits}"


def unique_email() -> str:
    return f"{unique('ana')}@Example.COM"


async def create_person(http, **fields: Any) -> dict[str, Any]:
    response = await http.post(PERSONS, json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def get_person(http, person_id: str) -> dict[str, Any]:
    response = await http.get(f"{PERSONS}/{person_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def total(http) -> int:
    response = await http.get(PERSONS)
    assert response.status_code == 200, response.text
    return response.json()["pagination"]["totalItems"]


async def contact_rows(stack) -> int:
    with session_scope(stack.engine) as session:
        return len(session.exec(select(PersonContactRow)).all())


async def look_up(http, identifier: str, type: str):
    return await http.get(PERSONS, params={"identifier": identifier, "type": type})


def full_person() -> dict[str, Any]:
    phone, _ = unique_phone()
    return {
        "externalId": unique("crm"),
        "type": "LEAD",
        "firstName": "Ana",
        "lastName": "Horvat",
        "country": "Croatia",
        "city": "Zagreb",
        "preferredLanguage": "hr",
        "tags": ["vip", "gold", "vip"],
        "customAttributes": {"tier": "platinum", "score": 42, "ratio": 0.5, "verified": True},
        "contactInformation": {"phone": [{"number": phone}], "email": [{"address": unique_email()}]},
    }


# --- create, read, list -----------------------------------------------------------------------


async def test_create_with_nothing_returns_every_field_with_defaults(stack):
    before = datetime.now(UTC)
    person = await create_person(stack.http)

    assert set(person) == PERSON_FIELDS
    assert UUID.fullmatch(person["id"])
    assert person["type"] == "CUSTOMER"
    for field in ("externalId", "firstName", "lastName", "country", "city", "preferredLanguage"):
        assert person[field] is None, field
    assert person["tags"] == []
    assert person["customAttributes"] == {}
    assert person["contactInformation"] == {"phone": [], "email": []}
    created = parse_time(person["createdAt"])
    assert person["modifiedAt"] == person["createdAt"]
    assert abs((created - before).total_seconds()) < 60


async def test_create_keeps_every_field_and_get_returns_the_same(stack):
    body = full_person()
    person = await create_person(stack.http, **body)

    assert person["externalId"] == body["externalId"]
    assert person["type"] == "LEAD"
    assert (person["firstName"], person["lastName"]) == ("Ana", "Horvat")
    assert (person["country"], person["city"], person["preferredLanguage"]) == ("Croatia", "Zagreb", "hr")
    assert person["tags"] == ["vip", "gold"]  # deduplicated, order kept
    assert person["customAttributes"] == body["customAttributes"]
    # Shown as given; matched normalised.
    assert person["contactInformation"] == body["contactInformation"]
    assert await get_person(stack.http, person["id"]) == person


async def test_the_list_pages_and_orders_persons(stack):
    names = ["Adams", "Baker", "Clark"]
    created = [await create_person(stack.http, lastName=name) for name in ["Baker", "Clark", "Adams"]]
    nameless = await create_person(stack.http, firstName="Nameless")

    response = await stack.http.get(PERSONS, params={"orderBy": "lastName:asc", "limit": 2})
    assert response.status_code == 200, response.text
    first = response.json()
    assert first["pagination"] == {"totalItems": 4, "page": 0, "limit": 2, "orderBy": "lastName:asc"}
    assert [p["lastName"] for p in first["persons"]] == names[:2]
    second = (await stack.http.get(PERSONS, params={"orderBy": "lastName:asc", "limit": 2, "page": 1})).json()
    # A person without a last name comes after those with one.
    assert [p["id"] for p in second["persons"]] == [created[1]["id"], nameless["id"]]

    descending = (await stack.http.get(PERSONS, params={"orderBy": "lastName:desc"})).json()
    assert [p["lastName"] for p in descending["persons"]] == [*reversed(names), None]

    default = (await stack.http.get(PERSONS)).json()
    assert default["pagination"]["orderBy"] == "createdAt:asc"
    assert [p["id"] for p in default["persons"]] == [p["id"] for p in [*created, nameless]]
    assert default["persons"][0] == created[0]  # list items are whole persons


@pytest.mark.parametrize(
    "params, field",
    [
        ({"orderBy": "firstName:asc"}, "orderBy"),
        ({"orderBy": "lastName:up"}, "orderBy"),
        ({"limit": 0}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"page": -1}, "page"),
    ],
)
@pytest.mark.sqlite_only
async def test_bad_paging_is_refused_at_its_parameter(stack, params, field):
    assert_error(await stack.http.get(PERSONS, params=params), 400, "BAD_REQUEST", field)


async def test_an_unknown_person_is_404_for_every_method(stack):
    missing = f"{PERSONS}/{uuid.uuid4()}"
    assert_error(await stack.http.get(missing), 404, "NOT_FOUND")
    assert_error(await stack.http.put(missing, json={}), 404, "NOT_FOUND")
    assert_error(await stack.http.patch(missing, json={"city": "Split"}), 404, "NOT_FOUND")
    assert_error(await stack.http.delete(missing), 404, "NOT_FOUND")
    assert await total(stack.http) == 0


# --- look-up by identifier --------------------------------------------------------------------


async def test_look_up_finds_the_person_by_each_identifier_type(stack):
    phone, normalised = unique_phone()
    email = unique_email()
    external_id = unique("crm")
    person = await create_person(
        stack.http,
        externalId=external_id,
        contactInformation={"phone": [{"number": phone}], "email": [{"address": email}]},
    )
    await create_person(stack.http, **full_person())  # someone else, never found below

    for identifier, type in [
        (normalised, "PHONE"),
        (phone, "PHONE"),
        (email.upper(), "EMAIL"),
        (email.lower(), "EMAIL"),
        (external_id, "EXTERNAL_ID"),
        (person["id"], "ID"),
    ]:
        response = await look_up(stack.http, identifier, type)
        assert response.status_code == 200, (identifier, type, response.text)
        assert response.json() == person, (identifier, type)


async def test_look_up_of_nobody_is_404(stack):
    phone, normalised = unique_phone()
    email = unique_email()
    person = await create_person(
        stack.http, externalId=unique("crm"),
        contactInformation={"phone": [{"number": phone}], "email": [{"address": email}]},
    )
    for identifier, type in [
        (normalised[1:], "PHONE"),  # without its "+": another number
        ("not a number", "PHONE"),
        (f"x{email}", "EMAIL"),
        (person["externalId"].upper(), "EXTERNAL_ID"),  # external ids match exactly
        (email, "EXTERNAL_ID"),
        (str(uuid.uuid4()), "ID"),
    ]:
        assert_error(await look_up(stack.http, identifier, type), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "params, field",
    [
        ({"type": "PHONE"}, "identifier"),
        ({"identifier": "+385912345678"}, "type"),
        ({"identifier": "+385912345678", "type": "FAX"}, "type"),
        ({"identifier": "", "type": "PHONE"}, "identifier"),
    ],
)
@pytest.mark.sqlite_only
async def test_a_half_or_bad_look_up_is_refused_at_its_parameter(stack, params, field):
    assert_error(await stack.http.get(PERSONS, params=params), 400, "BAD_REQUEST", field)


# --- PUT and PATCH ----------------------------------------------------------------------------


async def test_put_replaces_every_field_and_omitted_ones_take_their_defaults(stack):
    person = await create_person(stack.http, **full_person())
    phone, normalised = unique_phone()
    response = await stack.http.put(
        f"{PERSONS}/{person['id']}",
        json={"lastName": "Kovač", "contactInformation": {"phone": [{"number": phone}]}},
    )
    assert response.status_code == 200, response.text
    replaced = response.json()

    assert replaced["id"] == person["id"]
    assert replaced["lastName"] == "Kovač"
    assert replaced["type"] == "CUSTOMER"
    for field in ("externalId", "firstName", "country", "city", "preferredLanguage"):
        assert replaced[field] is None, field
    assert replaced["tags"] == []
    assert replaced["customAttributes"] == {}
    assert replaced["contactInformation"] == {"phone": [{"number": phone}], "email": []}
    assert replaced["createdAt"] == person["createdAt"]
    assert parse_time(replaced["modifiedAt"]) >= parse_time(person["modifiedAt"])
    assert await get_person(stack.http, person["id"]) == replaced
    # The old contacts are gone, the new one is found.
    old_email = person["contactInformation"]["email"][0]["address"]
    assert_error(await look_up(stack.http, old_email, "EMAIL"), 404, "NOT_FOUND")
    assert (await look_up(stack.http, normalised, "PHONE")).json()["id"] == person["id"]
    assert await contact_rows(stack) == 1


async def test_patch_changes_only_the_fields_given(stack):
    body = full_person()
    person = await create_person(stack.http, **body)
    response = await stack.http.patch(
        f"{PERSONS}/{person['id']}", json={"city": "Split", "firstName": None, "tags": ["new"]}
    )
    assert response.status_code == 200, response.text
    patched = response.json()

    assert patched["city"] == "Split"
    assert patched["firstName"] is None  # null clears an optional field
    assert patched["tags"] == ["new"]
    unchanged = PERSON_FIELDS - {"city", "firstName", "tags", "modifiedAt"}
    assert {f: patched[f] for f in unchanged} == {f: person[f] for f in unchanged}
    assert await get_person(stack.http, person["id"]) == patched

    # An empty patch changes nothing but modifiedAt.
    again = (await stack.http.patch(f"{PERSONS}/{person['id']}", json={})).json()
    assert {f: again[f] for f in PERSON_FIELDS - {"modifiedAt"}} == {
        f: patched[f] for f in PERSON_FIELDS - {"modifiedAt"}
    }


async def test_patch_with_contact_information_replaces_all_the_contacts(stack):
    body = full_person()
    person = await create_person(stack.http, **body)
    old_phone = body["contactInformation"]["phone"][0]["number"]
    new_email = unique_email()

    response = await stack.http.patch(
        f"{PERSONS}/{person['id']}", json={"contactInformation": {"email": [{"address": new_email}]}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["contactInformation"] == {"phone": [], "email": [{"address": new_email}]}
    assert_error(await look_up(stack.http, old_phone, "PHONE"), 404, "NOT_FOUND")
    assert (await look_up(stack.http, new_email, "EMAIL")).json()["id"] == person["id"]


async def test_giving_a_person_its_own_identifiers_again_is_no_conflict(stack):
    body = full_person()
    person = await create_person(stack.http, **body)
    phone = body["contactInformation"]["phone"][0]["number"]
    email = body["contactInformation"]["email"][0]["address"]
    same_number_written_otherwise = re.sub(r"[ -]", "", phone)

    response = await stack.http.put(
        f"{PERSONS}/{person['id']}",
        json={
            "externalId": body["externalId"],
            "contactInformation": {
                "phone": [{"number": same_number_written_otherwise}],
                "email": [{"address": email.lower()}],
            },
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["contactInformation"]["phone"] == [{"number": same_number_written_otherwise}]
    assert await contact_rows(stack) == 2


async def test_a_repeated_contact_in_one_request_is_kept_once(stack):
    phone, _ = unique_phone()
    email = unique_email()
    person = await create_person(
        stack.http,
        contactInformation={
            "phone": [{"number": phone}, {"number": re.sub(r"[ -]", "", phone)}],
            "email": [{"address": email}, {"address": email.lower()}],
        },
    )
    assert person["contactInformation"] == {"phone": [{"number": phone}], "email": [{"address": email}]}


# --- delete -----------------------------------------------------------------------------------


async def test_delete_removes_the_person_and_frees_its_identifiers(stack):
    body = full_person()
    person = await create_person(stack.http, **body)
    phone = body["contactInformation"]["phone"][0]["number"]

    response = await stack.http.delete(f"{PERSONS}/{person['id']}")
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_error(await stack.http.get(f"{PERSONS}/{person['id']}"), 404, "NOT_FOUND")
    assert_error(await look_up(stack.http, phone, "PHONE"), 404, "NOT_FOUND")
    assert_error(await stack.http.delete(f"{PERSONS}/{person['id']}"), 404, "NOT_FOUND")
    assert await contact_rows(stack) == 0

    # Its phone, email and external id are free for another person.
    other = await create_person(
        stack.http, externalId=body["externalId"], contactInformation=body["contactInformation"]
    )
    assert (await look_up(stack.http, phone, "PHONE")).json()["id"] == other["id"]


# --- conflicts --------------------------------------------------------------------------------


def taken_by(owner_body: dict[str, Any]) -> list[Any]:
    phone = owner_body["contactInformation"]["phone"][0]["number"]
    email = owner_body["contactInformation"]["email"][0]["address"]
    free_phone, _ = unique_phone()
    written_otherwise = re.sub(r"[ -]", "", phone)
    return [
        # The owner's number written otherwise, second in the list.
        (
            {"contactInformation": {"phone": [{"number": free_phone}, {"number": written_otherwise}]}},
            "contactInformation.phone[1].number",
        ),
        (
            {"contactInformation": {"email": [{"address": email.swapcase()}]}},
            "contactInformation.email[0].address",
        ),
        ({"externalId": owner_body["externalId"], "firstName": "Eve"}, "externalId"),
    ]


async def test_an_identifier_of_another_person_is_409_and_nothing_is_created(stack):
    owner_body = full_person()
    owner = await create_person(stack.http, **owner_body)
    for body, field in taken_by(owner_body):
        assert_error(await stack.http.post(PERSONS, json=body), 409, "CONFLICT", field)
    assert await total(stack.http) == 1
    assert await contact_rows(stack) == 2
    assert await get_person(stack.http, owner["id"]) == owner


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_an_identifier_of_another_person_is_409_and_nothing_is_changed(stack, method):
    owner_body = full_person()
    owner = await create_person(stack.http, **owner_body)
    other = await create_person(stack.http, **full_person())
    for body, field in taken_by(owner_body):
        response = await stack.http.request(method, f"{PERSONS}/{other['id']}", json=body)
        assert_error(response, 409, "CONFLICT", field)
    assert await get_person(stack.http, other["id"]) == other
    assert await get_person(stack.http, owner["id"]) == owner
    assert await contact_rows(stack) == 4


# --- validation -------------------------------------------------------------------------------

INVALID = [
    pytest.param({"nickname": "Ana"}, "nickname", id="unknown field"),
    pytest.param({"contactInformation": {"fax": []}}, "contactInformation.fax", id="unknown contact kind"),
    pytest.param({"contactInformation": {"phone": [{"number": "12345", "kind": "mobile"}]}},
                 "contactInformation.phone[0].kind", id="unknown field in a phone"),
    pytest.param({"tags": [f"t{i}" for i in range(51)]}, "tags", id="too many tags"),
    pytest.param({"tags": ["ok", "x" * 256]}, "tags[1]", id="tag too long"),
    pytest.param({"tags": ["ok", ""]}, "tags[1]", id="empty tag"),
    pytest.param({"customAttributes": {"has space": 1}}, "customAttributes.has space",
                 id="bad attribute key"),
    pytest.param({"customAttributes": {"k" * 101: 1}}, f"customAttributes.{'k' * 101}",
                 id="attribute key too long"),
    pytest.param({"customAttributes": {"address": {"city": "Zagreb"}}}, "customAttributes.address",
                 id="object as attribute value"),
    pytest.param({"customAttributes": {"list": [1, 2]}}, "customAttributes.list",
                 id="list as attribute value"),
    pytest.param({"customAttributes": {"none": None}}, "customAttributes.none",
                 id="null as attribute value"),
    pytest.param({"customAttributes": {"long": "x" * 1001}}, "customAttributes.long",
                 id="attribute string too long"),
    pytest.param({"customAttributes": {f"k{i}": i for i in range(51)}}, "customAttributes",
                 id="too many attributes"),
    pytest.param({"contactInformation": {"email": [{"address": "ana.example.com"}]}},
                 "contactInformation.email[0].address", id="bad email"),
    pytest.param({"contactInformation": {"email": [{"address": "a@" + "b" * 253}]}},
                 "contactInformation.email[0].address", id="email too long"),
    pytest.param({"contactInformation": {"phone": [{"number": "12345"}, {"number": "+385 91 CALL-ME"}]}},
                 "contactInformation.phone[1].number", id="phone with letters"),
    pytest.param({"contactInformation": {"phone": [{"number": "1234"}]}},
                 "contactInformation.phone[0].number", id="phone too short"),
    pytest.param({"contactInformation": {"phone": [{"number": f"{10000 + i}"} for i in range(11)]}},
                 "contactInformation.phone", id="too many phones"),
    pytest.param({"type": "PARTNER"}, "type", id="wrong type"),
    pytest.param({"type": None}, "type", id="null type"),
    pytest.param({"tags": None}, "tags", id="null tags"),
    pytest.param({"firstName": "x" * 256}, "firstName", id="256-char firstName"),
    pytest.param({"lastName": "  "}, "lastName", id="blank lastName"),
    pytest.param({"externalId": ""}, "externalId", id="empty externalId"),
    pytest.param({"country": 42}, "country", id="number as country"),
]


@pytest.mark.parametrize("body, field", INVALID)
@pytest.mark.sqlite_only
async def test_a_bad_person_is_refused_at_its_field_and_nothing_is_written(stack, body, field):
    assert_error(await stack.http.post(PERSONS, json=body), 400, "BAD_REQUEST", field)
    assert await total(stack.http) == 0
    assert await contact_rows(stack) == 0


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize(
    "body, field",
    [
        ({"customAttributes": {"address": {"city": "Zagreb"}}}, "customAttributes.address"),
        ({"contactInformation": {"phone": [{"number": "call me"}]}}, "contactInformation.phone[0].number"),
        ({"firstName": "x" * 256}, "firstName"),
        ({"nickname": "Ana"}, "nickname"),
    ],
)
@pytest.mark.sqlite_only
async def test_a_bad_change_is_refused_at_its_field_and_the_person_is_unchanged(stack, method, body, field):
    person = await create_person(stack.http, **full_person())
    response = await stack.http.request(method, f"{PERSONS}/{person['id']}", json=body)
    assert_error(response, 400, "BAD_REQUEST", field)
    assert await get_person(stack.http, person["id"]) == person


# --- who may do what --------------------------------------------------------------------------


async def test_a_bot_key_may_neither_read_nor_change_people(stack):
    response = await stack.http.post("/ccaas/1/bots", json={"displayName": unique("bot")})
    assert response.status_code == 201, response.text
    bot = {"Authorization": f"App {response.json()['apiKey']}"}
    body = full_person()
    person = await create_person(stack.http, **body)
    one = f"{PERSONS}/{person['id']}"

    assert_error(await stack.http.post(PERSONS, json={"firstName": "Eve"}, headers=bot), 403, "FORBIDDEN")
    assert_error(await stack.http.put(one, json={"firstName": "Eve"}, headers=bot), 403, "FORBIDDEN")
    assert_error(await stack.http.patch(one, json={"firstName": "Eve"}, headers=bot), 403, "FORBIDDEN")
    assert_error(await stack.http.delete(one, headers=bot), 403, "FORBIDDEN")
    assert await total(stack.http) == 1
    assert await get_person(stack.http, person["id"]) == person

    # People are personal data: reading them is a supervisor's right too.
    assert_error(await stack.http.get(PERSONS, headers=bot), 403, "FORBIDDEN")
    assert_error(await stack.http.get(one, headers=bot), 403, "FORBIDDEN")
    found = await stack.http.get(
        PERSONS, params={"identifier": body["externalId"], "type": "EXTERNAL_ID"}, headers=bot
    )
    assert_error(found, 403, "FORBIDDEN")


async def test_without_a_key_people_are_401(stack):
    response = await stack.http.get(PERSONS, headers={"Authorization": ""})
    assert_error(response, 401, "UNAUTHORIZED")


# --- the person of a conversation (routing's look-up, on the real database) --------------------


async def test_person_for_conversation_matches_customer_ref_then_from(stack):
    phone, normalised = unique_phone()
    email = unique_email()
    external_id = unique("crm")
    ana = await create_person(
        stack.http, externalId=external_id, country="Croatia", tags=["vip"],
        customAttributes={"tier": "gold"},
        contactInformation={"phone": [{"number": phone}], "email": [{"address": email}]},
    )
    other_phone, other_normalised = unique_phone()
    bob = await create_person(stack.http, contactInformation={"phone": [{"number": other_phone}]})

    def found(identifier, type, from_) -> str | None:
        with session_scope(stack.engine) as session:
            person = person_for_conversation(session, identifier, type, from_)
            return person.id if person is not None else None

    # The conversation's customer reference, by each type; it wins over `from`.
    assert found(external_id, "EXTERNAL_ID", other_normalised) == ana["id"]
    assert found(ana["id"], "ID", None) == ana["id"]
    assert found(normalised, "PHONE", None) == ana["id"]
    assert found(email.upper(), "EMAIL", None) == ana["id"]
    # No customer reference, or one that names nobody: the `from`.
    assert found(None, None, "+385 91 " + normalised[6:]) == ana["id"]
    assert found(None, None, email.lower()) == ana["id"]
    assert found(str(uuid.uuid4()), "ID", other_normalised) == bob["id"]
    assert found(normalised, None, other_normalised) == bob["id"]  # half a reference is none
    # Nobody.
    assert found(None, None, None) is None
    # A channel's number without its "+" is still the person's.
    assert found(None, None, normalised[1:]) == ana["id"]
    assert found(None, None, f"x{email}") is None
    assert found(None, None, "telegram:12") is None
    assert found("nobody", "EXTERNAL_ID", "+1 000 000 0000") is None
    assert found(external_id, "FAX", None) is None

    with session_scope(stack.engine) as session:
        facts = customer_facts(person_for_conversation(session, None, None, phone))
    assert facts == {
        "customer.country": "Croatia",
        "customer.type": "CUSTOMER",
        "customer.tags": ["vip"],
        "customer.customAttributes.tier": "gold",
    }


async def test_find_person_sees_what_the_api_wrote(stack):
    phone, normalised = unique_phone()
    person = await create_person(stack.http, contactInformation={"phone": [{"number": phone}]})
    with session_scope(stack.engine) as session:
        row = find_person(session, normalised, "PHONE")
        assert isinstance(row, PersonRow) and row.id == person["id"]
        stored = session.get(PersonContactRow, ("PHONE", normalised))
        assert stored is not None and stored.value == phone and stored.person_id == person["id"]


async def test_racing_creates_of_one_phone_number_give_it_to_exactly_one_person(stack):
    phone, normalised = unique_phone()
    body = {"contactInformation": {"phone": [{"number": phone}]}}
    responses = await asyncio.gather(*(stack.http.post(PERSONS, json=body) for _ in range(6)))

    assert sorted(r.status_code for r in responses) == [201] + [409] * 5, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "CONFLICT", "contactInformation.phone[0].number")
    winner = next(r.json() for r in responses if r.status_code == 201)
    assert (await look_up(stack.http, normalised, "PHONE")).json()["id"] == winner["id"]
    assert await total(stack.http) == 1
