"""Undoing purchases in the POS dialect: "Cancelar compra" (`POST /shops/cancel`) and
"Devolução" (`POST /shops/returns`).

Cancel and return name a recorded purchase by the keys it was recorded with (`purchase_of`):
none is a 404, and a bare reference that names several purchases of the day is a 409
`ambiguous_reference`. A return has its own key, `return_reference`: sent again, it answers
the first result.
"""

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api.pos import PosWalletSerializer
from loyalty.api.dialects import PosMixin
from loyalty.api.fields import ApiDateField, ApiDateTimeField, MoneyField
from loyalty.core.errors import ConflictError
from loyalty.core.vocabulary import SaleType
from loyalty.tenancy.models import Account, Store
from sales.api.pos.purchases import (
    SEED_PURCHASE_KEYS,
    CancelledPurchaseSerializer,
    PurchaseOutSerializer,
    purchase_keys,
    receipt_of,
    text_of,
)
from sales.api.returns import (
    ReturnLinesMixin,
    return_warnings,
    returned_units,
    returned_units_field,
    taken_back_data,
    taken_back_fields,
)
from sales.api.serializers import (
    reversed_data,
)
from sales.models import Sale, SaleReturn
from sales.selectors import AmbiguousReference, purchase_named, return_lines, sale_wallet
from sales.services import (
    ReturnConflict,
    SaleAlreadyCancelled,
    sale_cancel,
    sale_return,
)


class CancelPurchaseSerializer(serializers.Serializer):
    date = ApiDateField(help_text="Day of the sale, yyyy-mm-dd.")
    type = serializers.ChoiceField(choices=SaleType.choices)
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True)
    pdv = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    coupon = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)

    def validate(self, attrs):
        if not attrs.get("reference") and not (attrs.get("pdv") and attrs.get("coupon")):
            raise serializers.ValidationError(
                gettext("Send reference, or pdv and coupon, to name the purchase.")
            )
        return attrs


class ReturnPurchaseSerializer(CancelPurchaseSerializer):
    """The purchase's keys (as for a cancel), the return's own key and the units given back."""

    return_reference = serializers.CharField(
        max_length=64,
        help_text="The ERP's id of the return: sending it again answers the first result.",
    )
    items = returned_units_field()


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
            receipt=receipt_of(data),
            listed=AMBIGUOUS_LISTED,
        )
    except AmbiguousReference as ambiguous:
        how_many = (
            gettext("more than %(count)s") % {"count": AMBIGUOUS_LISTED}
            if ambiguous.more
            else len(ambiguous.purchases)
        )
        if undone == "cancelled":
            message = gettext(
                "Reference %(reference)s names %(count)s purchases of this store on %(day)s; send pdv and "
                "coupon to say which one. Nothing was cancelled."
            )
        else:
            message = gettext(
                "Reference %(reference)s names %(count)s purchases of this store on %(day)s; send pdv and "
                "coupon to say which one. Nothing was returned."
            )
        raise ConflictError(
            message
            % {
                "reference": repr(text_of(data.get("reference"))),
                "count": how_many,
                "day": data["date"].isoformat(),
            },
            code="ambiguous_reference",
            purchases=[purchase_keys(purchase) for purchase in ambiguous.purchases],
        ) from None
    if sale is None:
        raise NotFound(
            gettext("No purchase of this store matches these date, type and reference or pdv/coupon.")
        )
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
        gettext(
            "Return %(reference)s of purchase %(id)s was already recorded with other items; nothing was "
            "returned. A different return needs its own return_reference."
        )
        % {"reference": repr(reference), "id": sale.pk},
        code="return_conflict",
        **{"return": {"id": conflict.extra["sale_return_id"], "return_reference": reference}},
    )


def purchase_cancelled(sale: Sale) -> ConflictError:
    return ConflictError(
        gettext("Purchase %(id)s is cancelled: nothing is left to return.") % {"id": sale.pk},
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
    "reversed": {"points": -12, "balance": -0.6, "total_shoppings": -12},
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
