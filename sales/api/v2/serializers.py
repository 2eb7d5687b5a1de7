"""The v2 sales' representations: a sale recorded, answered, cancelled or returned, and the
errors that name one."""

from decimal import Decimal

from django.utils.translation import gettext
from drf_spectacular.utils import (
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers

from customers.api.fields import DocumentField
from customers.api.v2 import WalletSerializer
from loyalty.api.fields import ApiDateTimeField, MoneyField
from loyalty.core.errors import ConflictError
from loyalty.core.vocabulary import SaleType
from loyalty.tenancy.models import Store
from sales.api.returns import (
    ReturnLinesMixin,
    TakenBackMixin,
    returned_units_field,
    taken_back_fields,
)
from sales.api.serializers import (
    ReversedSerializer,
    RewardsSerializer,
    SaleContentsMixin,
    items_field,
    payments_field,
)
from sales.models import Sale, SaleReturn
from sales.replays import AMOUNT, CUSTOMER, SaleConflict
from sales.selectors import stored_rewards
from sales.services import ReturnConflict, SaleAlreadyCancelled

SALE_EXAMPLE = {
    "cpf": "53933515009",
    "sale_amount": 152.99,
    "reference": "ERP-0001",
    "date": "2024-06-19 17:13",
    "items": [
        {
            "barcode": "13456789",
            "name": "Batata Pringles Cheddar Bacon 105g",
            "category": "Biscoitos e chocolates",
            "quantity": 2,
            "unit_value": 12.0,
            "total": 24.0,
        }
    ],
    "payments": [{"method": 3, "total": 152.99}],
}


class SaleCreateSerializer(serializers.Serializer):
    cpf = DocumentField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="CPF/CNPJ of the customer; an unknown one creates the customer.",
    )
    customer_id = serializers.IntegerField(required=False, allow_null=True)
    sale_amount = MoneyField(min_value=Decimal("0.01"))
    reference = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="The ERP's own id: sending the same reference again answers the first sale.",
    )
    date = ApiDateTimeField(
        required=False, allow_null=True, help_text="When the sale happened; now if absent."
    )
    type = serializers.ChoiceField(choices=SaleType.choices, required=False, allow_blank=True)
    store = serializers.IntegerField(
        required=False, allow_null=True, help_text="Id of one of the account's stores."
    )
    items = items_field(required=False)
    payments = payments_field(required=False)

    def validate(self, attrs):
        if bool(attrs.get("cpf")) == (attrs.get("customer_id") is not None):
            raise serializers.ValidationError(gettext("Send exactly one of cpf and customer_id."))
        store_id = attrs.get("store")
        if store_id is not None:
            store = Store.objects.filter(account=self.context["account"], pk=store_id).first()
            if store is None:
                raise serializers.ValidationError(
                    {"store": [gettext("No store with id %(id)s in this account.") % {"id": store_id}]}
                )
            attrs["store"] = store
        return attrs


class SaleSerializer(SaleContentsMixin, serializers.ModelSerializer):
    customer_id = serializers.IntegerField(allow_null=True)
    type = serializers.ChoiceField(
        choices=SaleType.choices,
        allow_blank=True,
        read_only=True,
        help_text="Empty when the ERP sent no purchase type.",
    )
    cpf = serializers.CharField(source="customer.document", allow_null=True, default=None)
    store = serializers.IntegerField(source="store_id", allow_null=True)
    date = ApiDateTimeField(source="occurred_at")
    rewards = serializers.SerializerMethodField()
    cancelled_at = ApiDateTimeField(allow_null=True)
    returns = serializers.SerializerMethodField(
        help_text="How many returns were recorded against the sale: `GET /sales/{id}/returns` lists them."
    )
    created_at = ApiDateTimeField()

    class Meta:
        model = Sale
        fields = [
            "id",
            "customer_id",
            "cpf",
            "store",
            "type",
            "reference",
            "date",
            "amount",
            "discount_total",
            "status",
            "cancelled_at",
            "items",
            "payments",
            "rewards",
            "returns",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RewardsSerializer)
    def get_rewards(self, sale):
        rewards = self.context.get("rewards") or stored_rewards(sale)
        return RewardsSerializer(rewards).data

    @extend_schema_field(serializers.IntegerField(min_value=0))
    def get_returns(self, sale):
        # Counted in the sales' own query (`with_returns`); a sale just recorded has none.
        returns = self.context.get("returns")
        return returns if returns is not None else sale.returns_recorded


