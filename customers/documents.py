"""Brazilian documents and contacts: validation and the canonical form we store.

CPF (11 digits) and CNPJ (14 characters: digits, or letters and digits in the new
alphanumeric format) are accepted with or without punctuation and stored bare. Phones are
stored in E.164 with Brazil as the default region; e-mails lower-cased. Every function
raises `InvalidContact` with a message written for the integrator.
"""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext
from validate_docbr import CNPJ, CPF

DOCUMENT_PUNCTUATION = re.compile(r"[\s.\-/]")
DOCUMENT_CHARACTERS = re.compile(r"^[0-9A-Z]+$")
PHONE_REGION = "BR"

_cpf = CPF()
_cnpj = CNPJ()


class InvalidContact(ValueError):
    """A document, phone or e-mail that cannot be accepted."""


def normalize_document(value: str) -> str:
    """The bare CPF or CNPJ, validated by its check digits."""
    bare = DOCUMENT_PUNCTUATION.sub("", str(value)).upper()
    if not bare or not DOCUMENT_CHARACTERS.match(bare):
        raise InvalidContact(
            gettext(
                "Invalid CPF/CNPJ: use 11 digits (CPF) or 14 characters (CNPJ), with or without punctuation."
            )
        )
    if len(bare) == 11 and bare.isdigit():
        valid = _cpf.validate(bare)
    elif len(bare) == 14:
        valid = _cnpj.validate(bare)
    else:
        raise InvalidContact(
            gettext("Invalid CPF/CNPJ: expected 11 digits (CPF) or 14 characters (CNPJ), got %(length)s.")
            % {"length": len(bare)}
        )
    if not valid:
        raise InvalidContact(gettext("Invalid CPF/CNPJ: check digits do not match."))
    return bare


def format_document(bare: str | None) -> str:
    """`53933515009` → `539.335.150-09`; CNPJs as `12.ABC.345/01DE-35`."""
    if not bare:
        return ""
    if len(bare) == 11:
        return f"{bare[:3]}.{bare[3:6]}.{bare[6:9]}-{bare[9:]}"
    if len(bare) == 14:
        return f"{bare[:2]}.{bare[2:5]}.{bare[5:8]}/{bare[8:12]}-{bare[12:]}"
    return bare


def normalize_phone(value: str) -> str:
    """E.164 (`(11) 98765-4321` → `+5511987654321`); Brazil unless a country code is given."""
    try:
        number = phonenumbers.parse(str(value), PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidContact(
            gettext("Invalid phone number: include the area code, e.g. (11) 98765-4321 or +55 11 98765-4321.")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str) -> str:
    email = str(value).strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidContact(gettext("Invalid e-mail address.")) from None
    return email
