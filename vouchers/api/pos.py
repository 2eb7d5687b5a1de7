"""Balance redemption in the POS dialect: "Resgate de vale compras".

`purchase_total` (optional) is the amount of the purchase the redemption pays towards: the
account's redemption limits (`redeem_max_share`, `redeem_min_purchase`) apply to it. A till
written against the seed never sends it; it is refused only by an account that turned one
of those limits on, and then only when cashback (`value`) is spent.
"""

from decimal import Decimal

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api.pos import PosWalletSerializer, document_from_path
from customers.services import UnknownCustomer
from loyalty.api.dialects import PosMixin
from loyalty.api.fields import ApiDateTimeField, MoneyField
from loyalty.core.errors import ConflictError
from loyalty.core.vocabulary import SaleType
from vouchers.models import BalanceRedemption
from vouchers.services import RedemptionConflict, balance_redeem

REDEEM_EXAMPLE = {
    "date": "2024-06-19 17:13",
    "value": 10,
    "digital_change": 2,
    "coupon": "2",
    "reference": "2",
    "pdv": "2",
    "type": "NF",
}


class RedeemSerializer(serializers.Serializer):
    value = MoneyField(
        min_value=Decimal("0"), required=False, default=Decimal("0"), help_text="From the cashback balance."
    )
    digital_change = MoneyField(
        min_value=Decimal("0"),
        required=False,
        default=Decimal("0"),
        help_text="From the digital change balance.",
    )
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True)
    coupon = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    pdv = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    date = ApiDateTimeField(help_text="YYYY-MM-DD HH:MM (the account's local time).")
    type = serializers.ChoiceField(choices=SaleType.choices)
    purchase_total = MoneyField(
        required=False,
        allow_null=True,
        help_text=(
            "The amount of the purchase this redemption pays towards, more than 0. Needed to spend "
            "cashback (`value`) when the account sets `redeem_max_share` or `redeem_min_purchase`; "
            "ignored otherwise, never needed for digital change, and not part of the redemption's "
            "identity (a retry is the same redemption whatever `purchase_total` it sends)."
        ),
    )

    def validate_purchase_total(self, value):
        if value is not None and value <= 0:
            raise serializers.ValidationError(
                gettext("The purchase_total must be more than 0; got %(value)s.") % {"value": value}
            )
        return value

    def validate(self, attrs):
        if not attrs.get("value") and not attrs.get("digital_change"):
            raise serializers.ValidationError(gettext("Send a value or a digital_change above zero."))
        if not attrs.get("reference") and not (attrs.get("pdv") and attrs.get("coupon")):
            raise serializers.ValidationError(
                gettext("Send reference, or pdv and coupon, to identify the redemption.")
            )
        return attrs


class RedemptionSerializer(serializers.ModelSerializer):
    consumer = serializers.CharField(source="customer.document")
    date = ApiDateTimeField(source="occurred_at")
    returned_at = ApiDateTimeField(allow_null=True)
    created_at = ApiDateTimeField()

    class Meta:
        model = BalanceRedemption
        fields = [
            "id",
            "consumer",
            "value",
            "digital_change",
            "date",
            "type",
            "reference",
            "pdv",
            "coupon",
            "status",
            "returned_at",
            "created_at",
        ]
        read_only_fields = fields


RedeemedSerializer = inline_serializer(
    name="BalanceRedeemed",
    fields={
        "redemption": RedemptionSerializer(),
        "wallet": PosWalletSerializer(),
        "warnings": serializers.ListField(
            child=serializers.CharField(),
            help_text="Said when a retry finds the redemption given back (its purchase was cancelled).",
        ),
    },
)


def _text(value) -> str:
    return (value or "").strip()


def redemption_conflict(conflict: RedemptionConflict) -> ConflictError:
    redemption = conflict.redemption
    differences = ["consumer" if name == "customer" else name for name in conflict.differences]
    return ConflictError(
        gettext(
            "Redemption %(id)s was already recorded at this store with these keys and another "
            "%(differences)s; nothing was debited. A different redemption needs its own pdv and "
            "coupon (or reference)."
        )
        % {"id": redemption.pk, "differences": ", ".join(differences)},
        code="redemption_conflict",
        redemption={
            "id": redemption.pk,
            "type": redemption.type,
            "date": redemption.local_date.isoformat(),
            "reference": redemption.reference,
            "pdv": redemption.pdv,
            "coupon": redemption.coupon,
            "status": redemption.status,
        },
        differences=differences,
    )


REDEEM_LIMITED_EXAMPLE = {**REDEEM_EXAMPLE, "purchase_total": 40}


