"""/people/2/persons: customers and leads. A person's attributes are the `customer.*` facts of
routing; a conversation finds its person by `customer {identifier, type}` or by its `from`."""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.deps import SessionDep
from api.errors import ApiError, bad_request, not_found
from api.paging import order_by_param, parse_paging
from api.schemas import ApiInput, ApiModel, IsoTime, Pagination, UtcTime, pagination, read_only, strip_space
from domain.models import IdentifierType, PersonType, utcnow
from store import people as people_store
from store.people import EMAIL, PHONE, Contact
from store.tables import PersonContactRow, PersonRow

router = APIRouter(prefix="/people/2/persons", tags=["people"])

MAX_TAGS = 50
MAX_CUSTOM_ATTRIBUTES = 50
MAX_CUSTOM_STRING = 1000
MAX_CONTACTS = 10  # of each kind
CONFLICT_TEXT = "Another person already has this identifier"

Text = Annotated[str, StringConstraints(min_length=1, max_length=255)]


def _valid_phone(value: str) -> str:
    value = value.strip()
    problem = people_store.phone_problem(value)
    if problem:
        raise PydanticCustomError("phone_number", problem)
    return value


def _valid_email(value: str) -> str:
    # The document's maxLength counts what was sent, surrounding whitespace too.
    problem = people_store.email_problem(value.strip())
    if len(value) > people_store.MAX_EMAIL_LENGTH:
        problem = f"must be at most {people_store.MAX_EMAIL_LENGTH} characters"
    if problem:
        raise PydanticCustomError("email_address", problem)
    return value.strip()


def _deduplicated(tags: list[str]) -> list[str]:
    """Each tag once, as trimmed: this runs before ApiInput trims the list, so " vip" and "vip"
    would otherwise both be kept (and routing's `customer.tags` hold "vip" twice)."""
    return list(dict.fromkeys(strip_space(tag) for tag in tags))


# The document says what _valid_phone and _valid_email enforce (around optional whitespace).
PHONE_PATTERN = (r"^\s*\+?[ ()./-]*(?:[0-9][ ()./-]*)"
                 f"{{{people_store.MIN_PHONE_DIGITS},{people_store.MAX_PHONE_DIGITS}}}" r"\s*$")
EMAIL_PATTERN = r"^\s*[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)*\s*$"
PhoneNumber = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_valid_phone),
    Field(json_schema_extra={"pattern": PHONE_PATTERN}),
]
EmailAddress = Annotated[
    str, StringConstraints(min_length=1), AfterValidator(_valid_email),
    Field(json_schema_extra={"pattern": EMAIL_PATTERN, "maxLength": people_store.MAX_EMAIL_LENGTH}),
]
Tags = Annotated[list[Text], Field(max_length=MAX_TAGS), AfterValidator(_deduplicated)]


class PhoneIn(ApiInput):
    number: PhoneNumber


class EmailIn(ApiInput):
    address: EmailAddress


class ContactInformationIn(ApiInput):
    phone: list[PhoneIn] = Field(default_factory=list, max_length=MAX_CONTACTS)
    email: list[EmailIn] = Field(default_factory=list, max_length=MAX_CONTACTS)


class PersonIn(ApiInput):
    """POST and PUT take every field (an omitted one gets its default); PATCH the same model,
    applying only the fields given."""

    external_id: Text | None = None
    type: PersonType = PersonType.CUSTOMER
    first_name: Text | None = None
    last_name: Text | None = None
    country: Text | None = None
    city: Text | None = None
    preferred_language: Text | None = None
    tags: Tags = Field(default_factory=list)
    # Checked by _custom_attribute_errors, so each problem is reported at its own key.
    custom_attributes: dict[str, Any] = Field(default_factory=dict, max_length=MAX_CUSTOM_ATTRIBUTES)
    contact_information: ContactInformationIn = Field(default_factory=ContactInformationIn)
    # A fetched person sent back: its answer-only fields are tolerated and ignored.
    id: str | None = read_only()
    created_at: IsoTime | None = read_only()
    modified_at: IsoTime | None = read_only()


