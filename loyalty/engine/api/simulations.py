"""What-if in the server-to-server dialect: `POST /api/v2/rules/simulate`.

A draft of the program — rules added, changed, retired — is validated as `POST /api/v2/rules`
and `PATCH /api/v2/rules/{id}` validate it (a 400 names the field, under `add` or `change`
and the entry's index), then replayed over the account's recorded sales beside the rules in
force (`loyalty.engine.simulation`). Nothing is written. A rule id of another account is a
404, as the rule's own URL answers it.
"""

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.api.dialects import V2Mixin
from loyalty.api.errors import refused
from loyalty.api.fields import MoneyField, PointsField
from loyalty.core.ids import MAX_ID
from loyalty.engine.api.serializers import API_NAMES, AccountObjectsField, RuleSerializer
from loyalty.engine.models import RewardRule
from loyalty.engine.program import rule_build, rule_draft_change
from loyalty.engine.simulation.services import (
    DEFAULT_RANGE_DAYS,
    MAX_RANGE_DAYS,
    Draft,
    DraftRule,
    Window,
    rules_simulate,
)
from loyalty.tenancy.models import Store

#: Rules one draft may add, change or retire.
MAX_DRAFT_RULES = 50


class RuleChangeSerializer(RuleSerializer):
    """A change of one of the account's rules: its `id` and the fields that change."""

    id = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The rule changed.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "id":
                field.required = False


class SimulationRequestSerializer(serializers.Serializer):
    date_from = serializers.DateField(
        required=False,
        help_text=f"First local day of the sales replayed; default: {DEFAULT_RANGE_DAYS} days before `date_to`.",
    )
    date_to = serializers.DateField(required=False, help_text="Last local day replayed; default: today.")
    store_ids = AccountObjectsField(
        model=Store,
        noun=_("store"),
        scope="store_ids",
        required=False,
        help_text="Only the sales of these stores; empty: every store.",
    )
    add = serializers.ListField(
        child=RuleSerializer(),
        required=False,
        max_length=MAX_DRAFT_RULES,
        help_text="New rules, as `POST /api/v2/rules` takes them.",
    )
    change = serializers.ListField(
        child=RuleChangeSerializer(),
        required=False,
        max_length=MAX_DRAFT_RULES,
        help_text="Changes of rules, as `PATCH /api/v2/rules/{id}` takes them, each with the rule's `id`.",
    )
    retire = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=MAX_DRAFT_RULES,
        help_text="Ids of rules the draft retires.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        date_to, date_from = attrs.get("date_to"), attrs.get("date_from")
        if date_to is None:
            date_to = attrs["date_to"] = self.context["today"]
        if date_from is None:
            date_from = attrs["date_from"] = date_to - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        if date_from > date_to:
            raise ValidationError({"date_from": [gettext("date_from is after date_to.")]})
        if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
            raise ValidationError(
                {
                    "date_from": [
                        gettext("A simulation covers at most %(days)s days.") % {"days": MAX_RANGE_DAYS}
                    ]
                }
            )
        changed = [change["id"] for change in attrs.get("change", [])]
        twice = sorted({pk for pk in changed if changed.count(pk) > 1})
        if twice:
            raise ValidationError(
                {"change": [gettext("Each rule is changed once: %(ids)s twice.") % {"ids": _ids(twice)}]}
            )
        both = sorted(set(changed) & set(attrs.get("retire", [])))
        if both:
            raise ValidationError(
                {"retire": [gettext("Rules both changed and retired: %(ids)s.") % {"ids": _ids(both)}]}
            )
        return attrs


def _ids(ids: list[int]) -> str:
    return ", ".join(str(pk) for pk in ids)


class SimulatedTotalsSerializer(serializers.Serializer):
    cashback = MoneyField(help_text="Cashback granted, R$.")
    points = PointsField(help_text="Points granted.")
    points_value = MoneyField(help_text="The points valued at the catalogue's cheapest R$ per point.")
    vouchers = serializers.IntegerField(help_text="Vouchers issued.")
    vouchers_value = MoneyField(help_text="Their value, R$.")
    cost = MoneyField(help_text="cashback + points_value + vouchers_value, R$.")
    customers = serializers.IntegerField(help_text="Customers who earned something.")


class SimulatedComparisonSerializer(serializers.Serializer):
    current = SimulatedTotalsSerializer(help_text="Under the rules in force.")
    draft = SimulatedTotalsSerializer(help_text="Under the draft.")
    difference = SimulatedTotalsSerializer(help_text="draft − current.")


class SimulatedDaySerializer(SimulatedComparisonSerializer):
    date = serializers.DateField()


class SimulatedStoreSerializer(SimulatedComparisonSerializer):
    store_id = serializers.IntegerField(allow_null=True)
    store_name = serializers.CharField(allow_null=True)


class SimulatedCategorySerializer(SimulatedComparisonSerializer):
    category_id = serializers.IntegerField(allow_null=True, help_text="Null: items without a category.")
    category_name = serializers.CharField(allow_null=True)


class PointsValuationSerializer(serializers.Serializer):
    reward_id = serializers.IntegerField(allow_null=True)
    reward_name = serializers.CharField(allow_null=True)
    value_per_point = serializers.DecimalField(max_digits=20, decimal_places=6, coerce_to_string=False)


class LiabilityAddedSerializer(serializers.Serializer):
    cashback = MoneyField()
    points = PointsField()
    points_value = MoneyField()
    vouchers_value = MoneyField()
    total = MoneyField()


class RuleReplayedSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Null: a rule the draft adds.")
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=RewardRule.Kind.choices)


class DraftRuleReplayedSerializer(RuleReplayedSerializer):
    status = serializers.ChoiceField(choices=["unchanged", "changed", "added"])


class RulesReplayedSerializer(serializers.Serializer):
    current = RuleReplayedSerializer(many=True, help_text="The active rules.")
    draft = DraftRuleReplayedSerializer(many=True, help_text="The draft's active rules.")
    retired = serializers.ListField(child=serializers.IntegerField())


class SimulationSerializer(SimulatedComparisonSerializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    store_ids = serializers.ListField(child=serializers.IntegerField())
    rules = RulesReplayedSerializer()
    sales = serializers.IntegerField(help_text="Recorded sales replayed (identified, not cancelled).")
    customers = serializers.IntegerField(help_text="Customers with a sale in the range.")
    points_valued_at = PointsValuationSerializer()
    liability_added = LiabilityAddedSerializer(
        help_text=(
            "What the draft would have added to what the account owes today: its extra grants still "
            "unexpired today (minus the current rules'), as if none of it had been spent."
        )
    )
    by_day = SimulatedDaySerializer(many=True, help_text="Every local day of the range.")
    by_store = SimulatedStoreSerializer(many=True)
    by_category = SimulatedCategorySerializer(
        many=True, help_text="Cashback and points, shared among the eligible items by their value."
    )


def _draft(account: Any, data: dict[str, Any]) -> Draft:
    """The draft's rules, each validated whole; a refusal names the entry and the field."""
    rules = {
        rule.pk: rule
        for rule in RewardRule.objects.filter(
            account=account,
            pk__in=[change["id"] for change in data.get("change", [])] + data.get("retire", []),
        ).select_related("reward")
    }
    missing = [
        pk
        for pk in [change["id"] for change in data.get("change", [])] + data.get("retire", [])
        if pk not in rules
    ]
    if missing:
        raise NotFound(gettext("No rule with id %(ids)s in this account.") % {"ids": _ids(missing)})
    added, changed = [], []
    for index, fields in enumerate(data.get("add", [])):
        stores, categories = fields.pop("stores", ()), fields.pop("categories", ())
        try:
            rule = rule_build(account=account, **fields)
        except DjangoValidationError as error:
            raise ValidationError({"add": {index: refused(error, API_NAMES).detail}}) from None
        added.append(
            DraftRule(
                rule=rule,
                store_ids=tuple(store.pk for store in stores),
                category_ids=tuple(category.pk for category in categories),
            )
        )
    for index, fields in enumerate(data.get("change", [])):
        rule = rules[fields.pop("id")]
        stores, categories = fields.pop("stores", None), fields.pop("categories", None)
        try:
            draft = rule_draft_change(rule=rule, changes=fields)
        except DjangoValidationError as error:
            raise ValidationError({"change": {index: refused(error, API_NAMES).detail}}) from None
        changed.append(
            DraftRule(
                rule=draft,
                store_ids=None if stores is None else tuple(store.pk for store in stores),
                category_ids=None if categories is None else tuple(category.pk for category in categories),
            )
        )
    return Draft(add=tuple(added), change=tuple(changed), retire=tuple(data.get("retire", [])))


DOUBLE_SATURDAYS = OpenApiExample(
    "Double points on Saturdays, last 90 days",
    request_only=True,
    value={"add": [{"name": "Double points on Saturdays", "kind": "points", "value": 1, "weekdays": [5]}]},
)
CASHBACK_CHANGE = OpenApiExample(
    "Cashback of rule 3 from 5 % to 10 % on Hortifruti, in May",
    request_only=True,
    value={
        "date_from": "2026-05-01",
        "date_to": "2026-05-31",
        "change": [{"id": 3, "value": 10, "category_ids": [12]}],
    },
)


class SimulateView(V2Mixin, APIView):
    # Reads only: no transaction around it (the replay reads in one of its own).
    writes = False
    openapi_error_codes = (404,)

    @extend_schema(
        tags=["Program"],
        operation_id="rules_simulate",
        summary="What if: the rules in force and a draft, replayed over recorded sales",
        description=(
            "Replays every recorded, identified, non-cancelled sale of the local days `date_from` to "
            f"`date_to` (default: the last {DEFAULT_RANGE_DAYS} days; at most {MAX_RANGE_DAYS}) — their "
            "returns taken back — through the engine's rule evaluation under the active rules and under "
            "the draft (`add`, `change`, `retire`), and answers what each would have granted, the "
            "difference, by day, store and category, and the liability the draft adds that would still "
            "be unexpired today. Nothing is written. The draft's rules are validated as `POST` and "
            "`PATCH /api/v2/rules` validate them: a 400 names the field under `add` or `change` and the "
            "entry's index. A rule id that is not of the account is a 404. Vouchers are counted as if "
            "every reward had stock."
        ),
        request=SimulationRequestSerializer,
        responses={200: SimulationSerializer},
        examples=[DOUBLE_SATURDAYS, CASHBACK_CHANGE],
    )
    def post(self, request: Request) -> Response:
        window_default = Window.default(self.account)
        serializer = SimulationRequestSerializer(
            data=request.data, context={"request": request, "today": window_default.date_to}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        draft = _draft(self.account, data)
        window = Window(
            date_from=data["date_from"],
            date_to=data["date_to"],
            store_ids=tuple(store.pk for store in data.get("store_ids", [])),
        )
        result = rules_simulate(account=self.account, window=window, draft=draft)
        return Response(result)