class BalanceRedeemView(PosMixin, APIView):
    openapi_error_codes = (409, 422)
    openapi_error_examples = {
        422: {
            "Over the share a purchase may be paid with cashback": {
                "detail": (
                    "Redemption limit: 25.00 of cashback balance asked, but cashback balance may pay at "
                    "most 50% of a purchase (redeem_max_share): at most 20.00 of purchase_total 40.00. "
                    "Nothing was debited."
                ),
                "code": "redeem_limit",
                "limit": "redeem_max_share",
                "allowed": {"balance": 20, "digital_change": 5},
            },
            "purchase_total needed": {
                "detail": (
                    "Redemption limit: 10.00 of cashback balance asked, but this account limits cashback "
                    "redemption by the purchase (redeem_max_share): send purchase_total, the purchase's "
                    "amount, to spend cashback balance (digital change needs none). Nothing was debited."
                ),
                "code": "redeem_limit",
                "limit": "redeem_max_share",
                "allowed": {"balance": 0, "digital_change": 5},
            },
            "Too little balance": {
                "detail": (
                    "Insufficient balance: the request needs 100.01 of cashback balance; the wallet has "
                    "62.16 cashback balance."
                ),
                "code": "insufficient_balance",
                "available": {"points": 52.99, "balance": 62.16, "digital_change": 5},
            },
        },
        409: {
            "Same keys, other amounts": {
                "detail": (
                    "Redemption 3 was already recorded at this store with these keys and another value; "
                    "nothing was debited. A different redemption needs its own pdv and coupon (or reference)."
                ),
                "code": "redemption_conflict",
                "redemption": {
                    "id": 3,
                    "type": "NF",
                    "date": "2024-06-19",
                    "reference": "2",
                    "pdv": "2",
                    "coupon": "2",
                    "status": "redeemed",
                },
                "differences": ["value"],
            }
        },
    }

    @extend_schema(
        tags=["POS · Consumers"],
        operation_id="pos_consumer_balance_redeem",
        summary="Resgate de vale compras — redeem balance",
        description=(
            "Debits `value` from the cashback balance and `digital_change` from the digital change balance, "
            "both or neither: too little in either is a 422 (`insufficient_balance`) that says what is "
            "available. A redemption is identified like a purchase: store, `type`, day and `pdv` + `coupon` "
            "(when both are sent) or else `reference`. The same redemption sent again answers the first "
            "result (200) and debits nothing more; the same keys with another consumer or other amounts "
            "are a 409 `redemption_conflict` and debit nothing. Unknown consumer: 404.\n\n"
            "**Limits.** The account's `redeem_max_share`, `redeem_min_purchase` and `redeem_min_balance` "
            "(`PATCH /api/v2/account`) bound the cashback `value`; digital change is the consumer's own "
            "money and no limit applies to it. `value` may be at most `purchase_total` × "
            "`redeem_max_share` / 100 (rounded to the cent, half up); no cashback may be spent on a "
            "`purchase_total` below `redeem_min_purchase`, nor by a consumer holding less cashback than "
            "`redeem_min_balance` before the redemption. When the account sets `redeem_max_share` or "
            "`redeem_min_purchase`, spending cashback needs `purchase_total` (a till that does not send "
            "it, as the seed's, is refused only by such an account). A breach is a 422 `redeem_limit` "
            "naming the `limit` and what is `allowed` now (`balance`: the most cashback; "
            "`digital_change`: what the wallet holds); nothing is debited. The quote "
            "(`POST /shops/discounts`) answers the same figure as `max_redeemable`. A retry of a "
            "redemption already recorded answers its first result whatever the limits are now."
        ),
        parameters=[OpenApiParameter("document", str, OpenApiParameter.PATH, description="CPF/CNPJ")],
        request=RedeemSerializer,
        responses={201: RedeemedSerializer, 200: RedeemedSerializer},
        examples=[
            OpenApiExample("Seed redemption", value=REDEEM_EXAMPLE, request_only=True),
            OpenApiExample(
                "With purchase_total",
                value=REDEEM_LIMITED_EXAMPLE,
                request_only=True,
                description="The purchase's amount, which the account's redemption limits apply to.",
            ),
        ],
    )
    def post(self, request, document: str):
        bare = document_from_path(document)
        serializer = RedeemSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            outcome = balance_redeem(
                account=self.account,
                store=self.store,
                document=bare,
                value=data["value"],
                digital_change=data["digital_change"],
                occurred_at=data["date"],
                type=data["type"],
                reference=_text(data.get("reference")),
                pdv=_text(data.get("pdv")),
                coupon=_text(data.get("coupon")),
                purchase_total=data.get("purchase_total"),
            )
        except UnknownCustomer:
            raise NotFound(gettext("No consumer with this document in this account.")) from None
        except RedemptionConflict as conflict:
            raise redemption_conflict(conflict) from None
        body = {
            "redemption": RedemptionSerializer(outcome.redemption).data,
            "wallet": PosWalletSerializer(outcome.wallet).data,
            "warnings": outcome.warnings,
        }
        return Response(body, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK)
