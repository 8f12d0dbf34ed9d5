"""People queries, and the facts routing takes from the person a conversation belongs to.

A phone number or email is kept twice: as given (shown back) and normalised (matched). The
normalised form is the contact's primary key, so it belongs to at most one person.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from domain.expressions import CUSTOM_ATTRIBUTE_PREFIX
from domain.models import IdentifierType
from store.tables import PersonContactRow, PersonRow

PHONE = "PHONE"
EMAIL = "EMAIL"

MIN_PHONE_DIGITS = 5
MAX_PHONE_DIGITS = 20
MAX_EMAIL_LENGTH = 254

# Digits with the usual separators; a "+" only in front.
_PHONE = re.compile(r"\+?[0-9 ()./-]+")
_NOT_DIGIT = re.compile(r"[^0-9]")
# local@domain: no spaces, one "@", a domain of non-empty dot-separated labels.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)*")
_CUSTOM_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")


def phone_problem(value: str) -> str | None:
    """Why `value` is not a phone number, or None when it is one."""
    if not _PHONE.fullmatch(value):
        return "may hold only digits, spaces, '-', '.', '/', '(', ')' and a leading '+'"
    digits = len(_NOT_DIGIT.sub("", value))
    if not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        return f"must have {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits"
    return None


def normalize_phone(value: str) -> str | None:
    """`+385 91 234-5678` -> `+385912345678`: a leading "+" and the digits; None if not a number."""
    value = value.strip()
    if phone_problem(value) is not None:
        return None
    return ("+" if value.startswith("+") else "") + _NOT_DIGIT.sub("", value)


def email_problem(value: str) -> str | None:
    if len(value) > MAX_EMAIL_LENGTH:
        return f"must be at most {MAX_EMAIL_LENGTH} characters"
    if not _EMAIL.fullmatch(value):
        return "must look like local@domain"
    return None


def normalize_email(value: str) -> str | None:
    """Emails match case-insensitively: the normalised form is lower case."""
    value = value.strip()
    return None if email_problem(value) is not None else value.lower()


def is_custom_attribute_name(name: str) -> bool:
    """A name `customer.customAttributes.<name>` can use in an expression."""
    return bool(_CUSTOM_NAME.fullmatch(name))


@dataclass(frozen=True)
class Contact:
    """A phone number or email to store: `index` is its place in the request, for errors."""

    kind: str
    value: str
    normalized: str
    index: int

    @property
    def field(self) -> str:
        if self.kind == PHONE:
            return f"contactInformation.phone[{self.index}].number"
        return f"contactInformation.email[{self.index}].address"


# --- persons and their contacts ---------------------------------------------------------------


def contacts_of(session: Session, person_ids: Iterable[str]) -> dict[str, list[PersonContactRow]]:
    """Each person's contacts in the order given, phones and emails together."""
    ids = list(set(person_ids))
    found: dict[str, list[PersonContactRow]] = defaultdict(list)
    if not ids:
        return found
    rows = session.exec(
        select(PersonContactRow)
        .where(col(PersonContactRow.person_id).in_(ids))
        .order_by(col(PersonContactRow.person_id), col(PersonContactRow.position))
    ).all()
    for row in rows:
        found[row.person_id].append(row)
    return found


def contact_owner(session: Session, kind: str, normalized: str) -> str | None:
    row = session.get(PersonContactRow, (kind, normalized))
    return row.person_id if row is not None else None


def external_id_owner(session: Session, external_id: str) -> str | None:
    return session.exec(select(PersonRow.id).where(PersonRow.external_id == external_id)).first()


def replace_contacts(session: Session, person_id: str, contacts: list[Contact]) -> None:
    """The person's contacts become exactly `contacts`. The old ones are deleted by a statement,
    at once, so giving a number the person already has does not collide with itself."""
    session.exec(delete(PersonContactRow).where(col(PersonContactRow.person_id) == person_id))
    for position, contact in enumerate(contacts):
        session.add(
            PersonContactRow(
                kind=contact.kind,
                normalized=contact.normalized,
                person_id=person_id,
                value=contact.value,
                position=position,
            )
        )


def delete_person(session: Session, person: PersonRow) -> None:
    session.exec(delete(PersonContactRow).where(col(PersonContactRow.person_id) == person.id))
    session.delete(person)


# --- look-ups for routing ---------------------------------------------------------------------


def find_person(session: Session, identifier: str, type: str) -> PersonRow | None:
    """The person `identifier` names, by `type`: PHONE (normalised number), EMAIL (any case),
    EXTERNAL_ID, or ID (ours). None for no match, a malformed identifier or an unknown type."""
    if not identifier:
        return None
    if type in (PHONE, EMAIL):
        normalized = normalize_phone(identifier) if type == PHONE else normalize_email(identifier)
        if normalized is None:
            return None
        owner = contact_owner(session, type, normalized)
        return session.get(PersonRow, owner) if owner is not None else None
    if type == IdentifierType.EXTERNAL_ID.value:
        return session.exec(select(PersonRow).where(PersonRow.external_id == identifier)).first()
    if type == IdentifierType.ID.value:
        return session.get(PersonRow, identifier)
    return None


def person_for_conversation(
    session: Session, customer_identifier: str | None, customer_type: str | None, from_: str | None
) -> PersonRow | None:
    """Who a conversation is with: its `customer {identifier, type}` first; when that names
    nobody, the person whose phone number or email is the conversation's `from`."""
    if customer_identifier and customer_type:
        person = find_person(session, customer_identifier, customer_type)
        if person is not None:
            return person
    if not from_:
        return None
    if "@" in from_:
        return find_person(session, from_, EMAIL)
    # Channels often send numbers without the "+" (e.g. 385912345678): try both forms.
    return find_person(session, from_, PHONE) or (
        find_person(session, "+" + from_.strip(), PHONE) if not from_.strip().startswith("+") else None
    )


def customer_facts(person: PersonRow | None) -> dict[str, Any]:
    """The `customer.*` facts of routing (names as in domain.expressions); None values are left
    out, so `$exists` tells a missing value. {} when the conversation has no known person."""
    if person is None:
        return {}
    facts: dict[str, Any] = {
        "customer.country": person.country,
        "customer.city": person.city,
        "customer.preferredLanguage": person.preferred_language,
        "customer.type": person.type,
        "customer.tags": list(person.tags or []),
    }
    for name, value in (person.custom_attributes or {}).items():
        # The API admits only such names; a row written otherwise must not add an attribute
        # that no expression could name.
        if isinstance(name, str) and is_custom_attribute_name(name):
            facts[CUSTOM_ATTRIBUTE_PREFIX + name] = value
    return {name: value for name, value in facts.items() if value is not None}
