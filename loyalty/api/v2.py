"""Server-to-server endpoints of the engine core: the caller's own account."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.api.dialects import V2Mixin
from loyalty.api.fields import ApiDateTimeField
from loyalty.tenancy.models import Account, ApiCredential


class CredentialSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiCredential
        fields = ["name", "api_key"]


class AccountSerializer(serializers.ModelSerializer):
    created_at = ApiDateTimeField(read_only=True)

    class Meta:
        model = Account
        fields = ["id", "name", "time_zone", "created_at"]


class AccountWithCredentialSerializer(AccountSerializer):
    credential = CredentialSummarySerializer(source="*")

    class Meta(AccountSerializer.Meta):
        fields = [*AccountSerializer.Meta.fields, "credential"]


class AccountView(V2Mixin, APIView):
    @extend_schema(
        tags=["Auth"],
        operation_id="account_retrieve",
        summary="The account of the bearer token",
        description="A connection check: which merchant account and credential the token belongs to.",
        responses={200: AccountWithCredentialSerializer},
    )
    def get(self, request):
        data = AccountSerializer(self.account).data
        data["credential"] = CredentialSummarySerializer(request.user.credential).data
        return Response(data)