class PhoneOut(ApiModel):
    number: str


class EmailOut(ApiModel):
    address: str


class ContactInformationOut(ApiModel):
    phone: list[PhoneOut]
    email: list[EmailOut]


class PersonOut(ApiModel):
    id: str
    external_id: str | None
    type: PersonType
    first_name: str | None
    last_name: str | None
    country: str | None
    city: str | None
    preferred_language: str | None
    tags: list[str]
    custom_attributes: dict[str, Any]
    contact_information: ContactInformationOut
    created_at: UtcTime
    modified_at: UtcTime


class PersonListOut(ApiModel):
    persons: list[PersonOut]
    pagination: Pagination


def person_out(row: PersonRow, contacts: list[PersonContactRow]) -> PersonOut:
    return PersonOut.of(
        row,
        tags=list(row.tags),
        custom_attributes=dict(row.custom_attributes),
        contact_information=ContactInformationOut(
            phone=[PhoneOut(number=c.value) for c in contacts if c.kind == PHONE],
            email=[EmailOut(address=c.value) for c in contacts if c.kind == EMAIL],
        ),
    )


def _out(session: Session, row: PersonRow) -> PersonOut:
    return person_out(row, people_store.contacts_of(session, [row.id])[row.id])


def _person(session: Session, person_id: str) -> PersonRow:
    row = session.get(PersonRow, person_id)
    if row is None:
        raise not_found("Person")
    return row


# --- checks beyond the model ------------------------------------------------------------------


