"""Sales in the server-to-server dialect.

"Send `sale_amount` by CPF or `customer_id` to trigger the loyalty engine." The answer
carries what the sale earned and the customer's wallet after it.

A sale is cancelled whole (`POST /sales/{id}/cancel`) or returned in part
(`POST /sales/{id}/returns`: units by barcode, or part of the amount of a sale without items,
under the return's own `reference`); `GET /sales/{id}/returns` lists its returns, and the
sale's `returns` counts them.
"""

from decimal import Decimal

import django_filters
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from customers.api.fields import DocumentField
from customers.api.v2 import DocumentFilter, WalletSerializer
from customers.services import UnknownCustomer
from loyalty.api.dialects import V2Mixin
from loyalty.api.fields import ApiDateTimeField, MoneyField
from loyalty.api.filters import IdFilter
from loyalty.core.dates import in_zone, parse_api_datetime
from loyalty.core.errors import ConflictError
from loyalty.core.receipts import Receipt
from loyalty.core.vocabulary import SaleType
from loyalty.tenancy.models import Store
from sales.api.returns import (
    ReturnLinesMixin,
    TakenBackMixin,
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
from sales.replays import AMOUNT, CUSTOMER, SaleConflict
from sales.selectors import return_lines, sale_queryset, sale_return_queryset, sale_wallet, stored_rewards
from sales.services import ReturnConflict, SaleAlreadyCancelled, sale_cancel, sale_record, sale_return

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
            raise serializers.ValidationError("Send exactly one of cpf and customer_id.")
        store_id = attrs.get("store")
        if store_id is not None:
            store = Store.objects.filter(account=self.context["account"], pk=store_id).first()
            if store is None:
                raise serializers.ValidationError(
                    {"store": [f"No store with id {store_id} in this account."]}
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
                "Send either items (the barcode and quantity of the units given back) or, for a sale "
                "recorded without items, amount."
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
        f"Return {reference!r} of sale {sale.pk} was already recorded with other items or amount; nothing "
        "was returned. A different return needs its own reference.",
        code="return_conflict",
        **{"return": {"id": conflict.extra["sale_return_id"], "reference": reference}},
    )


def sale_cancelled(sale: Sale) -> ConflictError:
    return ConflictError(
        f"Sale {sale.pk} is cancelled: nothing is left to return.",
        code=SaleAlreadyCancelled.code,
        sale=sale_keys(sale),
    )


#: The v2 names of what may differ between a sale and its resend.
V2_FIELD_NAMES = {CUSTOMER: "customer", AMOUNT: "sale_amount"}


def sale_conflict(conflict: SaleConflict) -> ConflictError:
    sale = conflict.sale
    differences = [V2_FIELD_NAMES.get(name, name) for name in conflict.differences]
    return ConflictError(
        f"Sale {sale.pk} was already recorded with reference {sale.reference!r} and another "
        f"{', '.join(differences)}; nothing was recorded. A different sale needs its own reference.",
        code="sale_conflict",
        sale=sale_keys(sale),
        differences=differences,
    )


class SaleFilter(django_filters.FilterSet):
    customer_id = IdFilter(field_name="customer_id")
    cpf = DocumentFilter(field_name="customer__document", help_text="CPF/CNPJ of the customer")
    store = IdFilter(field_name="store_id")
    status = django_filters.ChoiceFilter(choices=Sale.Status.choices)
    date_after = django_filters.CharFilter(
        method="filter_date", help_text="From this local day (YYYY-MM-DD) or instant, inclusive."
    )
    date_before = django_filters.CharFilter(
        method="filter_date", help_text="Up to this local day (YYYY-MM-DD) or instant, inclusive."
    )

    class Meta:
        model = Sale
        fields = ["customer_id", "cpf", "store", "status", "date_after", "date_before"]

    def filter_date(self, queryset, name, value):
        parsed = parse_api_datetime(value)
        if parsed is None:
            raise ValidationError({name: [f"Invalid date {value!r}. Use YYYY-MM-DD or a date and time."]})
        bound = "gte" if name == "date_after" else "lte"
        if len(value.strip()) == len("YYYY-MM-DD"):
            return queryset.filter(**{f"local_date__{bound}": parsed.date()})
        try:
            instant = in_zone(parsed, self.request.user.account.tzinfo)
        except OverflowError:
            # The calendar's first and last hours may not exist in UTC once moved from a zone.
            raise ValidationError({name: [f"Date/time {value!r} is out of range."]}) from None
        return queryset.filter(**{f"occurred_at__{bound}": instant})


@extend_schema_view(
    list=extend_schema(
        summary="List sales", description="Newest first. Filters by customer, store, dates, status."
    ),
    retrieve=extend_schema(summary="One sale with its rewards"),
)
@extend_schema(tags=["Sales"])
class SaleViewSet(V2Mixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Sale.objects.none()
    serializer_class = SaleSerializer
    filterset_class = SaleFilter
    lookup_value_regex = r"\d+"
    # A return: a reference of other units, a cancelled sale; more than is left, or the wrong form.
    openapi_error_codes = {"create": (409, 422), "return_create": (409, 422)}
    openapi_error_examples = {
        "return_create": {
            409: {
                "The reference of other units": {
                    "detail": (
                        "Return 'DEV-1' of sale 42 was already recorded with other items or amount; nothing "
                        "was returned. A different return needs its own reference."
                    ),
                    "code": "return_conflict",
                    "return": {"id": 3, "reference": "DEV-1"},
                },
                "A cancelled sale": {
                    "detail": "Sale 42 is cancelled: nothing is left to return.",
                    "code": "sale_cancelled",
                    "sale": {"id": 42, "reference": "ERP-0001", "status": "cancelled"},
                },
            },
            422: {
                "More units than are left": {
                    "detail": (
                        "Item '13456789': 3 unit(s) asked back, but 2 of the 2 bought are left to return."
                    ),
                    "code": "return_refused",
                    "item": "13456789",
                    "available": 2,
                },
                "An amount from a sale with items": {
                    "detail": "This sale has items: return them by barcode and quantity.",
                    "code": "return_refused",
                    "field": "items",
                },
                "More than is left of the amount": {
                    "detail": "60.01 asked back, but 60.00 of the sale's 100.00 is left to return.",
                    "code": "return_refused",
                    "field": "amount",
                    "available": 60,
                },
            },
        },
        "create": {
            409: {
                "Same reference, other content": {
                    "detail": (
                        "Sale 42 was already recorded with reference 'ERP-0001' and another customer, "
                        "sale_amount; nothing was recorded. A different sale needs its own reference."
                    ),
                    "code": "sale_conflict",
                    "sale": {"id": 42, "reference": "ERP-0001", "status": "recorded"},
                    "differences": ["customer", "sale_amount"],
                }
            }
        },
    }

    def scoped_queryset(self):
        return sale_queryset(account=self.account)

    def _sale(self) -> Sale:
        """The account's sale the path names, as a row: a return needs nothing of what the sale's
        representation reads (items, payments, vouchers, rewards)."""
        return get_object_or_404(Sale.objects.filter(account=self.account), pk=self.kwargs["pk"])

    @extend_schema(
        summary="Register a sale and trigger the loyalty rules",
        description=(
            "Exactly one of `cpf` (an unknown CPF creates the customer) and `customer_id` (unknown: 400). "
            "201 with the sale, what it earned and the wallet after it. The same `reference` again answers "
            "the first sale with 200 and earns nothing more when it is the same sale (customer, amount, "
            "items, payments, store and type); if it was cancelled meanwhile, its status says so, its "
            "rewards show what it holds now and a warning says when. The same `reference` with other "
            "content is a 409 `sale_conflict` naming the recorded sale; nothing is recorded."
        ),
        request=SaleCreateSerializer,
        responses={201: RecordedSaleSerializer, 200: RecordedSaleSerializer},
        examples=[OpenApiExample("Sale by CPF", value=SALE_EXAMPLE, request_only=True)],
    )
    def create(self, request):
        serializer = SaleCreateSerializer(
            data=request.data, context={"account": self.account, "request": request}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        sent = SaleInput(
            source=Sale.Source.API,
            occurred_at=data.get("date") or timezone.now(),
            store=data.get("store"),
            document=data.get("cpf") or None,
            customer_id=data.get("customer_id"),
            type=data.get("type") or "",
            receipt=Receipt.of(reference=data.get("reference")),
            declared_amount=data["sale_amount"],
            items=tuple(ItemInputSerializer.to_data(item) for item in data.get("items", [])),
            payments=tuple(PaymentInputSerializer.to_data(payment) for payment in data.get("payments", [])),
        )
        try:
            outcome = sale_record(account=self.account, sent=sent)
        except SaleConflict as conflict:
            raise sale_conflict(conflict) from None
        except UnknownCustomer as unknown:
            raise ValidationError({"customer_id": [unknown.detail]}) from None
        context = {"items": outcome.items, "payments": outcome.payments, "rewards": outcome.rewards}
        if outcome.created:
            context["returns"] = 0
        body = {
            "sale": SaleSerializer(outcome.sale, context=context).data,
            "wallet": WalletSerializer(outcome.wallet).data,
            "warnings": outcome.warnings,
        }
        return Response(body, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK)

    @extend_schema(
        summary="Cancel a sale and reverse its rewards",
        description=(
            "Reverses cashback, points, digital change and the wallet totals, cancels unused vouchers it "
            "issued and releases its promotion uses. Cancelling again answers `already_cancelled: true`."
        ),
        request=None,
        responses={200: CancelledSaleSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        outcome = sale_cancel(sale=self.get_object())
        sale = self.scoped_queryset().get(pk=outcome.sale.pk)
        return Response(
            {
                "sale": SaleSerializer(sale).data,
                "already_cancelled": outcome.already_cancelled,
                "reversed": reversed_data(outcome),
                "wallet": WalletSerializer(outcome.wallet).data if outcome.wallet else None,
            }
        )

    @extend_schema(
        summary="The sale's returns, newest first",
        description="Each return with its units (or amount) and what it took back, as it first answered.",
        responses={200: ListedSaleReturnSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def returns(self, request, pk=None):
        sale = self._sale()
        page = self.paginate_queryset(sale_return_queryset(sale=sale))
        return self.get_paginated_response(
            ListedSaleReturnSerializer(page, many=True, context={"sale": sale}).data
        )

    @extend_schema(
        summary="Return part of a sale",
        description=(
            "Gives back `items` (units by barcode), or for a sale recorded without items part of its "
            "`amount`, under the return's own `reference`. What they earned is taken back in proportion: "
            "each rule's cashback and points by the share of its eligible amount they carried, so that "
            "returning everything ends exactly as a cancel; `total_shoppings` and `total_discounts` go "
            "down, `count_shoppings` only when nothing is left; promotion uses are released once all their "
            "units are back. A voucher the sale earned at a threshold it no longer reaches is cancelled if "
            "unused; if used, its value is debited from the cashback balance (which may go negative) and a "
            "warning says so.\n\n"
            "201 with the return, what it moved (`reversed`: signed, by wallet field, as the cancel's), the "
            "vouchers cancelled and charged, and the wallet after it. The same `reference` again answers "
            "the first result with 200 (the wallet as it is now); with other units it is a 409 "
            "`return_conflict`. More units than are left (earlier returns counted), an item the sale does "
            "not have, more than is left of the amount, or the form that does not fit the sale (`amount` "
            "for a sale with items, `items` for one without) is a 422 `return_refused` naming the `item` or "
            "`field` (and what is `available`); a cancelled sale is a 409 `sale_cancelled`. Nothing is "
            "recorded on a refusal."
        ),
        request=SaleReturnCreateSerializer,
        responses={201: ReturnedSaleSerializer, 200: ReturnedSaleSerializer},
        examples=[
            OpenApiExample(
                "Units of a sale with items",
                value={"reference": "DEV-1", "items": [{"barcode": "13456789", "quantity": 1}]},
                request_only=True,
            ),
            OpenApiExample(
                "Part of a sale without items", value={"reference": "DEV-2", "amount": 40}, request_only=True
            ),
            OpenApiExample(
                "One unit given back",
                value={
                    "return": {
                        "id": 3,
                        "reference": "DEV-1",
                        "sale": {"id": 42, "reference": "ERP-0001", "status": "recorded"},
                        "items": [{"barcode": "13456789", "quantity": 1, "total": 12}],
                        "amount": 12,
                        "created_at": "2024-06-20T13:02:11.000000Z",
                    },
                    "reversed": {"balance": -0.6, "points": -12, "total_shoppings": -12},
                    "vouchers_cancelled": [],
                    "vouchers_charged": [],
                    "warnings": [],
                    "wallet": {
                        "points": 140.99,
                        "balance": 7.05,
                        "pending_points": 0,
                        "pending_balance": 0,
                        "digital_change": 0,
                        "total_shoppings": 140.99,
                        "count_shoppings": 1,
                        "total_discounts": 0,
                    },
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    @returns.mapping.post
    def return_create(self, request, pk=None):
        sale = self._sale()
        serializer = SaleReturnCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            outcome = sale_return(
                sale=sale,
                reference=data["reference"],
                items=returned_units(data.get("items", [])),
                amount=data.get("amount"),
            )
        except ReturnConflict as conflict:
            raise return_conflict(sale, data["reference"], conflict) from None
        except SaleAlreadyCancelled:
            raise sale_cancelled(sale) from None
        # A replay answers without the wallet: it is read as it stands now.
        wallet = outcome.wallet or sale_wallet(sale)
        context = {"sale": sale, "lines": return_lines(outcome.sale_return)}
        body = {
            "return": SaleReturnSerializer(outcome.sale_return, context=context).data,
            **taken_back_data(outcome.taken_back),
            "warnings": return_warnings(outcome.taken_back),
            "wallet": WalletSerializer(wallet).data if wallet else None,
        }
        return Response(body, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK)
