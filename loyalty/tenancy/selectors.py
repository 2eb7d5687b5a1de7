"""Reads of the account's own configuration: who a bearer token and a store token name.

Every API request asks it, so the answer is kept in process memory under the account's
configuration version (`loyalty.tenancy.cache`): with a warm cache a request reads no row
of its credential, account or store, and a change to any of them (deactivation, a new
secret, a regenerated store token) reaches the next request in every process. Each request
gets its own model instances, built from the kept values: nothing a request changes on
them leaks into another.
"""

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS
from django.db.models import F, FilteredRelation, Q

from loyalty.tenancy import credentials
from loyalty.tenancy.cache import account_cached
from loyalty.tenancy.models import Account, ApiCredential, Store

CREDENTIAL_FIELDS = tuple(field.attname for field in ApiCredential._meta.concrete_fields)
ACCOUNT_FIELDS = tuple(field.attname for field in Account._meta.concrete_fields)
STORE_FIELDS = ("id", "account_id", "name", "is_active")


@dataclass(frozen=True)
class _Row:
    """What is kept: the credential's and its account's columns, and the store's, if asked."""

    credential: tuple
    account: tuple
    store: tuple | None


@dataclass
class Caller:
    """The credential of a bearer token, with its account and, for a till, the store."""

    credential: ApiCredential
    account: Account
    #: The store of the store token sent, active or not; None when none was sent or matched.
    store: Store | None


def _read(account_id: int, credential_id: int, store_digest: str | None) -> _Row | None:
    # Unordered: a key names one row, and the model's ordering would join the account again.
    rows = ApiCredential.objects.select_related("account").filter(account_id=account_id, pk=credential_id)
    if store_digest is not None:
        # The store comes with the credential, in the same query; only a store of the
        # credential's own account can match.
        rows = rows.alias(
            store=FilteredRelation("account__stores", condition=Q(account__stores__token_digest=store_digest))
        ).annotate(
            store_pk=F("store__id"), store_name=F("store__name"), store_is_active=F("store__is_active")
        )
    credential = rows.order_by().first()
    if credential is None:
        return None
    store = None
    if store_digest is not None and credential.store_pk is not None:
        store = (credential.store_pk, account_id, credential.store_name, credential.store_is_active)
    return _Row(
        credential=tuple(getattr(credential, name) for name in CREDENTIAL_FIELDS),
        account=tuple(getattr(credential.account, name) for name in ACCOUNT_FIELDS),
        store=store,
    )


def caller_of_token(*, account_id: int, credential_id: int, store_token: str | None = None) -> Caller | None:
    """The credential `credential_id` of the account (None when the account has no such
    credential), with the store whose token is `store_token` when one is sent."""
    digest = credentials.token_digest(store_token) if store_token else None
    row = account_cached(
        account_id,
        f"caller:{credential_id}:{digest or ''}",
        lambda: _read(account_id, credential_id, digest),
    )
    if row is None:
        return None
    account = Account.from_db(DEFAULT_DB_ALIAS, ACCOUNT_FIELDS, row.account)
    credential = ApiCredential.from_db(DEFAULT_DB_ALIAS, CREDENTIAL_FIELDS, row.credential)
    credential.account = account
    store = None
    if row.store is not None:
        # As `.only()` would load it: the rest of the store is read on first use.
        store = Store.from_db(DEFAULT_DB_ALIAS, STORE_FIELDS, row.store)
        store.account = account
    return Caller(credential=credential, account=account, store=store)
