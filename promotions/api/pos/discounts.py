"""The POS discount quote: "Descontos do consumidor".

A quote changes nothing. It answers the consumer's wallet, how much of it the consumer may
spend on the basket (`max_redeemable`) and, unless `?not_show_discounts=1`, the best
promotion discount of each item, keyed by barcode. Items repeating a barcode are one
purchase of their summed quantity (minimum quantities and quantity limits count the units
of the purchase), so they must agree on the unit value.

`max_redeemable.balance` is `loyalty.tenancy.redemption_limits.redeemable_balance` for a
purchase of the basket's total after the quoted discounts: the function the POS redeem
applies, so the figure quoted is what the redeem then accepts.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api.fields import DocumentField
from customers.api.pos import POS_WALLET_EXAMPLE, PosWalletSerializer
from customers.models import Wallet
from customers.selectors import wallet_by_document
from loyalty.api.dialects import PosMixin
from loyalty.api.fields import ApiDateTimeField, MoneyField, QuantityField
from loyalty.core.money import ZERO, round_money
from loyalty.core.vocabulary import MAX_ITEMS, SaleType
from loyalty.tenancy.redemption_limits import RedeemLimits, redeemable_balance
from promotions.api.fields import BarcodeField, StrictBooleanFormField
from promotions.selectors import QuotedDiscount, QuoteLine, discount_quote

QUOTE_REQUEST_EXAMPLE = {
    "consumer": "53933515009",
    "date": "2024-06-19",
    "pdv": "1",
    "coupon": "1",
    "reference": "1",
    "type": "DAV",
    "items": [{"barcode": "999999", "unit_value": 36.59, "quantity": 3, "discount": 0, "total": 109.77}],
}
QUOTE_EXAMPLE = {
    "wallet": POS_WALLET_EXAMPLE,
    "max_redeemable": {"balance": 62.16, "digital_change": 0},
    "discounts": {
        "999999": {
            "barcode": "999999",
            "promotion_id": 7,
            "price": 36.59,
            "final_price": 32.93,
            "discount": 7.32,
        }
    },
}


class QuoteItemSerializer(serializers.Serializer):
    barcode = BarcodeField()
    unit_value = MoneyField(min_value=0, help_text="Unit price charged at the till.")
    quantity = QuantityField(help_text="Units of the item; more than 0 (fractional for kg, lt, mt).")
    discount = MoneyField(
        required=False,
        help_text="Discount already on the item; counts only towards an item total not sent.",
    )
    total = MoneyField(
        required=False,
        help_text=(
            "Item total as the till has it (unit_value × quantity − discount; that figure when not "
            "sent). Only `max_redeemable` reads it: the basket's total is the sum of the items' totals."
        ),
    )

    def validate_quantity(self, value):
        if value <= 0:
            raise serializers.ValidationError(
                gettext("The quantity must be more than 0; got %(value)s.") % {"value": value}
            )
        return value


# DRF fills in `{input}`; the types are filled in here, in the language active then.
sale_type_choice_message = lazy(
    lambda: (
        gettext('"{input}" is not a purchase type; use one of %(types)s.')
        % {"types": ", ".join(SaleType.values)}
    ),
    str,
)


class DiscountQuoteRequestSerializer(serializers.Serializer):
    consumer = DocumentField(help_text="CPF/CNPJ of the consumer, with or without punctuation.")
    reference = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=64)
    type = serializers.ChoiceField(
        choices=SaleType.choices,
        required=False,
        allow_blank=True,
        allow_null=True,
        error_messages={"invalid_choice": sale_type_choice_message()},
    )
    pdv = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=32)
    coupon = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=32)
    date = ApiDateTimeField(
        required=False, allow_null=True, help_text="When the promotions must be in effect; now when omitted."
    )
    items = QuoteItemSerializer(many=True, required=False, help_text=f"At most {MAX_ITEMS} items.")

    def to_internal_value(self, data):
        # Refuse an oversized basket before validating each of its items.
        items = data.get("items") if isinstance(data, dict) else None
        if isinstance(items, list) and len(items) > MAX_ITEMS:
            raise serializers.ValidationError(
                {
                    "items": [
                        gettext("At most %(max)s items per quote; got %(count)s.")
                        % {"max": MAX_ITEMS, "count": len(items)}
                    ]
                }
            )
        return super().to_internal_value(data)

    def validate_items(self, items):
        unit_values: dict[str, Decimal] = {}
        for position, item in enumerate(items):
            first = unit_values.setdefault(item["barcode"], item["unit_value"])
            if first != item["unit_value"]:
                raise serializers.ValidationError(
                    gettext(
                        "Item %(position)s repeats barcode %(barcode)s with unit_value %(unit_value)s, "
                        "but an earlier item has %(first)s: items of one barcode are one purchase of "
                        "their summed quantity and must have one unit value."
                    )
                    % {
                        "position": position,
                        "barcode": item["barcode"],
                        "unit_value": item["unit_value"],
                        "first": first,
                    }
                )
        return items

    def validate(self, attrs):
        items = attrs.pop("items", [])
        attrs["lines"] = [
            QuoteLine(barcode=item["barcode"], unit_value=item["unit_value"], quantity=item["quantity"])
            for item in items
        ]
        attrs["items_total"] = sum((item_total(item) for item in items), ZERO)
        return attrs


def item_total(item: dict) -> Decimal:
    """The item's total as the till sent it, else unit value × quantity − discount, to the cent."""
    if item.get("total") is not None:
        return item["total"]
    return round_money(item["unit_value"] * item["quantity"] - (item.get("discount") or ZERO))


