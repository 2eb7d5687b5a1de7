"""Customers: creation, update, the "CPF na nota" find-or-create, and LGPD anonymisation."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.expressions import BaseExpression
from django.utils import timezone
from django.utils.translation import gettext

from customers.documents import normalize_document, normalize_email, normalize_phone
from customers.models import Customer, Wallet
from loyalty.core.errors import ConflictError, NotFoundError
from loyalty.tenancy.models import Account

CONTACT_FIELDS = ("document", "phone", "email")
_UNSET: Any = object()


class DuplicateContact(Exception):
    """Another customer of the account already has this CPF/CNPJ, phone or e-mail."""

    def __init__(self, field: str, existing_id: int) -> None:
        super().__init__(f"{field} already belongs to customer {existing_id}")
        self.field = field
        self.existing_id = existing_id


def _normalized_contacts(document: str | None, phone: str | None, email: str | None) -> dict[str, str | None]:
    return {
        "document": normalize_document(document) if document else None,
        "phone": normalize_phone(phone) if phone else None,
        "email": normalize_email(email) if email else None,
    }


def _ensure_unique(account: Account, contacts: dict[str, str | None], exclude_pk: int | None = None) -> None:
    condition = Q()
    for name, value in contacts.items():
        if value:
            condition |= Q(**{name: value})
    if not condition:
        return
    clashes = Customer.objects.filter(condition, account=account)
    if exclude_pk:
        clashes = clashes.exclude(pk=exclude_pk)
    for other in clashes.only("id", *CONTACT_FIELDS).order_by("id"):
        for name in CONTACT_FIELDS:
            if contacts.get(name) and getattr(other, name) == contacts[name]:
                raise DuplicateContact(name, other.pk)


def _save_unique(customer: Customer, contacts: dict[str, str | None]) -> None:
    """Save; a concurrent insert of the same contact becomes `DuplicateContact`, not a 500."""
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        _ensure_unique(customer.account, contacts, exclude_pk=customer.pk)
        raise


@transaction.atomic(savepoint=False)
def customer_create(
    *,
    account: Account,
    name: str = "",
    document: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    password: str | None = None,
    birth_date: date | None = None,
    gender: str = "",
    extra: dict[str, Any] | None = None,
) -> Customer:
    """A new customer of the account with an empty wallet."""
    contacts = _normalized_contacts(document, phone, email)
    _ensure_unique(account, contacts)
    customer = Customer(
        account=account,
        name=(name or "").strip(),
        birth_date=birth_date,
        gender=gender or "",
        extra=extra or {},
        password=make_password(password) if password else "",
        **contacts,
    )
    _save_unique(customer, contacts)
    Wallet.objects.create(account_id=customer.account_id, customer=customer)
    return customer


@transaction.atomic(savepoint=False)
def customer_update(
    *,
    customer: Customer,
    name: str = _UNSET,
    document: str | None = _UNSET,
    phone: str | None = _UNSET,
    email: str | None = _UNSET,
    password: str | None = _UNSET,
    birth_date: date | None = _UNSET,
    gender: str = _UNSET,
    extra: dict[str, Any] | None = _UNSET,
) -> Customer:
    """Change the given fields; contacts stay unique within the account."""
    if customer.anonymized_at:
        raise ConflictError(
            gettext("This customer was anonymised and can no longer be changed."), code="anonymized"
        )
    # Field values of several types, set by name.
    changes: dict[str, Any] = {
        key: value
        for key, value in {
            "name": name,
            "document": document,
            "phone": phone,
            "email": email,
            "birth_date": birth_date,
            "gender": gender,
            "extra": extra,
        }.items()
        if value is not _UNSET
    }
    contacts = _normalized_contacts(
        changes.get("document", customer.document),
        changes.get("phone", customer.phone),
        changes.get("email", customer.email),
    )
    _ensure_unique(customer.account, contacts, exclude_pk=customer.pk)
    for key, value in changes.items():
        if key in CONTACT_FIELDS:
            value = contacts[key]
        elif key == "name":
            value = (value or "").strip()
        elif key == "gender":
            value = value or ""
        elif key == "extra":
            value = value or {}
        setattr(customer, key, value)
    if password is not _UNSET:
        customer.password = make_password(password) if password else ""
    _save_unique(customer, contacts)
    return customer


def customer_get_or_create_by_document(*, account: Account, document: str) -> tuple[Customer, bool]:
    """The account's customer with this CPF/CNPJ, created with only the document if new.

    This is the "CPF na nota" habit: a till or ERP names the consumer by document alone.
    Two tills naming the same new document at once end with one customer. Only the
    creation needs a transaction: it runs in its own savepoint, so that a concurrent
    insert of the same document is caught without aborting the caller's transaction.
    """
    bare = normalize_document(document)
    existing = Customer.objects.filter(account=account, document=bare).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            customer = Customer.objects.create(account=account, document=bare)
            Wallet.objects.create(account_id=customer.account_id, customer=customer)
    except IntegrityError:
        return Customer.objects.get(account=account, document=bare), False
    return customer, True


class UnknownCustomer(NotFoundError):
    """A customer id that names no customer of the account."""

    code = "unknown_customer"


@dataclass(frozen=True)
class LockedWallet:
    """A customer's wallet, locked, with the customer and what the caller asked with it."""

    customer: Customer
    wallet: Wallet
    annotated: Mapping[str, Any]


