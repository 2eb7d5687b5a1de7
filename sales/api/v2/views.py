"""Sales in the server-to-server dialect.

"Send `sale_amount` by CPF or `customer_id` to trigger the loyalty engine." The answer
carries what the sale earned and the customer's wallet after it.

A sale is cancelled whole (`POST /sales/{id}/cancel`) or returned in part
(`POST /sales/{id}/returns`: units by barcode, or part of the amount of a sale without items,
under the return's own `reference`); `GET /sales/{id}/returns` lists its returns, and the
sale's `returns` counts them.
"""

import django_filters
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from customers.api.v2 import DocumentFilter, WalletSerializer
from customers.services import UnknownCustomer
from loyalty.api.dialects import V2Mixin
from loyalty.api.filters import IdFilter
from loyalty.core.dates import in_zone, parse_api_datetime
from loyalty.core.receipts import Receipt
from sales.api.returns import (
    return_warnings,
    returned_units,
    taken_back_data,
)
from sales.api.serializers import (
    ItemInputSerializer,
    PaymentInputSerializer,
    reversed_data,
)
from sales.api.v2.serializers import (
    SALE_EXAMPLE,
    CancelledSaleSerializer,
    ListedSaleReturnSerializer,
    RecordedSaleSerializer,
    ReturnedSaleSerializer,
    SaleCreateSerializer,
    SaleReturnCreateSerializer,
    SaleReturnSerializer,
    SaleSerializer,
    return_conflict,
    sale_cancelled,
    sale_conflict,
)
from sales.models import Sale
from sales.outcomes import SaleInput
from sales.replays import SaleConflict
from sales.selectors import return_lines, sale_queryset, sale_return_queryset, sale_wallet
from sales.services import ReturnConflict, SaleAlreadyCancelled, sale_cancel, sale_record, sale_return


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
            raise ValidationError(
                {
                    name: [
                        gettext("Invalid date %(value)s. Use YYYY-MM-DD or a date and time.")
                        % {"value": repr(value)}
                    ]
                }
            )
        bound = "gte" if name == "date_after" else "lte"
        if len(value.strip()) == len("YYYY-MM-DD"):
            return queryset.filter(**{f"local_date__{bound}": parsed.date()})
        try:
            instant = in_zone(parsed, self.request.user.account.tzinfo)
        except OverflowError:
            # The calendar's first and last hours may not exist in UTC once moved from a zone.
            raise ValidationError(
                {name: [gettext("Date/time %(value)s is out of range.") % {"value": repr(value)}]}
            ) from None
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
