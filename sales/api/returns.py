"""Returns ("Devolução") in both dialects: the units a till or an ERP gives back, and the
parts of the answer both dialects build alike.

An answer is built from what the return stored — its row, its lines and the `outcome` it
recorded — never from what the service computed on the way, so that the same reference sent
again answers the same body. `reversed` names the wallet fields the return moved, signed, with
the names the cancel's `reversed` uses in both dialects (`balance`, `points`,
`total_shoppings`, `count_shoppings`, `total_discounts`, ...), as JSON numbers.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import WALLET_FIELDS
from loyalty.api.fields import MoneyField, QuantityField
from loyalty.core.vocabulary import MAX_ITEMS
from sales.api.serializers import BARCODE, WalletMovesSerializer
from sales.models import SaleReturnLine
from sales.outcomes import ReturnedUnits


class ReturnedUnitsSerializer(serializers.Serializer):
    barcode = serializers.CharField(
        max_length=20, validators=[BARCODE], help_text="The barcode of the purchase's item given back."
    )
    quantity = QuantityField(
        min_value=Decimal("0.001"),
        help_text="Units given back (> 0; up to 3 decimals for kg, lt, mt): at most what is left of the item.",
    )


def returned_units_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=ReturnedUnitsSerializer(),
        min_length=1,
        max_length=MAX_ITEMS,
        error_messages={
            "min_length": _("A return gives back at least one item."),
            # DRF fills in {max_length} (MAX_ITEMS) when the message is shown.
            "max_length": _("A return has at most {max_length} items."),
        },
        help_text="The units given back, by barcode; a barcode may repeat (its quantities add up).",
        **kwargs,
    )


def returned_units(items: Iterable[Mapping[str, Any]]) -> tuple[ReturnedUnits, ...]:
    """The units sent, one entry per barcode (in the order first sent): a barcode sent twice is
    one ask of the sum, so that a refusal says how many of it are available in all."""
    quantities: dict[str, Decimal] = {}
    for item in items:
        quantities[item["barcode"]] = quantities.get(item["barcode"], Decimal(0)) + item["quantity"]
    return tuple(
        ReturnedUnits(barcode=barcode, quantity=quantity) for barcode, quantity in quantities.items()
    )


class ReturnLineSerializer(serializers.ModelSerializer):
    """Units of one line of the purchase given back, and what they were worth in it."""

    barcode = serializers.CharField(source="item.barcode")
    quantity = QuantityField()
    total = MoneyField(help_text="What these units cost in the purchase (their share of its discount off).")

    class Meta:
        model = SaleReturnLine
        fields = ["barcode", "quantity", "total"]
        read_only_fields = fields


class ReturnLinesMixin(serializers.Serializer):
    """The lines of a return: those the view read when it passes them in its context, else the
    return's own (prefetched for a list)."""

    items = serializers.SerializerMethodField()

    @extend_schema_field(ReturnLineSerializer(many=True))
    def get_items(self, sale_return):
        lines = self.context.get("lines")
        return ReturnLineSerializer(lines if lines is not None else sale_return.lines.all(), many=True).data


class ChargedVoucherSerializer(serializers.Serializer):
    code = serializers.CharField()
    value = MoneyField(help_text="Debited from the cashback balance.")


VOUCHERS_CANCELLED_HELP = (
    "Codes of the unused vouchers the purchase had earned and no longer does (cancelled)."
)
VOUCHERS_CHARGED_HELP = (
    "Vouchers the purchase had earned, no longer does and were already used: their value was debited "
    "from the cashback balance, which may go negative."
)
REVERSED_HELP = "How the return moved the wallet: signed, by wallet field (as a cancel's `reversed`)."


def taken_back_fields() -> dict[str, serializers.Field]:
    """The answer's fields that say what a return took back (for the schema)."""
    return {
        "reversed": WalletMovesSerializer(help_text=REVERSED_HELP),
        "vouchers_cancelled": serializers.ListField(
            child=serializers.CharField(), help_text=VOUCHERS_CANCELLED_HELP
        ),
        "vouchers_charged": ChargedVoucherSerializer(many=True, help_text=VOUCHERS_CHARGED_HELP),
    }


class TakenBackMixin(serializers.Serializer):
    """What a return took back, from its stored outcome (a listed return shows it)."""

    reversed = serializers.SerializerMethodField(help_text=REVERSED_HELP)
    vouchers_cancelled = serializers.SerializerMethodField(help_text=VOUCHERS_CANCELLED_HELP)
    vouchers_charged = serializers.SerializerMethodField(help_text=VOUCHERS_CHARGED_HELP)

    @extend_schema_field(WalletMovesSerializer)
    def get_reversed(self, sale_return):
        return taken_back_data(sale_return.outcome)["reversed"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_vouchers_cancelled(self, sale_return):
        return taken_back_data(sale_return.outcome)["vouchers_cancelled"]

    @extend_schema_field(ChargedVoucherSerializer(many=True))
    def get_vouchers_charged(self, sale_return):
        return taken_back_data(sale_return.outcome)["vouchers_charged"]


def taken_back_data(outcome: Mapping[str, Any]) -> dict[str, Any]:
    """A return's stored outcome (decimal strings) as the answer shows it (numbers)."""
    moved = outcome.get("moved", {})
    return {
        # In the wallet's own order: PostgreSQL's jsonb keeps keys in an order of its own, and
        # a replay must answer byte for byte as the first answer did.
        "reversed": {name: Decimal(moved[name]) for name in WALLET_FIELDS if name in moved},
        "vouchers_cancelled": list(outcome.get("vouchers_cancelled", [])),
        "vouchers_charged": [
            {"code": voucher["code"], "value": Decimal(voucher["value"])}
            for voucher in outcome.get("vouchers_charged", [])
        ],
    }


def return_warnings(outcome: Mapping[str, Any]) -> list[str]:
    """What the till or the ERP should tell the consumer: used vouchers charged to the balance."""
    return [
        gettext(
            "Voucher %(code)s had already been used: its value, %(value)s, was debited from the consumer's "
            "cashback balance, which may now be negative."
        )
        % {"code": voucher["code"], "value": voucher["value"]}
        for voucher in outcome.get("vouchers_charged", [])
    ]
