"""Accounts, stores and API credentials: creation, rotation, deactivation, tokens; the
account's program settings."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.tokens import AccessToken

from loyalty.tenancy import credentials
from loyalty.tenancy.cache import account_config_changed
from loyalty.tenancy.models import Account, ApiCredential, Store

_UNSET: Any = object()


@dataclass(frozen=True)
class IssuedSecret:
    """A freshly generated secret: the only moment its clear text exists."""

    object: Store | ApiCredential
    label: str
    value: str


@dataclass(frozen=True)
class IssuedAccessToken:
    access_token: str
    expires_in: int
    token_type: str = "Bearer"


@transaction.atomic(savepoint=False)
def account_create(*, name: str, time_zone: str | None = None) -> Account:
    account = Account(name=name, time_zone=time_zone or settings.DEFAULT_ACCOUNT_TIME_ZONE)
    account.full_clean()
    account.save()
    return account


@transaction.atomic(savepoint=False)
def account_settings_update(
    *,
    account: Account,
    time_zone: str = _UNSET,
    expiry_inactivity_days: int | None = _UNSET,
    expiry_reminder_days: int = _UNSET,
    redeem_max_share: Decimal | None = _UNSET,
    redeem_min_purchase: Decimal = _UNSET,
    redeem_min_balance: Decimal = _UNSET,
) -> Account:
    """Change the given program settings of the account, validated as the admin validates
    them (`ValidationError` by field; nothing is written then).

    New settings apply to what is granted from now on: lots already granted keep the expiry
    they were given, and an inactivity deadline already set moves only with the next purchase.
    """
    # Values of several types, set by name.
    changes: dict[str, Any] = {
        name: value
        for name, value in {
            "time_zone": time_zone,
            "expiry_inactivity_days": expiry_inactivity_days,
            "expiry_reminder_days": expiry_reminder_days,
            "redeem_max_share": redeem_max_share,
            "redeem_min_purchase": redeem_min_purchase,
            "redeem_min_balance": redeem_min_balance,
        }.items()
        if value is not _UNSET
    }
    for name, value in changes.items():
        setattr(account, name, value)
    account.full_clean()
    if "time_zone" in changes:
        # `tzinfo` is cached on the instance: the request that changes the zone answers in it.
        account.__dict__.pop("tzinfo", None)
    # Only the columns sent: a staff user's concurrent change of the name is not undone.
    account.save(update_fields=[*changes, "updated_at"])
    return account


@transaction.atomic(savepoint=False)
def store_create(*, account: Account, name: str, token: str | None = None) -> tuple[Store, str]:
    """Create a store; returns it with its token in clear, which is never available again.

    `token` fixes the value (demo data); otherwise a random one is generated.
    """
    token = token or credentials.new_store_token()
    store = Store(
        account=account,
        name=name,
        token_digest=credentials.token_digest(token),
        token_prefix=credentials.display_prefix(token),
    )
    store.full_clean()
    store.save()
    return store, token


@transaction.atomic(savepoint=False)
def store_regenerate_token(*, store: Store) -> str:
    """Replace the store's token; the old one stops working at once."""
    token = credentials.new_store_token()
    Store.objects.filter(pk=store.pk).update(
        token_digest=credentials.token_digest(token),
        token_prefix=credentials.display_prefix(token),
        updated_at=timezone.now(),
    )
    account_config_changed(store.account_id)
    store.refresh_from_db()
    return token


@transaction.atomic(savepoint=False)
def store_set_active(*, store: Store, active: bool) -> Store:
    Store.objects.filter(pk=store.pk).update(is_active=active, updated_at=timezone.now())
    account_config_changed(store.account_id)
    store.refresh_from_db()
    return store


@transaction.atomic(savepoint=False)
def credential_create(
    *, account: Account, name: str, api_key: str | None = None, api_secret: str | None = None
) -> tuple[ApiCredential, str]:
    """Create an API credential; returns it with its secret in clear, shown only now.

    `api_key` / `api_secret` fix the values (demo data); otherwise both are random.
    """
    api_secret = api_secret or credentials.new_api_secret()
    credential = ApiCredential(
        account=account,
        name=name,
        api_key=api_key or credentials.new_api_key(),
        secret_hash=make_password(api_secret),
        secret_prefix=credentials.display_prefix(api_secret),
    )
    credential.full_clean()
    credential.save()
    return credential, api_secret


@transaction.atomic(savepoint=False)
def credential_regenerate_secret(*, credential: ApiCredential, api_secret: str | None = None) -> str:
    """Replace the secret. Every token issued with the old one is refused from now on."""
    api_secret = api_secret or credentials.new_api_secret()
    ApiCredential.objects.filter(pk=credential.pk).update(
        secret_hash=make_password(api_secret),
        secret_prefix=credentials.display_prefix(api_secret),
        secret_generation=F("secret_generation") + 1,
    )
    account_config_changed(credential.account_id)
    credential.refresh_from_db()
    return api_secret


@transaction.atomic(savepoint=False)
def credential_set_active(*, credential: ApiCredential, active: bool) -> ApiCredential:
    ApiCredential.objects.filter(pk=credential.pk).update(is_active=active)
    account_config_changed(credential.account_id)
    credential.refresh_from_db()
    return credential


INVALID_CREDENTIALS = "invalid_credentials"
INVALID_CREDENTIALS_DETAIL = _("Invalid api_key or api_secret.")


class CredentialRefused(Exception):
    """The api_key / api_secret pair cannot be used; `field` names what is wrong, when
    saying so reveals nothing the caller does not already know."""

    def __init__(self, detail: str, *, field: str | None, code: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.code = code

    @property
    def is_failed_guess(self) -> bool:
        """The secret was not proven right: a failed attempt at the key."""
        return self.code == INVALID_CREDENTIALS


def credential_authenticate(*, api_key: str, api_secret: str) -> ApiCredential:
    """Check an api_key / api_secret pair and record its use (one UPDATE, atomic by itself)."""
    credential = ApiCredential.objects.select_related("account").filter(api_key=api_key).first()
    # An unknown key and a wrong secret get the same answer, after the same work (a hash),
    # so that neither the words nor the time tell whether the key exists.
    if credential is None:
        make_password(api_secret)
        raise CredentialRefused(str(INVALID_CREDENTIALS_DETAIL), field=None, code=INVALID_CREDENTIALS)
    if not check_password(api_secret, credential.secret_hash):
        raise CredentialRefused(str(INVALID_CREDENTIALS_DETAIL), field=None, code=INVALID_CREDENTIALS)
    # Only the holder of the right secret learns that the credential or account is switched off.
    if not credential.is_active:
        raise CredentialRefused(
            gettext("This API credential is deactivated."), field="api_key", code="credential_inactive"
        )
    if not credential.account.is_active:
        raise CredentialRefused(
            gettext("This merchant account is deactivated."), field=None, code="account_inactive"
        )
    now = timezone.now()
    ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
    credential.last_used_at = now
    return credential


def access_token_issue(*, credential: ApiCredential) -> IssuedAccessToken:
    """A signed bearer token naming the account, the credential and its secret generation."""
    token = AccessToken()
    token["account_id"] = credential.account_id
    token["credential_id"] = credential.pk
    token["generation"] = credential.secret_generation
    lifetime = settings.API_TOKEN_LIFETIME  # SIMPLE_JWT's ACCESS_TOKEN_LIFETIME
    return IssuedAccessToken(access_token=str(token), expires_in=int(lifetime.total_seconds()))
