"""`GET /api/v2/reports/liability`: what the account owes its customers now, as JSON or CSV.

The report reads every app (`loyalty.shell.liability`), so its endpoint lives in the shell
too. `?format=csv` (or `Accept: text/csv`) picks the CSV renderer through DRF's own format
negotiation; errors stay JSON whatever was asked, as everywhere under `/api/`. The CSV is
rendered whole rather than streamed: the report is aggregated (a row per store, month and
window), so its size does not grow with the number of customers.
"""

from django.http import Http404
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.api.dialects import V2Mixin
from loyalty.api.fields import ApiDateTimeField, MoneyField, PointsField
from loyalty.api.renderers import CSVRenderer, CsvTable, JSONRenderer
from loyalty.core.ids import MAX_ID, parse_id
from loyalty.core.money import AMOUNT_MAX_DIGITS
from loyalty.shell.liability import (
    EXPIRY_WINDOWS,
    liability_csv_filename,
    liability_csv_rows,
    liability_report,
)


class LiabilityAmountsSerializer(serializers.Serializer):
    balance = MoneyField(help_text="Cashback balance (vale compras), R$.")
    digital_change = MoneyField(help_text="Digital change (troco digital), R$; it never expires.")
    points = PointsField()
    points_value = MoneyField(help_text="The points valued at `points_valuation.value_per_point`, R$.")
    total_value = MoneyField(help_text="`balance` + `digital_change` + `points_value`, R$.")


class LiabilityValuationSerializer(serializers.Serializer):
    value_per_point = serializers.DecimalField(
        max_digits=AMOUNT_MAX_DIGITS + 6,
        decimal_places=6,
        coerce_to_string=False,
        allow_null=True,
        help_text=(
            "R$ per point: the lowest `value` / `points_cost` among the active coupons with a points "
            "cost and a value (whatever their stock and dates); null when there is none, and points "
            "are then valued 0. Amounts are valued with the exact ratio, then rounded to the cent."
        ),
    )
    reward = serializers.IntegerField(
        source="reward_id", allow_null=True, help_text="The coupon it comes from."
    )
    reward_name = serializers.CharField(allow_null=True)


class LiabilityStoreSerializer(serializers.Serializer):
    store = serializers.IntegerField(
        source="store_id", allow_null=True, help_text="Null: no store (staff adjustments, for instance)."
    )
    store_name = serializers.CharField(allow_null=True)
    amounts = LiabilityAmountsSerializer(help_text="What was earned there and is still owed.")
    debts = LiabilityAmountsSerializer(help_text="What customers owe, by the store of their latest debits.")


class LiabilityMonthSerializer(serializers.Serializer):
    month = serializers.CharField(
        source="label",
        allow_null=True,
        help_text="YYYY-MM, the account's local month of the last day it can be spent; null: no expiry.",
    )
    amounts = LiabilityAmountsSerializer()


class LiabilityWindowSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    until = ApiDateTimeField(help_text="The report's time plus `days`: what cannot be spent from then on.")
    amounts = LiabilityAmountsSerializer()


class LiabilityReportSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account_id")
    account_name = serializers.CharField()
    time_zone = serializers.CharField(help_text="The account's: months are its local months.")
    generated_at = ApiDateTimeField()
    store = serializers.IntegerField(
        source="store_id", allow_null=True, help_text="The `store` filter, or null for the whole account."
    )
    points_valuation = LiabilityValuationSerializer(source="valuation")
    totals = LiabilityAmountsSerializer(help_text="Outstanding: the sum of the wallets' positive buckets.")
    debts = LiabilityAmountsSerializer(
        help_text="The sum of the negative buckets, as positive amounts: `totals` − `debts` is what the wallets hold."
    )
    by_store = LiabilityStoreSerializer(
        many=True,
        help_text=(
            "By store of origin: an expiry lot's store; for the rest of a wallet (and digital change), "
            "the stores of its latest credits that opened no lot. Rows add up to `totals`."
        ),
    )
    by_expiry_month = LiabilityMonthSerializer(
        many=True,
        help_text=(
            "By local month of expiry (a lot at its end or its customer's inactivity deadline, whichever "
            "comes first), oldest first, then `null`: what never expires. Rows add up to `totals`."
        ),
    )
    expiring = LiabilityWindowSerializer(
        many=True,
        help_text=(
            f"What expires within the next {', '.join(str(days) for days in EXPIRY_WINDOWS)} days "
            "(cumulative), already-due amounts the expiry job has not yet written included."
        ),
    )