def _custom_value_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return None if len(value) <= MAX_CUSTOM_STRING else f"must be at most {MAX_CUSTOM_STRING} characters"
    if isinstance(value, (bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "must be a finite number"
    return "must be a string, a number or a boolean"


def _custom_attribute_errors(attributes: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, value in attributes.items():
        problems = []
        if not people_store.is_custom_attribute_name(name):
            problems.append("name must be 1 to 100 letters, digits, '_' or '-'")
        problem = _custom_value_problem(value)
        if problem:
            problems.append(problem)
        if problems:
            errors[f"customAttributes.{name}"] = problems
    return errors


def _contacts(info: ContactInformationIn) -> list[Contact]:
    """Phones then emails, normalised; a repeat of one already given is dropped, as tags are."""
    contacts: list[Contact] = []
    seen: set[tuple[str, str]] = set()
    given = [(PHONE, i, p.number) for i, p in enumerate(info.phone)]
    given += [(EMAIL, i, e.address) for i, e in enumerate(info.email)]
    for kind, index, value in given:
        normalize = people_store.normalize_phone if kind == PHONE else people_store.normalize_email
        normalized = normalize(value)
        if normalized is None or (kind, normalized) in seen:  # None: the model has refused it
            continue
        seen.add((kind, normalized))
        contacts.append(Contact(kind=kind, value=value, normalized=normalized, index=index))
    return contacts


def _conflicts(
    session: Session, person_id: str, external_id: str | None, contacts: list[Contact] | None
) -> dict[str, list[str]]:
    """Every identifier given that belongs to another person, by the field that gave it."""
    errors: dict[str, list[str]] = {}
    if external_id is not None:
        owner = people_store.external_id_owner(session, external_id)
        if owner is not None and owner != person_id:
            errors["externalId"] = ["already belongs to another person"]
    for contact in contacts or []:
        owner = people_store.contact_owner(session, contact.kind, contact.normalized)
        if owner is not None and owner != person_id:
            errors[contact.field] = ["already belongs to another person"]
    return errors


def _write(session: Session, row: PersonRow, body: PersonIn, fields: set[str]) -> None:
    """Applies `fields` of `body` to `row` in one transaction; a refusal writes nothing. The
    caller has set `row.modified_at`."""
    if "custom_attributes" in fields:
        errors = _custom_attribute_errors(body.custom_attributes)
        if errors:
            raise ApiError(400, "Bad request", errors)
    person_id = row.id
    contacts = _contacts(body.contact_information) if "contact_information" in fields else None
    external_id = body.external_id if "external_id" in fields else None
    conflicts = _conflicts(session, person_id, external_id, contacts)
    if conflicts:
        raise ApiError(409, CONFLICT_TEXT, conflicts)
    values = body.model_dump(mode="json", include=fields - {"contact_information"})
    for key, value in values.items():
        setattr(row, key, value)
    try:
        session.add(row)
        if contacts is not None:
            people_store.replace_contacts(session, person_id, contacts)
        session.commit()
    except IntegrityError as error:
        # Another request took one of these identifiers between our check and our write;
        # after the rollback its row is visible, so the check names the field.
        session.rollback()
        raise ApiError(409, CONFLICT_TEXT, _conflicts(session, person_id, external_id, contacts) or None) from error


# --- routes -----------------------------------------------------------------------------------


@router.get("", response_model=PersonListOut | PersonOut)
def list_persons(
    session: SessionDep,
    identifier: str | None = Query(default=None, min_length=1, max_length=255),
    identifier_type: IdentifierType | None = Query(default=None, alias="type"),
    page: int = 0,
    limit: int = 20,
    order_by: str | None = order_by_param(["createdAt", "modifiedAt", "lastName"]),
):
    """A page of persons; or, with `identifier` and `type`, the one person they name."""
    if identifier is not None or identifier_type is not None:
        if identifier is None:
            raise bad_request("identifier", "is required with type")
        if identifier_type is None:
            raise bad_request("type", "is required with identifier")
        row = people_store.find_person(session, identifier, identifier_type.value)
        if row is None:
            raise not_found("Person")
        return _out(session, row).model_dump(by_alias=True)
    orderable = {
        "createdAt": PersonRow.created_at,
        "modifiedAt": PersonRow.modified_at,
        "lastName": PersonRow.last_name,
    }
    paging = parse_paging(page, limit, order_by, set(orderable), "createdAt:asc")
    query = select(PersonRow)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    column = col(orderable[paging.field])
    rows = session.exec(
        # Persons without a last name come last either way, on SQLite as on PostgreSQL.
        query.order_by(
            column.is_(None), column.desc() if paging.descending else column.asc(), PersonRow.id
        )
        .offset(paging.offset)
        .limit(paging.limit)
    ).all()
    contacts = people_store.contacts_of(session, [row.id for row in rows])
    return {
        "persons": [person_out(row, contacts[row.id]).model_dump(by_alias=True) for row in rows],
        "pagination": pagination(total, paging.page, paging.limit, paging.order_by),
    }


@router.post("", status_code=201, response_model=PersonOut)
def create_person(body: PersonIn, session: SessionDep) -> PersonOut:
    now = utcnow()
    row = PersonRow(id=str(uuid.uuid4()), created_at=now, modified_at=now)
    _write(session, row, body, set(PersonIn.model_fields))
    return _out(session, row)


@router.get("/{person_id}", response_model=PersonOut)
def get_person(person_id: str, session: SessionDep) -> PersonOut:
    return _out(session, _person(session, person_id))


@router.put("/{person_id}", response_model=PersonOut)
def replace_person(person_id: str, body: PersonIn, session: SessionDep) -> PersonOut:
    """Every writable field: one omitted takes its default; the contacts are replaced."""
    row = _person(session, person_id)
    row.modified_at = utcnow()
    _write(session, row, body, set(PersonIn.model_fields))
    return _out(session, row)


@router.patch("/{person_id}", response_model=PersonOut)
def update_person(person_id: str, body: PersonIn, session: SessionDep) -> PersonOut:
    """Only the fields given; `contactInformation`, when given, replaces all the contacts."""
    row = _person(session, person_id)
    row.modified_at = utcnow()
    _write(session, row, body, set(body.model_fields_set))
    return _out(session, row)


@router.delete(
    "/{person_id}", status_code=204, response_class=Response
)
def delete_person(person_id: str, session: SessionDep) -> Response:
    """The person and its contacts, which are then free for another person."""
    people_store.delete_person(session, _person(session, person_id))
    session.commit()
    return Response(status_code=204)
