"""The token endpoint, shared by both dialects (`/api/v2/auth/token` and its POS alias)."""

from django.db import transaction
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.api.errors import CredentialsRejected
from loyalty.api.throttling import ApiKeyThrottle, TokenEndpointThrottle
from loyalty.tenancy.services import CredentialRefused, access_token_issue, credential_authenticate


class TokenRequestSerializer(serializers.Serializer):
    api_key = serializers.CharField(max_length=64)
    api_secret = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class AccessTokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds until the token expires.")


TOKEN_SCHEMA = {
    "tags": ["Auth"],
    "summary": "Generate the Bearer token",
    "description": (
        "Send `api_key` and `api_secret` to receive the `access_token`. Send it as "
        "`Authorization: Bearer <access_token>` on every other call of both dialects.\n\n"
        "An unknown `api_key` and a wrong `api_secret` answer the same 401 "
        "(`invalid_credentials`), so the answer never confirms that a key exists. A deactivated "
        "credential (`credential_inactive`) or account (`account_inactive`) is named only when "
        "the secret was right.\n\n"
        "Rate limits answer 429 with `Retry-After`: requests per client address, and failed "
        "attempts per `api_key` from any address, so changing addresses buys no more guesses. "
        "A key that has used up its failures is refused until the window passes, even with the "
        "right secret (letting it through would tell a guesser which guess was right); tokens "
        "already issued keep working, and requests with the right secret never count. A till "
        "still sending an old secret after a regeneration counts as failures too."
    ),
    "request": TokenRequestSerializer,
    "responses": {200: AccessTokenSerializer},
    "examples": [
        OpenApiExample(
            "Credentials",
            value={"api_key": "ak_3f9c2e7a1b4d6e8f0a1b2c3d", "api_secret": "sk_..."},
            request_only=True,
        ),
        OpenApiExample(
            "Token",
            value={"access_token": "eyJhbGciOiJIUzI1NiIs...", "token_type": "Bearer", "expires_in": 3600},
            response_only=True,
        ),
    ],
}


class AccessTokenView(APIView):
    """Exchange an `api_key` and `api_secret` for a bearer token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenEndpointThrottle]
    openapi_error_codes = (401,)

    @extend_schema(operation_id="auth_token_create", **TOKEN_SCHEMA)
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Not in throttle_classes: it needs the validated api_key, and the secret's outcome
        # decides whether the attempt counts.
        attempt = ApiKeyThrottle(api_key=serializer.validated_data["api_key"])
        if not attempt.allow_request(request, self):
            self.throttled(request, attempt.wait())
        try:
            # One transaction, as every write endpoint: it records the credential's use.
            with transaction.atomic():
                credential = credential_authenticate(**serializer.validated_data)
        except CredentialRefused as refused:
            if not refused.is_failed_guess:
                attempt.release()
            raise CredentialsRejected(refused.detail, code=refused.code) from None
        attempt.release()
        issued = access_token_issue(credential=credential)
        return Response(AccessTokenSerializer(issued).data)


class PosAccessTokenView(AccessTokenView):
    """The same token endpoint under the POS dialect's prefix."""

    @extend_schema(operation_id="pos_auth_token_create", **TOKEN_SCHEMA)
    def post(self, request):
        return super().post(request)