_ZERO = {"balance": 0, "digital_change": 0, "points": 0, "points_value": 0, "total_value": 0}
EXAMPLE = {
    "account": 1,
    "account_name": "Mercado Exemplo",
    "time_zone": "America/Sao_Paulo",
    "generated_at": "2025-03-10T15:00:00.000000Z",
    "store": None,
    "points_valuation": {"value_per_point": 0.2, "reward": 3, "reward_name": "Vale R$ 20"},
    "totals": {"balance": 83, "digital_change": 8, "points": 460, "points_value": 92, "total_value": 183},
    "debts": {**_ZERO, "balance": 10, "total_value": 10},
    "by_store": [
        {
            "store": 1,
            "store_name": "Loja Centro",
            "amounts": {
                "balance": 33,
                "digital_change": 8,
                "points": 410,
                "points_value": 82,
                "total_value": 123,
            },
            "debts": {**_ZERO, "balance": 10, "total_value": 10},
        },
        {
            "store": None,
            "store_name": None,
            "amounts": {
                "balance": 50,
                "digital_change": 0,
                "points": 50,
                "points_value": 10,
                "total_value": 60,
            },
            "debts": _ZERO,
        },
    ],
    "by_expiry_month": [
        {
            "month": "2025-04",
            "amounts": {
                "balance": 33,
                "digital_change": 0,
                "points": 120,
                "points_value": 24,
                "total_value": 57,
            },
        },
        {
            "month": None,
            "amounts": {
                "balance": 50,
                "digital_change": 8,
                "points": 340,
                "points_value": 68,
                "total_value": 126,
            },
        },
    ],
    "expiring": [
        {
            "days": 30,
            "until": "2025-04-09T15:00:00.000000Z",
            "amounts": {**_ZERO, "balance": 33, "total_value": 33},
        },
        {
            "days": 60,
            "until": "2025-05-09T15:00:00.000000Z",
            "amounts": {
                "balance": 33,
                "digital_change": 0,
                "points": 120,
                "points_value": 24,
                "total_value": 57,
            },
        },
        {
            "days": 90,
            "until": "2025-06-08T15:00:00.000000Z",
            "amounts": {
                "balance": 33,
                "digital_change": 0,
                "points": 120,
                "points_value": 24,
                "total_value": 57,
            },
        },
    ],
}


def _store_filter(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    store_id = parse_id(value)
    if store_id is None:
        raise ValidationError(
            {
                "store": [
                    gettext("Use an id: a whole number from 1 to %(max)s; got %(value)s.")
                    % {"max": MAX_ID, "value": repr(value)}
                ]
            }
        )
    return store_id


@extend_schema(tags=["Reports"])
class LiabilityReportView(V2Mixin, APIView):
    renderer_classes = [JSONRenderer, CSVRenderer]
    openapi_error_codes = (400,)  # a malformed `store` or an unknown `format`

    def perform_content_negotiation(self, request, force=False):
        # DRF answers an unknown `?format=` with a bare 404; it is a bad parameter.
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            raise ValidationError({"format": [gettext("Use json or csv.")]}) from None

    def finalize_response(self, request, response, *args, **kwargs):
        # Only the report itself is CSV: an error answers JSON, as everything under /api/.
        if isinstance(response, Response) and not isinstance(response.data, CsvTable):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        operation_id="reports_liability",
        summary="Liability: what the account owes its customers",
        description=(
            "Cashback balance, digital change and points outstanding now (points also valued in R$ at "
            "the catalogue's cheapest R$ per point), what customers owe (negative wallets) apart, split "
            "by the store where it was earned and by month of expiry, with what expires within the "
            "next 30, 60 and 90 days. `?format=csv` answers the same figures as one CSV table "
            "(columns `section`, `key`, `label`, `balance`, `digital_change`, `points`, `points_value`, "
            "`total_value`; amounts with a decimal point)."
        ),
        parameters=[
            OpenApiParameter(
                "store",
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                description=(
                    "Only what was earned at this store (its part of the totals, months and windows); "
                    "a store that is not the account's owes nothing."
                ),
            ),
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=["json", "csv"],
                description="`csv` for a CSV file (as `Accept: text/csv`); JSON otherwise.",
            ),
        ],
        responses={
            (200, "application/json"): LiabilityReportSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
        },
        examples=[
            OpenApiExample("A report", value=EXAMPLE, response_only=True, media_type="application/json")
        ],
    )
    def get(self, request):
        report = liability_report(
            account=self.account, store_id=_store_filter(request.query_params.get("store"))
        )
        if request.accepted_renderer.format == CSVRenderer.format:
            return Response(
                CsvTable(liability_csv_rows(report)),
                headers={"Content-Disposition": f'attachment; filename="{liability_csv_filename(report)}"'},
            )
        return Response(LiabilityReportSerializer(report).data)
