"""The token endpoint, shared by both dialects (`/api/v2/auth/token` and its POS alias)."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.api.errors import CredentialsRejected
from loyalty.api.throttling import TokenEndpointThrottle
from loyalty.services.tenancy import CredentialRefused, access_token_issue, credential_authenticate


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
        "`Authorization: Bearer <access_token>` on every other call of both dialects. "
        "Wrong or deactivated credentials answer 401; the endpoint is rate limited (429)."
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
        try:
            credential = credential_authenticate(**serializer.validated_data)
        except CredentialRefused as refused:
            raise CredentialsRejected(refused.detail, code=refused.code) from None
        issued = access_token_issue(credential=credential)
        return Response(AccessTokenSerializer(issued).data)


class PosAccessTokenView(AccessTokenView):
    """The same token endpoint under the POS dialect's prefix."""

    @extend_schema(operation_id="pos_auth_token_create", **TOKEN_SCHEMA)
    def post(self, request):
        return super().post(request)
