"""Serializers shared by both dialects: items and payments as sent, and rewards as earned."""

from decimal import Decimal

from django.core.validators import RegexValidator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from loyalty.api.fields import ApiDateTimeField, MoneyField, PointsField, QuantityField
from loyalty.core.vocabulary import MAX_ITEMS, MAX_PAYMENTS, PaymentMethod
from promotions.api.fields import UnitField
from sales.models import SaleItem, SalePayment
from sales.outcomes import ItemData, PaymentData
from sales.selectors import sale_items, sale_payments

TOTAL_TOLERANCE = Decimal("0.01")
BARCODE = RegexValidator(r"^[0-9]{1,20}$", _("A barcode is 1 to 20 digits (0-9)."))
PAYMENT_METHODS_HELP = ", ".join(f"{choice.value} {choice.label.lower()}" for choice in PaymentMethod)


class ItemInputSerializer(serializers.Serializer):
    unit = UnitField(required=False, allow_blank=True)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True, allow_null=True)
    subcategory = serializers.CharField(max_length=100, required=False, allow_blank=True, allow_null=True)
    barcode = serializers.CharField(max_length=20, required=False, allow_blank=True, validators=[BARCODE])
    unit_value = MoneyField(min_value=Decimal("0"))
    quantity = QuantityField(min_value=Decimal("0.001"))
    discount = MoneyField(min_value=Decimal("0"), required=False, default=Decimal("0"))
    total = MoneyField(min_value=Decimal("0"))
    promotion_id = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True)

    def validate(self, attrs):
        expected = attrs["unit_value"] * attrs["quantity"] - attrs.get("discount", Decimal("0"))
        if abs(attrs["total"] - expected) > TOTAL_TOLERANCE:
            raise serializers.ValidationError(
                {
                    "total": [
                        gettext(
                            "Item total %(total)s differs from unit_value × quantity − discount "
                            "= %(expected)s by more than one cent."
                        )
                        % {"total": attrs["total"], "expected": expected.quantize(Decimal("0.01"))}
                    ]
                }
            )
        return attrs

    @staticmethod
    def to_data(attrs) -> ItemData:
        return ItemData(
            total=attrs["total"],
            unit_value=attrs["unit_value"],
            quantity=attrs["quantity"],
            discount=attrs.get("discount") or Decimal("0"),
            barcode=attrs.get("barcode", ""),
            name=attrs.get("name", ""),
            unit=attrs.get("unit", ""),
            category=attrs.get("category") or "",
            subcategory=attrs.get("subcategory") or "",
            promotion_id=attrs.get("promotion_id") or "",
        )


class PaymentInputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=PaymentMethod.choices, help_text=f"Payment method: {PAYMENT_METHODS_HELP}."
    )
    total = MoneyField(min_value=Decimal("0"))
    digital_change = MoneyField(
        min_value=Decimal("0"),
        required=False,
        default=Decimal("0"),
        help_text="Change credited to the consumer's digital change balance.",
    )
    splits = serializers.IntegerField(min_value=0, max_value=99, required=False, default=0)
    date = ApiDateTimeField(required=False, allow_null=True)

    @staticmethod
    def to_data(attrs) -> PaymentData:
        return PaymentData(
            method=attrs["method"],
            total=attrs["total"],
            digital_change=attrs.get("digital_change") or Decimal("0"),
            splits=attrs.get("splits") or 0,
            paid_at=attrs.get("date"),
        )


def items_field(**kwargs) -> serializers.ListField:
    messages = {
        # DRF fills in {max_length} (MAX_ITEMS) when the message is shown, in the request's language.
        "max_length": _("A purchase has at most {max_length} items."),
        **kwargs.pop("error_messages", {}),
    }
    return serializers.ListField(
        child=ItemInputSerializer(), max_length=MAX_ITEMS, error_messages=messages, **kwargs
    )


def payments_field(**kwargs) -> serializers.ListField:
    messages = {
        "max_length": _("A purchase has at most {max_length} payments."),
        **kwargs.pop("error_messages", {}),
    }
    return serializers.ListField(
        child=PaymentInputSerializer(), max_length=MAX_PAYMENTS, error_messages=messages, **kwargs
    )


class ItemSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category_name")
    subcategory = serializers.CharField(source="subcategory_name")
    promotion_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = SaleItem
        fields = [
            "unit",
            "name",
            "category",
            "subcategory",
            "barcode",
            "unit_value",
            "quantity",
            "discount",
            "total",
            "promotion_id",
        ]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    date = ApiDateTimeField(source="paid_at", allow_null=True)

    class Meta:
        model = SalePayment
        fields = ["method", "total", "digital_change", "splits", "date"]
        read_only_fields = fields


class SaleContentsMixin(serializers.Serializer):
    """The items and payments of a sale: the ones just recorded when the view passes them in
    its context (no query), else the sale's own."""

    items = serializers.SerializerMethodField()
    payments = serializers.SerializerMethodField()

    @extend_schema_field(ItemSerializer(many=True))
    def get_items(self, sale):
        items = self.context.get("items")
        return ItemSerializer(items if items is not None else sale_items(sale), many=True).data

    @extend_schema_field(PaymentSerializer(many=True))
    def get_payments(self, sale):
        payments = self.context.get("payments")
        return PaymentSerializer(payments if payments is not None else sale_payments(sale), many=True).data


class VoucherSummarySerializer(serializers.Serializer):
    code = serializers.CharField()
    value = MoneyField()
    valid_until = ApiDateTimeField()
    status = serializers.CharField()


class RewardsSerializer(serializers.Serializer):
    cashback = MoneyField(help_text="Cashback granted (to the balance, or pending).")
    points = PointsField(help_text="Points granted (available, or pending).")
    vouchers = VoucherSummarySerializer(many=True)
    messages = serializers.IntegerField(help_text="Messages queued for the consumer.")


class WalletMovesSerializer(serializers.Serializer):
    """How a cancel or a return moved the wallet: signed, by wallet field; a field it did not
    move is absent."""

    points = PointsField(required=False)
    balance = MoneyField(required=False)
    digital_change = MoneyField(required=False)
    pending_points = PointsField(required=False)
    pending_balance = MoneyField(required=False)
    total_shoppings = MoneyField(required=False)
    count_shoppings = serializers.IntegerField(required=False)
    total_discounts = MoneyField(required=False)


class ReversedSerializer(WalletMovesSerializer):
    """How the cancellation moved the wallet (signed, by wallet field)."""

    vouchers_cancelled = serializers.ListField(child=serializers.CharField())
    promotion_uses_released = serializers.IntegerField()
    redemptions_returned = serializers.ListField(
        child=serializers.IntegerField(), help_text="Balance redemptions of this purchase given back."
    )


def reversed_data(outcome) -> dict:
    return {
        **outcome.reversed,
        "vouchers_cancelled": [voucher.code for voucher in outcome.vouchers_cancelled],
        "promotion_uses_released": outcome.promotion_uses_released,
        "redemptions_returned": [redemption.pk for redemption in outcome.redemptions_returned],
    }
