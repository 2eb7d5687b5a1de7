"""Purchases in the POS dialect: "Adicionar compra", "Cancelar compra" and "Devolução".

`PUT /shops` is idempotent: a purchase is identified by its store, type, local date and
receipt — `pdv` + `coupon` when both are sent, otherwise `reference`. Sending it again
answers the purchase as first recorded (200) and earns nothing more; the same keys with
another consumer, amount, items or payments are a 409 `purchase_conflict` that names the
recorded purchase (never its consumer) and records nothing.

Cancel and return name a recorded purchase by the same keys (`purchase_of`): none is a 404,
and a bare reference that names several purchases of the day is a 409 `ambiguous_reference`.
A return has its own key, `return_reference`: sent again, it answers the first result.
"""

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api.fields import DocumentField
from customers.api.pos import PosWalletSerializer
from loyalty.api.dialects import PosMixin
from loyalty.api.fields import ApiDateField, ApiDateTimeField, MoneyField
from loyalty.core.errors import ConflictError
from loyalty.core.receipts import Receipt
from loyalty.core.vocabulary import SaleType
from loyalty.tenancy.models import Account, Store
from sales.api.returns import (
    ReturnLinesMixin,
    return_warnings,
    returned_units,
    returned_units_field,
    taken_back_data,
    taken_back_fields,
)
from sales.api.serializers import (
    ItemInputSerializer,
    PaymentInputSerializer,
    ReversedSerializer,
    RewardsSerializer,
    SaleContentsMixin,
    items_field,
    payments_field,
    reversed_data,
)
from sales.models import Sale, SaleReturn
from sales.outcomes import SaleInput
from sales.replays import CUSTOMER, SaleConflict
from sales.selectors import AmbiguousReference, purchase_named, return_lines, sale_wallet
from sales.services import (
    CustomerRequired,
    ReturnConflict,
    SaleAlreadyCancelled,
    sale_cancel,
    sale_record,
    sale_return,
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
    items = items_field(min_length=1, error_messages={"min_length": "A purchase has at least one item."})

    def validate(self, attrs):
        if not attrs.get("reference") and not (attrs.get("pdv") and attrs.get("coupon")):
            raise serializers.ValidationError("Send reference, or pdv and coupon, to identify the purchase.")
        return attrs


class CancelPurchaseSerializer(serializers.Serializer):
    date = ApiDateField(help_text="Day of the sale, yyyy-mm-dd.")
    type = serializers.ChoiceField(choices=SaleType.choices)
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True)
    pdv = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    coupon = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)

    def validate(self, attrs):
        if not attrs.get("reference") and not (attrs.get("pdv") and attrs.get("coupon")):
            raise serializers.ValidationError("Send reference, or pdv and coupon, to name the purchase.")
        return attrs


class ReturnPurchaseSerializer(CancelPurchaseSerializer):
    """The purchase's keys (as for a cancel), the return's own key and the units given back."""

    return_reference = serializers.CharField(
        max_length=64,
        help_text="The ERP's id of the return: sending it again answers the first result.",
    )
    items = returned_units_field()


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


class PurchaseKeysSerializer(serializers.Serializer):
    """How a till names a recorded purchase (never whose it is)."""

    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=SaleType.choices)
    date = ApiDateField(help_text="The purchase's local day.")
    reference = serializers.CharField()
    pdv = serializers.CharField()
    coupon = serializers.CharField()
    status = serializers.ChoiceField(choices=Sale.Status.choices)


class PurchaseReturnSerializer(ReturnLinesMixin, serializers.ModelSerializer):
    """A return as a till names it; `purchase` is the purchase's id and keys (the view passes
    the purchase in its context)."""

    return_reference = serializers.CharField(source="reference")
    purchase = serializers.SerializerMethodField()
    amount = MoneyField(help_text="What the returned units cost in the purchase.")
    created_at = ApiDateTimeField()

    class Meta:
        model = SaleReturn
        fields = ["id", "return_reference", "purchase", "items", "amount", "created_at"]
        read_only_fields = fields

    @extend_schema_field(PurchaseKeysSerializer)
    def get_purchase(self, sale_return):
        return purchase_keys(self.context["purchase"])


