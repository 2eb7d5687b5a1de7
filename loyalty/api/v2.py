"""Server-to-server endpoints of the engine core: the caller's own account and its program
settings (`GET` / `PATCH /api/v2/account`)."""

from decimal import Decimal

from django.utils import translation
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.api.dialects import V2Mixin
from loyalty.api.fields import ApiDateTimeField, MoneyField
from loyalty.tenancy.models import MAX_EXPIRY_DAYS, MIN_INACTIVITY_DAYS, Account, ApiCredential
from loyalty.tenancy.services import account_settings_update

#: The settings a merchant changes by API; everything else of the account is read-only here.
PROGRAM_SETTINGS = (
    "time_zone",
    "expiry_inactivity_days",
    "expiry_reminder_days",
    "redeem_max_share",
    "redeem_min_purchase",
    "redeem_min_balance",
)
NEW_GRANTS_ONLY = (
    "New settings apply to new grants: lots already granted keep their expiry, and a customer's "
    "inactivity deadline moves only with their next purchase."
)


def _help(name: str) -> str:
    # For the OpenAPI description, which stays English whatever language is active at import.
    with translation.override("en"):
        return str(Account._meta.get_field(name).help_text)


class CredentialSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiCredential
        fields = ["name", "api_key"]


class AccountSerializer(serializers.ModelSerializer):
    """The account as the POS store check shows it."""

    created_at = ApiDateTimeField(read_only=True)

    class Meta:
        model = Account
        fields = ["id", "name", "time_zone", "created_at"]


class AccountSettingsSerializer(AccountSerializer):
    """The account with its program settings: only the settings are taken from a body."""

    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        validators=Account._meta.get_field("time_zone").validators,
        help_text=f"IANA name, e.g. America/Sao_Paulo. {_help('time_zone')}",
    )
    expiry_inactivity_days = serializers.IntegerField(
        min_value=MIN_INACTIVITY_DAYS,
        max_value=MAX_EXPIRY_DAYS,
        required=False,
        allow_null=True,
        help_text=f"{MIN_INACTIVITY_DAYS} to {MAX_EXPIRY_DAYS}. {_help('expiry_inactivity_days')}",
    )
    expiry_reminder_days = serializers.IntegerField(
        min_value=0, max_value=365, required=False, help_text=f"0 to 365. {_help('expiry_reminder_days')}"
    )
    redeem_max_share = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        coerce_to_string=False,
        required=False,
        allow_null=True,
        help_text=f"Percent, 0.01 to 100. {_help('redeem_max_share')}",
    )
    redeem_min_purchase = MoneyField(
        min_value=Decimal("0"), required=False, help_text=_help("redeem_min_purchase")
    )
    redeem_min_balance = MoneyField(
        min_value=Decimal("0"), required=False, help_text=_help("redeem_min_balance")
    )
    updated_at = ApiDateTimeField(read_only=True)

    class Meta(AccountSerializer.Meta):
        fields = ["id", "name", "is_active", *PROGRAM_SETTINGS, "created_at", "updated_at"]
        # Named here, so that a body naming them is ignored like any unknown field.
        read_only_fields = ["id", "name", "is_active"]


class AccountWithCredentialSerializer(AccountSettingsSerializer):
    credential = CredentialSummarySerializer(source="*")

    class Meta(AccountSettingsSerializer.Meta):
        fields = [*AccountSettingsSerializer.Meta.fields, "credential"]


class AccountView(V2Mixin, APIView):
    def answer(self, account: Account) -> Response:
        data = AccountSettingsSerializer(account).data
        data["credential"] = CredentialSummarySerializer(self.request.user.credential).data
        return Response(data)

    @extend_schema(
        tags=["Auth"],
        operation_id="account_retrieve",
        summary="The account of the bearer token",
        description=(
            "A connection check: which merchant account and credential the token belongs to, with "
            "the account's program settings."
        ),
        responses={200: AccountWithCredentialSerializer},
    )
    def get(self, request):
        return self.answer(self.account)

    @extend_schema(
        tags=["Program"],
        operation_id="account_partial_update",
        summary="Change the account's program settings",
        description=(
            "Partial: only the settings sent change (`time_zone`, `expiry_inactivity_days`, "
            "`expiry_reminder_days`, `redeem_max_share`, `redeem_min_purchase`, "
            "`redeem_min_balance`). The name, `is_active` and the credential are read-only: a body "
            f"naming them changes nothing. {NEW_GRANTS_ONLY}"
        ),
        request=AccountSettingsSerializer,
        responses={200: AccountWithCredentialSerializer},
        examples=[
            OpenApiExample(
                "Expire after a year without purchases; cashback pays at most half a purchase",
                request_only=True,
                value={"expiry_inactivity_days": 365, "expiry_reminder_days": 7, "redeem_max_share": 50},
            )
        ],
    )
    def patch(self, request):
        serializer = AccountSettingsSerializer(self.account, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self.answer(account_settings_update(account=self.account, **serializer.validated_data))
