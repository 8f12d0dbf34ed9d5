"""The `customer.*` facts routing takes from a person, and the normalisation look-ups rely on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.expressions import ATTRIBUTES, CUSTOM_ATTRIBUTE_PREFIX, compile_expression
from store.people import customer_facts, normalize_email, normalize_phone
from store.tables import PersonRow

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def person(**fields) -> PersonRow:
    return PersonRow(id="8d0c7a52-8a4e-4c4e-9d6f-0f1b2c3d4e5f", created_at=NOW, modified_at=NOW, **fields)


FULL = dict(
    external_id="crm-1",
    type="LEAD",
    first_name="Ana",
    last_name="Horvat",
    country="Croatia",
    city="Zagreb",
    preferred_language="hr",
    tags=["vip", "gold"],
    custom_attributes={"tier": "platinum", "score": 42, "ratio": 0.5, "verified": True, "a-b_C9": ""},
)


def test_a_full_person_gives_every_customer_fact_and_nothing_else():
    assert customer_facts(person(**FULL)) == {
        "customer.country": "Croatia",
        "customer.city": "Zagreb",
        "customer.preferredLanguage": "hr",
        "customer.type": "LEAD",
        "customer.tags": ["vip", "gold"],
        "customer.customAttributes.tier": "platinum",
        "customer.customAttributes.score": 42,
        "customer.customAttributes.ratio": 0.5,
        "customer.customAttributes.verified": True,
        "customer.customAttributes.a-b_C9": "",
    }


def test_a_sparse_person_leaves_missing_values_out():
    facts = customer_facts(person())
    assert facts == {"customer.type": "CUSTOMER", "customer.tags": []}
    for name in ("customer.country", "customer.city", "customer.preferredLanguage"):
        assert name not in facts


def test_no_person_gives_no_facts():
    assert customer_facts(None) == {}


def test_facts_do_not_share_the_rows_tag_list():
    row = person(tags=["vip"])
    customer_facts(row)["customer.tags"].append("changed")
    assert row.tags == ["vip"]


def test_a_custom_attribute_name_no_expression_could_name_is_left_out():
    # The API refuses such names; a row written some other way must not add an attribute.
    facts = customer_facts(person(custom_attributes={"has space": 1, "x" * 101: 2, "ok": 3}))
    assert [name for name in facts if name.startswith(CUSTOM_ATTRIBUTE_PREFIX)] == [
        "customer.customAttributes.ok"
    ]


def test_every_fact_a_person_can_give_compiles_in_an_expression():
    facts = customer_facts(person(**FULL))
    assert {name for name in facts if not name.startswith(CUSTOM_ATTRIBUTE_PREFIX)} == {
        name for name in ATTRIBUTES if name.startswith("customer.")
    }
    for name in facts:
        predicate = compile_expression({"$exists": {name: True}})
        assert predicate(facts), name
        assert not predicate(customer_facts(None)), name


def test_facts_drive_a_routing_expression():
    predicate = compile_expression({"$and": [
        {"$in": {"customer.country": ["Croatia", "Spain"]}},
        {"$contains": {"customer.tags": "vip"}},
        {"$gte": {"customer.customAttributes.score": 40}},
        {"$eq": {"customer.customAttributes.verified": True}},
    ]})
    assert predicate(customer_facts(person(**FULL)))
    assert not predicate(customer_facts(person(**{**FULL, "tags": ["gold"]})))
    assert not predicate(customer_facts(None))


@pytest.mark.parametrize(
    "given, normalised",
    [
        ("+385 91 234-5678", "+385912345678"),
        ("+385912345678", "+385912345678"),
        ("  (091) 234.5678 ", "0912345678"),
        ("385/91/234", "38591234"),
        ("12345", "12345"),
        ("+" + "1" * 20, "+" + "1" * 20),
    ],
)
def test_a_phone_number_is_normalised_to_a_leading_plus_and_its_digits(given, normalised):
    assert normalize_phone(given) == normalised


@pytest.mark.parametrize(
    "given",
    ["", "1234", "1" * 21, "+385 91 CALL-ME", "385+91234567", "++38591234567", "abc", "+", "12345x"],
)
def test_what_is_not_a_phone_number_normalises_to_none(given):
    assert normalize_phone(given) is None


def test_an_email_is_normalised_to_lower_case():
    assert normalize_email(" Ana.Horvat@Example.COM ") == "ana.horvat@example.com"


@pytest.mark.parametrize(
    "given", ["", "ana", "ana@", "@example.com", "ana@@example.com", "ana horvat@example.com",
              "ana@example..com", "a@" + "b" * 253]
)
def test_what_is_not_an_email_normalises_to_none(given):
    assert normalize_email(given) is None
