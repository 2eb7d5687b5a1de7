"""Purchases in the POS dialect: "Adicionar compra" (`PUT /shops`).

`PUT /shops` is idempotent: a purchase is identified by its store, type, local date and
receipt — `pdv` + `coupon` when both are sent, otherwise `reference`. Sending it again
answers the purchase as first recorded (200) and earns nothing more; the same keys with
another consumer, amount, items or payments are a 409 `purchase_conflict` that names the
recorded purchase (never its consumer) and records nothing.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api.fields import ConsentField, DocumentField
from customers.api.pos import PosWalletSerializer
from loyalty.api.dialects import PosMixin
from loyalty.api.fields import ApiDateTimeField
from loyalty.core.errors import ConflictError
from loyalty.core.receipts import Receipt
from loyalty.core.vocabulary import SaleType
from sales.api.serializers import (
    ItemInputSerializer,
    PaymentInputSerializer,
    ReversedSerializer,
    RewardsSerializer,
    SaleContentsMixin,
    items_field,
    payments_field,
)
from sales.models import Sale
from sales.outcomes import SaleInput
from sales.replays import CUSTOMER, SaleConflict
from sales.services import (
    CustomerRequired,
    sale_record,
)

PURCHASE_EXAMPLE = {
    "consumer": "53933515009",
    "date": "2024-05-24 15:10",
    "reference": "11",
    "type": "CF",
    "pdv": "1",
    "coupon": "15",
    "operator": "Manu",
    "payments": [{"method": 1, "total": 24, "splits": 0, "digital_change": 0, "date": "2023-12-21 15:32:00"}],
    "items": [
        {
            "unit": "un",
            "name": "Batata Pringles Cheddar Bacon 105g",
            "category": "Biscoitos e chocolates",
            "subcategory": "Salgadinho",
            "barcode": "13456789",
            "unit_value": 12,
            "quantity": 2,
            "discount": 0,
            "total": 24,
        }
    ],
}


class PurchaseSerializer(serializers.Serializer):
    consumer = DocumentField(
        allow_null=True,
        allow_blank=True,
        required=False,
        help_text="CPF/CNPJ of the consumer; null for an unidentified sale. An unknown one creates the consumer.",
    )
    date = ApiDateTimeField(help_text="Date of the sale, yyyy-mm-dd HH:mm:ss (the account's local time).")
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True)
    type = serializers.ChoiceField(choices=SaleType.choices)
    pdv = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    coupon = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    operator = serializers.CharField(max_length=100, required=False, allow_blank=True, allow_null=True)
    payments = payments_field(required=False)
    items = items_field(min_length=1, error_messages={"min_length": _("A purchase has at least one item.")})
    consent = ConsentField(
        required=False,
        help_text=(
            "Optional: marketing consent (LGPD) the consumer gave (true) or withdrew (false) at the till, "
            'by channel, e.g. `{"sms": true}`. Recorded with this store for a new purchase, before its '
            "messages are queued; a replay records nothing. Needs a consumer."
        ),
    )

    def validate(self, attrs):
        if not attrs.get("reference") and not (attrs.get("pdv") and attrs.get("coupon")):
            raise serializers.ValidationError(
                gettext("Send reference, or pdv and coupon, to identify the purchase.")
            )
        if attrs.get("consent") and not attrs.get("consumer"):
            raise ValidationError(
                {"consent": [gettext("Consent needs an identified consumer (send consumer).")]}
            )
        return attrs


class PurchaseOutSerializer(SaleContentsMixin, serializers.ModelSerializer):
    consumer = serializers.CharField(source="customer.document", allow_null=True, default=None)
    date = ApiDateTimeField(source="occurred_at")
    cancelled_at = ApiDateTimeField(allow_null=True)

    class Meta:
        model = Sale
        fields = [
            "id",
            "consumer",
            "date",
            "reference",
            "type",
            "pdv",
            "coupon",
            "operator",
            "amount",
            "status",
            "cancelled_at",
            "payments",
            "items",
        ]
        read_only_fields = fields


RecordedPurchaseSerializer = inline_serializer(
    name="RecordedPurchase",
    fields={
        "purchase": PurchaseOutSerializer(),
        "rewards": RewardsSerializer(),
        "wallet": PosWalletSerializer(allow_null=True),
        "warnings": serializers.ListField(child=serializers.CharField()),
    },
)

CancelledPurchaseSerializer = inline_serializer(
    name="CancelledPurchase",
    fields={
        "purchase": PurchaseOutSerializer(),
        "already_cancelled": serializers.BooleanField(),
        "reversed": ReversedSerializer(),
        "wallet": PosWalletSerializer(allow_null=True),
    },
)


def text_of(value) -> str:
    return (value or "").strip()


def receipt_of(data) -> Receipt:
    return Receipt.of(reference=data.get("reference"), pdv=data.get("pdv"), coupon=data.get("coupon"))


def purchase_keys(sale: Sale) -> dict:
    """How a till names a recorded purchase: never whose it is."""
    return {
        "id": sale.pk,
        "type": sale.type,
        "date": sale.local_date.isoformat(),
        "reference": sale.reference,
        "pdv": sale.pdv,
        "coupon": sale.coupon,
        "status": sale.status,
    }


def purchase_conflict(conflict: SaleConflict) -> ConflictError:
    sale = conflict.sale
    differences = ["consumer" if name == CUSTOMER else name for name in conflict.differences]
    # pdv, coupon and reference name the request's fields: they stay as they are in every language.
    receipt = (
        f"pdv {sale.pdv}, coupon {sale.coupon}" if sale.receipt.is_fiscal else f"reference {sale.reference}"
    )
    return ConflictError(
        gettext(
            "Purchase %(id)s (%(type)s, %(day)s, %(receipt)s) was already recorded at this store with "
            "another %(differences)s; nothing was recorded. A different sale needs its own pdv and coupon "
            "(or reference); to correct a purchase, cancel it and send the correction under a new coupon."
        )
        % {
            "id": sale.pk,
            "type": sale.type,
            "day": sale.local_date.isoformat(),
            "receipt": receipt,
            "differences": ", ".join(differences),
        },
        code="purchase_conflict",
        purchase=purchase_keys(sale),
        differences=differences,
    )


SEED_PURCHASE_KEYS = {
    "id": 6,
    "type": "CF",
    "date": "2024-05-24",
    "reference": "11",
    "pdv": "1",
    "coupon": "15",
    "status": "recorded",
}


class PurchaseView(PosMixin, APIView):
    openapi_error_codes = (409, 422)
    openapi_error_examples = {
        409: {
            "Same keys, other content": {
                "detail": (
                    "Purchase 6 (CF, 2024-05-24, pdv 1, coupon 15) was already recorded at this store with "
                    "another consumer, amount, items; nothing was recorded. A different sale needs its own "
                    "pdv and coupon (or reference); to correct a purchase, cancel it and send the correction "
                    "under a new coupon."
                ),
                "code": "purchase_conflict",
                "purchase": SEED_PURCHASE_KEYS,
                "differences": ["consumer", "amount", "items"],
            }
        }
    }

    @extend_schema(
        tags=["POS · Purchases"],
        operation_id="pos_purchase_put",
        summary="Adicionar compra — register a purchase",
        description=(
            "Records the purchase and runs the reward rules for an identified consumer. The amount is the "
            "sum of the item totals; an item whose total differs from unit_value × quantity − discount by "
            "more than a cent is a 400. `payments[].digital_change` credits the consumer's digital change; "
            "a payment with method 9 pays with it (too little: 422, nothing recorded).\n\n"
            "A purchase is identified by store, `type`, local day and `pdv` + `coupon` (when both are sent) "
            "or else `reference`. A new one answers 201. Sending the same purchase again (same consumer, "
            "amount, items and payments) answers 200 with the purchase as first recorded and earns nothing "
            "more; if it was cancelled meanwhile, its `status` is `cancelled`, its rewards show what it "
            "holds now and a warning says when it was cancelled. The same keys with other content are a "
            "409 `purchase_conflict` naming the recorded purchase's id and keys; nothing is recorded."
        ),
        request=PurchaseSerializer,
        responses={201: RecordedPurchaseSerializer, 200: RecordedPurchaseSerializer},
        examples=[OpenApiExample("Seed purchase", value=PURCHASE_EXAMPLE, request_only=True)],
    )
    def put(self, request):
        serializer = PurchaseSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        sent = SaleInput(
            source=Sale.Source.POS,
            store=self.store,
            occurred_at=data["date"],
            document=data.get("consumer") or None,
            type=data["type"],
            receipt=receipt_of(data),
            operator=text_of(data.get("operator")),
            items=tuple(ItemInputSerializer.to_data(item) for item in data["items"]),
            payments=tuple(PaymentInputSerializer.to_data(payment) for payment in data.get("payments", [])),
            consent=tuple(data.get("consent", {}).items()),
        )
        try:
            outcome = sale_record(account=self.account, sent=sent)
        except SaleConflict as conflict:
            raise purchase_conflict(conflict) from None
        except CustomerRequired:
            raise ValidationError(
                {"consumer": [gettext("Digital change needs an identified consumer (send consumer).")]}
            ) from None
        context = {"items": outcome.items, "payments": outcome.payments}
        body = {
            "purchase": PurchaseOutSerializer(outcome.sale, context=context).data,
            "rewards": RewardsSerializer(outcome.rewards).data,
            "wallet": PosWalletSerializer(outcome.wallet).data if outcome.wallet else None,
            "warnings": outcome.warnings,
        }
        return Response(body, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK)


#: How many purchases an `ambiguous_reference` answer lists.