def customer_wallet_find_locked(
    *,
    account: Account,
    document: str | None = None,
    customer_id: int | None = None,
    annotations: Mapping[str, BaseExpression] | None = None,
) -> LockedWallet | None:
    """The customer named by `document` or by `customer_id`, with their wallet locked until the
    end of the transaction (the wallet lock comes first); None when the account has no such
    customer (nothing is created).

    One query: the wallet row, locked, with its customer — and `annotations`, what else the
    caller needs to know at the same moment (a sale's keys already taken), in `annotated`.
    """
    wallets = (
        Wallet.objects.select_for_update(of=("self",)).select_related("customer").filter(account=account)
    )
    if annotations:
        wallets = wallets.annotate(**annotations)
    if customer_id is not None:
        wallet = wallets.filter(customer__account=account, customer_id=customer_id).first()
    elif document:
        wallet = wallets.filter(
            customer__account=account, customer__document=normalize_document(document)
        ).first()
    else:
        raise ValueError("Name the customer by document or by id.")
    if wallet is None:
        return None
    return LockedWallet(
        customer=wallet.customer,
        wallet=wallet,
        annotated={name: getattr(wallet, name) for name in annotations or {}},
    )


def customer_wallet_lock(
    *, account: Account, document: str | None = None, customer_id: int | None = None
) -> tuple[Customer, Wallet]:
    """The customer named by `document` (created when new: "CPF na nota") or by `customer_id`,
    with their wallet locked until the end of the transaction (the wallet lock comes first).

    One query when the customer exists: the wallet row, locked, with its customer.
    """
    found = customer_wallet_find_locked(account=account, document=document, customer_id=customer_id)
    if found is not None:
        return found.customer, found.wallet
    if customer_id is not None:
        raise UnknownCustomer(gettext("No customer with id %(id)s in this account.") % {"id": customer_id})
    assert document
    customer, _ = customer_get_or_create_by_document(account=account, document=normalize_document(document))
    wallet = Wallet.objects.select_for_update(of=("self",)).get(account=account, customer=customer)
    wallet.customer = customer
    return customer, wallet


ANONYMIZED_NAME = "Anonymised customer"


@transaction.atomic(savepoint=False)
def customer_anonymize(*, customer: Customer) -> Customer:
    """Erase the person (LGPD): name, contacts, document, password and extra data.

    The wallet, its ledger and the sales stay, so the merchant's accounts still add up.
    Anonymising twice changes nothing more.
    """
    if customer.anonymized_at:
        return customer
    erased: dict[str, Any] = {
        "name": ANONYMIZED_NAME,
        "document": None,
        "phone": None,
        "email": None,
        "password": "",
        "birth_date": None,
        "gender": "",
        "extra": {},
        "anonymized_at": timezone.now(),
        "updated_at": timezone.now(),
    }
    Customer.objects.filter(account_id=customer.account_id, pk=customer.pk).update(**erased)
    for name, value in erased.items():
        setattr(customer, name, value)
    return customer
