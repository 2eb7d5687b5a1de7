"""CPF/CNPJ, phone and e-mail rules."""

import re

import pytest

from customers.documents import (
    InvalidContact,
    format_document,
    normalize_document,
    normalize_email,
    normalize_phone,
)


@pytest.mark.parametrize(
    ("raw", "bare"),
    [
        ("539.335.150-09", "53933515009"),
        ("53933515009", "53933515009"),
        (" 539 335 150 09 ", "53933515009"),
        ("11.222.333/0001-81", "11222333000181"),
        ("11222333000181", "11222333000181"),
        ("12.ABC.345/01DE-35", "12ABC34501DE35"),
        ("12abc34501de35", "12ABC34501DE35"),
    ],
)
def test_valid_documents_are_stored_bare(raw, bare):
    assert normalize_document(raw) == bare


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("539.335.150-00", "check digits do not match"),
        ("11111111111", "check digits do not match"),
        ("11.222.333/0001-80", "check digits do not match"),
        ("5393351500", "expected 11 digits (CPF) or 14 characters (CNPJ), got 10"),
        ("539#335#150-09", "with or without punctuation"),
        ("", "with or without punctuation"),
    ],
)
def test_invalid_documents_say_what_is_wrong(raw, message):
    with pytest.raises(InvalidContact, match=re.escape(message)):
        normalize_document(raw)


def test_documents_format_for_people():
    assert format_document("53933515009") == "539.335.150-09"
    assert format_document("12ABC34501DE35") == "12.ABC.345/01DE-35"


@pytest.mark.parametrize(
    "raw", ["(11) 98765-4321", "11987654321", "+55 11 98765-4321", "011 98765-4321", "+55 (11) 9 8765 4321"]
)
def test_phones_in_any_written_form_become_e164(raw):
    assert normalize_phone(raw) == "+5511987654321"


def test_foreign_phone_keeps_its_country():
    assert normalize_phone("+1 650 253 0000") == "+16502530000"


@pytest.mark.parametrize("raw", ["98765-4321", "12", "not a phone"])
def test_invalid_phones_are_refused(raw):
    with pytest.raises(InvalidContact, match="Invalid phone number"):
        normalize_phone(raw)


def test_emails_are_lower_cased_and_validated():
    assert normalize_email("  Maria@Example.COM ") == "maria@example.com"
    with pytest.raises(InvalidContact):
        normalize_email("maria@")
