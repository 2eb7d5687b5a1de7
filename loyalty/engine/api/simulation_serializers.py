"""The simulator's API representation: the draft as taken (rules in the shape of
`POST /api/v2/rules`, changes in that of `PATCH /api/v2/rules/{id}`), the answer, and a
simulation run's state."""

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from loyalty.api.fields import ApiDateTimeField, MoneyField, PointsField
from loyalty.core.ids import MAX_ID
from loyalty.engine.api.serializers import AccountObjectsField, RuleSerializer
from loyalty.engine.models import RewardRule
from loyalty.engine.simulation.models import Simulation
from loyalty.engine.simulation.services import DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS, Window
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
            date_from = attrs["date_from"] = Window.ending(date_to).date_from
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


class SimulationAnswerSerializer(SimulationSerializer):
    id = serializers.IntegerField(
        help_text="The simulation: `GET /api/v2/rules/simulations/{id}` answers it again."
    )


class SimulationRunSerializer(serializers.ModelSerializer):
    """Where a simulation stands, and its answer once done."""

    progress = serializers.FloatField(help_text="Share of the sales replayed, 0 to 1.")
    created_at = ApiDateTimeField()
    started_at = ApiDateTimeField(allow_null=True)
    finished_at = ApiDateTimeField(allow_null=True)
    kept_until = ApiDateTimeField(allow_null=True, help_text="When it is deleted (null until it ends).")
    result = serializers.SerializerMethodField(help_text="The answer, once `status` is `done`; else null.")

    class Meta:
        model = Simulation
        fields = [
            "id",
            "status",
            "progress",
            "sales_total",
            "sales_done",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "kept_until",
            "result",
        ]
        read_only_fields = fields

    @extend_schema_field(SimulationSerializer(allow_null=True))
    def get_result(self, simulation: Simulation) -> dict[str, Any] | None:
        return simulation.result