class QuotedDiscountSerializer(serializers.Serializer):
    barcode = serializers.CharField()
    promotion_id = serializers.IntegerField()
    price = MoneyField(help_text="The item's unit value.")
    final_price = MoneyField(help_text="Unit value after the discount, rounded to the cent.")
    discount = MoneyField(
        help_text="Discount on the item: percent off × discounted units, rounded to the cent."
    )


class MaxRedeemableSerializer(serializers.Serializer):
    balance = MoneyField(
        help_text=(
            "The most cashback the POS redeem accepts as `value` for this basket, sent with its total "
            "as `purchase_total`: the balance held, less what the account's limits hold back."
        )
    )
    digital_change = MoneyField(help_text="The digital change held: no limit applies to it.")


class DiscountQuoteSerializer(serializers.Serializer):
    wallet = PosWalletSerializer()
    max_redeemable = MaxRedeemableSerializer(
        help_text=(
            "How much of each balance the consumer may spend on this basket under the account's "
            "redemption limits (`redeem_max_share`, `redeem_min_purchase`, `redeem_min_balance`). "
            "The basket's total is the sum of the items' `total` less the `discount` of each quoted "
            "promotion (whether or not `not_show_discounts` hides them). Zeros for a consumer not "
            "known yet."
        )
    )
    discounts = serializers.DictField(
        child=QuotedDiscountSerializer(),
        required=False,
        help_text="Keyed by barcode; items without a usable promotion have no entry. Absent with not_show_discounts=1.",
    )


def not_show_discounts(request) -> bool:
    try:
        return bool(StrictBooleanFormField().clean(request.query_params.get("not_show_discounts")))
    except DjangoValidationError as error:
        raise serializers.ValidationError({"not_show_discounts": error.messages}) from None


class DiscountQuoteView(PosMixin, APIView):
    writes = False  # a quote changes nothing

    @extend_schema(
        tags=["POS · Purchases"],
        operation_id="pos_discounts_quote",
        summary="Descontos do consumidor — quote the consumer's discounts",
        description=(
            "Changes nothing. For each item whose product has a promotion in effect at `date` "
            "(switched on, not withdrawn, `starts_at` ≤ date < `expires_at`) that the consumer may "
            "still use (`limit`) and whose `minimum_quantity` is met: `final_price` = unit value × "
            "(1 − percent_off/100) and `discount` = unit value × percent_off/100 × discounted units "
            "(at most `quantity_limit` when it is above 0), each rounded to the cent. Of several "
            "promotions on one product the largest discount wins. A valid document of no customer yet "
            "answers a zero wallet.\n\n"
            "`max_redeemable` says how much the consumer may spend now on this basket: `balance`, the "
            "most cashback the redeem (`POST /consumers/{document}/balance/redeem` with `purchase_total` "
            "= the basket's total) accepts under the account's `redeem_max_share`, `redeem_min_purchase` "
            "and `redeem_min_balance`; `digital_change`, what the wallet holds (no limit applies to it). "
            "The basket's total is the sum of the items' `total` (unit_value × quantity − discount where "
            "an item sends none) less the `discount` of each promotion quoted, never below 0."
        ),
        parameters=[
            OpenApiParameter(
                "not_show_discounts",
                int,
                enum=[0, 1],
                description="1: answer without `discounts` (the wallet and `max_redeemable` only).",
            )
        ],
        request=DiscountQuoteRequestSerializer,
        responses={200: DiscountQuoteSerializer},
        examples=[
            OpenApiExample("Descontos do consumidor", value=QUOTE_REQUEST_EXAMPLE, request_only=True),
            OpenApiExample("Quote", value=QUOTE_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request):
        hide = not_show_discounts(request)
        serializer = DiscountQuoteRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        wallet = wallet_by_document(account=self.account, document=data["consumer"]) or Wallet()
        limits = RedeemLimits.of(self.account)
        # Hidden discounts still lower the basket's total; they are read only when a limit
        # that needs that total can hold back a balance there is.
        needs_discounts = not hide or bool(limits.needing_purchase_total and wallet.balance > 0)
        discounts: dict[str, QuotedDiscount] = (
            discount_quote(
                account=self.account,
                customer_id=wallet.customer_id,
                lines=data["lines"],
                at=data.get("date") or timezone.now(),
            )
            if needs_discounts
            else {}
        )
        basket_total = max(
            data["items_total"] - sum((quoted.discount for quoted in discounts.values()), ZERO), ZERO
        )
        redeemable = redeemable_balance(
            account_limits=limits, balance=Decimal(wallet.balance), purchase_total=basket_total
        )
        answer = {
            "wallet": PosWalletSerializer(wallet).data,
            "max_redeemable": MaxRedeemableSerializer(
                {"balance": redeemable.balance, "digital_change": max(Decimal(wallet.digital_change), ZERO)}
            ).data,
        }
        if not hide:
            # One serializer for every line: a serializer per line would copy its fields each time.
            serialized = QuotedDiscountSerializer(list(discounts.values()), many=True).data
            answer["discounts"] = dict(zip(discounts, serialized, strict=True))
        return Response(answer)