ReturnedPurchaseSerializer = inline_serializer(
    name="ReturnedPurchase",
    fields={
        "return": PurchaseReturnSerializer(),
        **taken_back_fields(),
        "warnings": serializers.ListField(child=serializers.CharField()),
        "wallet": PosWalletSerializer(allow_null=True),
    },
)


def _text(value) -> str:
    return (value or "").strip()


def _receipt(data) -> Receipt:
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
    receipt = (
        f"pdv {sale.pdv}, coupon {sale.coupon}" if sale.receipt.is_fiscal else f"reference {sale.reference}"
    )
    return ConflictError(
        f"Purchase {sale.pk} ({sale.type}, {sale.local_date.isoformat()}, {receipt}) was already recorded "
        f"at this store with another {', '.join(differences)}; nothing was recorded. A different sale "
        "needs its own pdv and coupon (or reference); to correct a purchase, cancel it and send the "
        "correction under a new coupon.",
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
            receipt=_receipt(data),
            operator=_text(data.get("operator")),
            items=tuple(ItemInputSerializer.to_data(item) for item in data["items"]),
            payments=tuple(PaymentInputSerializer.to_data(payment) for payment in data.get("payments", [])),
        )
        try:
            outcome = sale_record(account=self.account, sent=sent)
        except SaleConflict as conflict:
            raise purchase_conflict(conflict) from None
        except CustomerRequired:
            raise ValidationError(
                {"consumer": ["Digital change needs an identified consumer (send consumer)."]}
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
AMBIGUOUS_LISTED = 10


def purchase_of(account: Account, store: Store, data: Mapping[str, Any], *, undone: str) -> Sale:
    """The purchase of this store that a till's cancel or return names by its keys (`date`,
    `type`, `pdv` + `coupon` or `reference`): a 404 when none does; a 409
    `ambiguous_reference` listing them when a bare reference names several (two tills may
    share one), so that nothing is `undone` on a guess."""
    try:
        sale = purchase_named(
            account=account,
            store=store,
            type=data["type"],
            day=data["date"],
            receipt=_receipt(data),
            listed=AMBIGUOUS_LISTED,
        )
    except AmbiguousReference as ambiguous:
        how_many = f"more than {AMBIGUOUS_LISTED}" if ambiguous.more else len(ambiguous.purchases)
        raise ConflictError(
            f"Reference {_text(data.get('reference'))!r} names {how_many} purchases of this store on "
            f"{data['date'].isoformat()}; send pdv and coupon to say which one. Nothing was {undone}.",
            code="ambiguous_reference",
            purchases=[purchase_keys(purchase) for purchase in ambiguous.purchases],
        ) from None
    if sale is None:
        raise NotFound("No purchase of this store matches these date, type and reference or pdv/coupon.")
    return sale


class CancelPurchaseView(PosMixin, APIView):
    openapi_error_codes = (404, 409)  # no purchase matches; a reference that names several
    openapi_error_examples = {
        409: {
            "A reference of two tills": {
                "detail": (
                    "Reference '11' names 2 purchases of this store on 2024-05-24; send pdv and coupon to "
                    "say which one. Nothing was cancelled."
                ),
                "code": "ambiguous_reference",
                "purchases": [
                    SEED_PURCHASE_KEYS,
                    {**SEED_PURCHASE_KEYS, "id": 7, "pdv": "2", "coupon": "77"},
                ],
            }
        }
    }

    @extend_schema(
        tags=["POS · Purchases"],
        operation_id="pos_purchase_cancel",
        summary="Cancelar compra — cancel a purchase",
        description=(
            "Finds this store's purchase by `date`, `type` and `pdv` + `coupon` or `reference`, and reverses "
            "everything it did. Cancelling again answers 200 with `already_cancelled: true`. A `reference` "
            "alone that names several purchases of that day (two tills may share one) is a 409 "
            "`ambiguous_reference` listing them: send `pdv` + `coupon`; nothing is cancelled."
        ),
        request=CancelPurchaseSerializer,
        responses={200: CancelledPurchaseSerializer},
        examples=[
            OpenApiExample(
                "By PDV and coupon",
                value={"date": "2024-05-22", "pdv": "1", "coupon": "7", "type": "NF"},
                request_only=True,
            ),
            OpenApiExample(
                "By reference",
                value={"date": "2024-05-22", "type": "NF", "reference": "1"},
                request_only=True,
            ),
        ],
    )
    def post(self, request):
        serializer = CancelPurchaseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sale = purchase_of(self.account, self.store, serializer.validated_data, undone="cancelled")
        outcome = sale_cancel(sale=sale)
        return Response(
            {
                "purchase": PurchaseOutSerializer(outcome.sale).data,
                "already_cancelled": outcome.already_cancelled,
                "reversed": reversed_data(outcome),
                "wallet": PosWalletSerializer(outcome.wallet).data if outcome.wallet else None,
            }
        )


def return_conflict(sale: Sale, reference: str, conflict: ReturnConflict) -> ConflictError:
    return ConflictError(
        f"Return {reference!r} of purchase {sale.pk} was already recorded with other items; nothing was "
        "returned. A different return needs its own return_reference.",
        code="return_conflict",
        **{"return": {"id": conflict.extra["sale_return_id"], "return_reference": reference}},
    )


def purchase_cancelled(sale: Sale) -> ConflictError:
    return ConflictError(
        f"Purchase {sale.pk} is cancelled: nothing is left to return.",
        code=SaleAlreadyCancelled.code,
        purchase=purchase_keys(sale),
    )


RETURN_EXAMPLE = {
    "date": "2024-05-24",
    "type": "CF",
    "pdv": "1",
    "coupon": "15",
    "return_reference": "DEV-1",
    "items": [{"barcode": "13456789", "quantity": 1}],
}
RETURNED_EXAMPLE = {
    "return": {
        "id": 3,
        "return_reference": "DEV-1",
        "purchase": SEED_PURCHASE_KEYS,
        "items": [{"barcode": "13456789", "quantity": 1, "total": 12}],
        "amount": 12,
        "created_at": "2024-05-25T13:02:11.000000Z",
    },
    "reversed": {"balance": -0.6, "points": -12, "total_shoppings": -12},
    "vouchers_cancelled": [],
    "vouchers_charged": [],
    "warnings": [],
    "wallet": {
        "total_points": 40.99,
        "total_balance": 61.56,
        "total_shoppings": 140.99,
        "count_shoppings": 7,
        "digital_change": 0,
        "total_discounts": 15,
    },
}


class ReturnPurchaseView(PosMixin, APIView):
    # No purchase matches; an ambiguous reference, a return_reference of other items, a
    # cancelled purchase; more units than are left, or an item the purchase does not have.
    openapi_error_codes = (404, 409, 422)
    openapi_error_examples = {
        409: {
            "A reference of two tills": {
                "detail": (
                    "Reference '11' names 2 purchases of this store on 2024-05-24; send pdv and coupon to "
                    "say which one. Nothing was returned."
                ),
                "code": "ambiguous_reference",
                "purchases": [
                    SEED_PURCHASE_KEYS,
                    {**SEED_PURCHASE_KEYS, "id": 7, "pdv": "2", "coupon": "77"},
                ],
            },
            "The return_reference of other items": {
                "detail": (
                    "Return 'DEV-1' of purchase 6 was already recorded with other items; nothing was "
                    "returned. A different return needs its own return_reference."
                ),
                "code": "return_conflict",
                "return": {"id": 3, "return_reference": "DEV-1"},
            },
            "A cancelled purchase": {
                "detail": "Purchase 6 is cancelled: nothing is left to return.",
                "code": "sale_cancelled",
                "purchase": {**SEED_PURCHASE_KEYS, "status": "cancelled"},
            },
        },
        422: {
            "More units than are left": {
                "detail": (
                    "Item '13456789': 2 unit(s) asked back, but 1 of the 2 bought are left to return."
                ),
                "code": "return_refused",
                "item": "13456789",
                "available": 1,
            },
            "An item the purchase does not have": {
                "detail": "Item '7891000100103' is not in this sale.",
                "code": "return_refused",
                "item": "7891000100103",
            },
        },
    }

    @extend_schema(
        tags=["POS · Purchases"],
        operation_id="pos_purchase_return",
        summary="Devolução — return part of a purchase",
        description=(
            "Finds this store's purchase by `date`, `type` and `pdv` + `coupon` or `reference`, exactly as "
            "a cancel does (none: 404; a `reference` naming several purchases of the day: 409 "
            "`ambiguous_reference`), and gives back the `items` (units by barcode). What the units earned "
            "is taken back in proportion: each rule's cashback and points by the share of its eligible "
            "amount they carried, so that returning everything ends exactly as a cancel; `total_shoppings` "
            "and `total_discounts` go down, `count_shoppings` only when nothing is left; promotion uses are "
            "released once all their units are back. A voucher the purchase earned at a threshold it no "
            "longer reaches is cancelled if unused; if used, its value is debited from the cashback "
            "balance (which may go negative) and a warning says so.\n\n"
            "201 with the return, what it moved (`reversed`: signed, by wallet field, as the cancel's), "
            "the vouchers cancelled and charged, and the wallet after it. The same `return_reference` "
            "again answers the first result with 200 (the wallet as it is now); with other items it is a "
            "409 `return_conflict`. More units than are left to return (earlier returns counted), or an "
            "item the purchase does not have, is a 422 `return_refused` naming the `item` (and, when "
            "bought, how many units are `available`); a cancelled purchase is a 409 `sale_cancelled`. "
            "Nothing is recorded on a refusal."
        ),
        request=ReturnPurchaseSerializer,
        responses={201: ReturnedPurchaseSerializer, 200: ReturnedPurchaseSerializer},
        examples=[
            OpenApiExample("By PDV and coupon", value=RETURN_EXAMPLE, request_only=True),
            OpenApiExample(
                "By reference",
                value={
                    "date": "2024-05-24",
                    "type": "CF",
                    "reference": "11",
                    "return_reference": "DEV-2",
                    "items": [{"barcode": "13456789", "quantity": 1}],
                },
                request_only=True,
            ),
            OpenApiExample(
                "One unit given back", value=RETURNED_EXAMPLE, response_only=True, status_codes=["201"]
            ),
        ],
    )
    def post(self, request):
        serializer = ReturnPurchaseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        sale = purchase_of(self.account, self.store, data, undone="returned")
        reference = data["return_reference"]
        try:
            outcome = sale_return(sale=sale, reference=reference, items=returned_units(data["items"]))
        except ReturnConflict as conflict:
            raise return_conflict(sale, reference, conflict) from None
        except SaleAlreadyCancelled:
            raise purchase_cancelled(sale) from None
        # A replay answers without the wallet: it is read as it stands now.
        wallet = outcome.wallet or sale_wallet(sale)
        context = {"purchase": sale, "lines": return_lines(outcome.sale_return)}
        body = {
            "return": PurchaseReturnSerializer(outcome.sale_return, context=context).data,
            **taken_back_data(outcome.taken_back),
            "warnings": return_warnings(outcome.taken_back),
            "wallet": PosWalletSerializer(wallet).data if wallet else None,
        }
        return Response(body, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK)
