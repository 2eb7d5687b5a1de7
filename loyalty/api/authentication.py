"""Authentication of the two API dialects.

Both dialects carry a bearer JWT issued by `POST /api/v2/auth/token`. Every request
checks the credential as it is now (`loyalty.tenancy.selectors`: kept in memory under the
account's configuration version, which every change renews), so a deactivated credential
(or account) or a regenerated secret is refused at once, even for tokens issued before. The POS dialect also needs
the `X-Store-Token` of an active store of the same account.
"""

from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.tokens import AccessToken

from loyalty.tenancy.models import Account, ApiCredential, Store
from loyalty.tenancy.selectors import Caller, caller_of_token

TOKEN_HELP = _("Request one from POST /api/v2/auth/token with your api_key and api_secret.")
STORE_TOKEN_HEADER = "X-Store-Token"


@dataclass(eq=False)
class ApiClient:
    """The authenticated caller of an API request (set as `request.user`)."""

    account: Account
    credential: ApiCredential
    store: Store | None = None

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    @property
    def pk(self) -> int:
        return self.credential.pk

    def __str__(self) -> str:
        return f"api:{self.credential.api_key}"


class _BearerAuthentication(BaseAuthentication):
    www_authenticate_realm = "api"

    def authenticate_header(self, request) -> str:
        return f'Bearer realm="{self.www_authenticate_realm}"'

    def authenticate(self, request):
        client, token, _ = self._authenticate_bearer(request)
        return client, token

    def _authenticate_bearer(
        self, request, store_token: str | None = None
    ) -> tuple[ApiClient, AccessToken, Caller]:
        header = get_authorization_header(request).split()
        if not header:
            raise exceptions.AuthenticationFailed(
                gettext(
                    "Missing Authorization header: send 'Authorization: Bearer <access_token>'. "
                    "%(token_help)s"
                )
                % {"token_help": TOKEN_HELP},
                code="authorization_missing",
            )
        if header[0].lower() != b"bearer" or len(header) != 2:
            raise exceptions.AuthenticationFailed(
                gettext("Malformed Authorization header: expected 'Bearer <access_token>'."),
                code="authorization_malformed",
            )
        try:
            token = AccessToken(header[1].decode("ascii"))
        except (TokenError, UnicodeDecodeError) as error:
            # simplejwt's messages are translated: read in English, "expired" is in them.
            with translation.override("en"):
                expired = isinstance(error, ExpiredTokenError) or "expired" in str(error).lower()
            raise exceptions.AuthenticationFailed(
                (
                    gettext("The bearer token has expired. %(token_help)s")
                    if expired
                    else gettext("The bearer token is invalid. %(token_help)s")
                )
                % {"token_help": TOKEN_HELP},
                code="token_expired" if expired else "token_invalid",
            ) from None
        credential_id, account_id = token.get("credential_id"), token.get("account_id")
        caller = (
            caller_of_token(account_id=account_id, credential_id=credential_id, store_token=store_token)
            if isinstance(credential_id, int) and isinstance(account_id, int)
            else None
        )
        if (
            caller is None
            or caller.credential.account_id != token.get("account_id")
            or caller.credential.secret_generation != token.get("generation")
        ):
            raise exceptions.AuthenticationFailed(
                gettext("The bearer token was revoked or is unknown. %(token_help)s")
                % {"token_help": TOKEN_HELP},
                code="token_revoked",
            )
        credential = caller.credential
        if not credential.is_active:
            raise exceptions.AuthenticationFailed(
                gettext("The API credential of this bearer token is deactivated."),
                code="credential_inactive",
            )
        if not credential.account.is_active:
            raise exceptions.AuthenticationFailed(
                gettext("The merchant account of this bearer token is deactivated."), code="account_inactive"
            )
        return ApiClient(account=caller.account, credential=credential), token, caller


class BearerTokenAuthentication(_BearerAuthentication):
    """The server-to-server dialect (`/api/v2/`): `Authorization: Bearer <access_token>`."""


class PosAuthentication(_BearerAuthentication):
    """The POS dialect: the bearer token plus the `X-Store-Token` of one of the account's stores."""

    def authenticate(self, request):
        raw_store_token = request.headers.get(STORE_TOKEN_HEADER, "").strip()
        client, token, caller = self._authenticate_bearer(request, store_token=raw_store_token or None)
        if not raw_store_token:
            raise exceptions.AuthenticationFailed(
                gettext("Missing %(header)s header: send the token of one of your account's stores.")
                % {"header": STORE_TOKEN_HEADER},
                code="store_token_missing",
            )
        if caller.store is None:
            raise exceptions.AuthenticationFailed(
                gettext("%(header)s is not valid: no store of this account has that token.")
                % {"header": STORE_TOKEN_HEADER},
                code="store_token_invalid",
            )
        if not caller.store.is_active:
            raise exceptions.AuthenticationFailed(
                gettext("%(header)s names a deactivated store.") % {"header": STORE_TOKEN_HEADER},
                code="store_inactive",
            )
        client.store = caller.store
        return client, token