RecordedSaleSerializer = inline_serializer(
    name="RecordedSale",
    fields={
        "sale": SaleSerializer(),
        "wallet": WalletSerializer(),
        "warnings": serializers.ListField(child=serializers.CharField()),
    },
)

CancelledSaleSerializer = inline_serializer(
    name="CancelledSale",
    fields={
        "sale": SaleSerializer(),
        "already_cancelled": serializers.BooleanField(),
        "reversed": ReversedSerializer(),
        "wallet": WalletSerializer(allow_null=True),
    },
)


class SaleKeysSerializer(serializers.Serializer):
    """How an answer names a sale besides the one it is about."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Sale.Status.choices)


def sale_keys(sale: Sale) -> dict:
    return {"id": sale.pk, "reference": sale.reference, "status": sale.status}


class SaleReturnCreateSerializer(serializers.Serializer):
    reference = serializers.CharField(
        max_length=64, help_text="The ERP's id of the return: sending it again answers the first result."
    )
    items = returned_units_field(required=False)
    amount = MoneyField(
        min_value=Decimal("0.01"),
        required=False,
        help_text="For a sale recorded without items: the part of its amount given back.",
    )

    def validate(self, attrs):
        if ("items" in attrs) == ("amount" in attrs):
            raise serializers.ValidationError(
                gettext(
                    "Send either items (the barcode and quantity of the units given back) or, for a sale "
                    "recorded without items, amount."
                )
            )
        return attrs


class SaleReturnSerializer(ReturnLinesMixin, serializers.ModelSerializer):
    """A return of a sale; `sale` names it (the view passes the sale in its context)."""

    sale = serializers.SerializerMethodField()
    amount = MoneyField(help_text="What was given back: the returned units' cost in the sale, or the amount.")
    created_at = ApiDateTimeField()

    class Meta:
        model = SaleReturn
        fields = ["id", "reference", "sale", "items", "amount", "created_at"]
        read_only_fields = fields

    @extend_schema_field(SaleKeysSerializer)
    def get_sale(self, sale_return):
        return sale_keys(self.context["sale"])


class ListedSaleReturnSerializer(TakenBackMixin, SaleReturnSerializer):
    """A return as listed: with what it took back, as it first answered."""

    class Meta(SaleReturnSerializer.Meta):
        fields = [*SaleReturnSerializer.Meta.fields, "reversed", "vouchers_cancelled", "vouchers_charged"]
        read_only_fields = fields


ReturnedSaleSerializer = inline_serializer(
    name="ReturnedSale",
    fields={
        "return": SaleReturnSerializer(),
        **taken_back_fields(),
        "warnings": serializers.ListField(child=serializers.CharField()),
        "wallet": WalletSerializer(allow_null=True),
    },
)


def return_conflict(sale: Sale, reference: str, conflict: ReturnConflict) -> ConflictError:
    return ConflictError(
        gettext(
            "Return %(reference)s of sale %(id)s was already recorded with other items or amount; nothing "
            "was returned. A different return needs its own reference."
        )
        % {"reference": repr(reference), "id": sale.pk},
        code="return_conflict",
        **{"return": {"id": conflict.extra["sale_return_id"], "reference": reference}},
    )


def sale_cancelled(sale: Sale) -> ConflictError:
    return ConflictError(
        gettext("Sale %(id)s is cancelled: nothing is left to return.") % {"id": sale.pk},
        code=SaleAlreadyCancelled.code,
        sale=sale_keys(sale),
    )


#: The v2 names of what may differ between a sale and its resend.
V2_FIELD_NAMES = {CUSTOMER: "customer", AMOUNT: "sale_amount"}


def sale_conflict(conflict: SaleConflict) -> ConflictError:
    sale = conflict.sale
    differences = [V2_FIELD_NAMES.get(name, name) for name in conflict.differences]
    return ConflictError(
        gettext(
            "Sale %(id)s was already recorded with reference %(reference)s and another %(differences)s; "
            "nothing was recorded. A different sale needs its own reference."
        )
        % {"id": sale.pk, "reference": repr(sale.reference), "differences": ", ".join(differences)},
        code="sale_conflict",
        sale=sale_keys(sale),
        differences=differences,
    )
