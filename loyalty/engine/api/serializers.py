"""The rules' API representation: fields by id of the account's objects, validated as the
admin validates a rule (the services decide; the serializer shapes and names the fields)."""

from collections.abc import Iterable
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty

from loyalty.api.fields import ApiDateTimeField, MoneyField
from loyalty.core.ids import MAX_ID
from loyalty.core.vocabulary import PaymentMethod, SaleType
from loyalty.engine.models import RewardRule
from loyalty.engine.program import RuleScope
from loyalty.outbox.models import MessageTemplate
from loyalty.tenancy.models import MAX_EXPIRY_DAYS, Account, Store
from promotions.models import Category
from vouchers.models import Reward

#: Stores or categories one rule may name.

MAX_SCOPE_IDS = 500
#: The model's names of what the API names by id, for the services' refusals.
API_NAMES = {
    "reward": "reward_id",
    "template": "template_id",
    "stores": "store_ids",
    "categories": "category_ids",
}
LATER_GRANTS = (
    "A change applies to later grants only: what the rule already granted keeps its amount, "
    "release date and expiry."
)
NO_DELETE = (
    "There is no DELETE (it answers 405): a rule that granted something is part of the wallets' "
    'history, so it is retired with `{"active": false}` and stays readable.'
)


def _account(context: dict[str, Any]) -> Account:
    account: Account = context["request"].user.account
    return account


class AccountObjectField(serializers.IntegerField):
    """The id of one of the caller's account's objects (answered as that id)."""

    default_error_messages = {"missing": _("No {noun} with id {pk} in this account.")}

    def __init__(self, *, model: type[Model], noun: str, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
        self.model, self.noun = model, noun

    def get_attribute(self, instance: Model) -> Any:
        # The id column: answering needs no query for the object itself.
        return getattr(instance, f"{self.source}_id")

    def run_validation(self, data: Any = empty) -> Model | None:
        # Looked up once the id is known to be one (its bounds checked).
        pk = super().run_validation(data)
        if pk is None:
            return None
        # Another account's id gets the answer of an id that names nothing: no leak.
        found = self.model._default_manager.filter(account=_account(self.context), pk=pk).first()
        if found is None:
            self.fail("missing", noun=self.noun, pk=pk)
        return found


class AccountObjectsField(serializers.ListField):
    """Ids of the caller's account's objects, looked up in one query (answered as ids)."""

    default_error_messages = {"missing": _("No {noun} with id {pks} in this account.")}

    def __init__(self, *, model: type[Model], noun: str, scope: str, **kwargs: Any) -> None:
        kwargs.setdefault("child", serializers.IntegerField(min_value=1, max_value=MAX_ID))
        kwargs.setdefault("max_length", MAX_SCOPE_IDS)
        super().__init__(**kwargs)
        self.model, self.noun, self.scope = model, noun, scope

    def get_attribute(self, instance: Model) -> Any:
        scopes: dict[int, RuleScope] = self.context.get("scopes", {})
        return list(getattr(scopes.get(instance.pk, RuleScope()), self.scope))

    def run_validation(self, data: Any = empty) -> list[Model]:
        # Looked up once the list is known to hold ids, and not too many.
        ids = list(dict.fromkeys(super().run_validation(data)))
        found = {
            item.pk: item
            # Unordered: the models' default orderings would join the account only to sort.
            for item in self.model._default_manager.filter(
                account=_account(self.context), pk__in=ids
            ).order_by()
        }
        missing = [pk for pk in ids if pk not in found]
        if missing:
            self.fail("missing", noun=self.noun, pks=", ".join(str(pk) for pk in missing))
        return [found[pk] for pk in ids]


def _distinct_sorted(values: Iterable[Any]) -> list[Any]:
    return sorted(set(values))


class RuleSerializer(serializers.ModelSerializer):
    """A rule as the API answers and takes it: what it names by id, amounts as numbers."""

    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(
        choices=RewardRule.Kind.choices,
        help_text=(
            "`cashback`: `value` percent of the eligible amount to the balance; `points`: `value` "
            "points per R$ 1; `voucher`: a voucher when the eligible amount reaches `threshold`; "
            "`message`: queues `template_id`."
        ),
    )
    value = serializers.DecimalField(
        max_digits=12,
        decimal_places=4,
        min_value=0,
        coerce_to_string=False,
        required=False,
        help_text=(
            "Cashback: percent of the eligible amount (5 = 5 %). Points: points per R$ 1. "
            "Voucher: the voucher's value in R$ (or 0 with a `reward_id`). Message: not used."
        ),
    )
    threshold = MoneyField(
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Voucher rules only (required there): the eligible amount that earns the voucher.",
    )
    reward_id = AccountObjectField(
        model=Reward,
        noun=_("reward"),
        source="reward",
        required=False,
        allow_null=True,
        help_text="Voucher rules only: the catalogue reward (coupon) it hands out, taking its stock.",
    )
    template_id = AccountObjectField(
        model=MessageTemplate,
        noun=_("message template"),
        source="template",
        required=False,
        allow_null=True,
        help_text="Message rules only (required there): the message template it queues.",
    )
    starts_at = ApiDateTimeField(required=False, allow_null=True, help_text="Empty: since always.")
    ends_at = ApiDateTimeField(required=False, allow_null=True, help_text="Empty: open-ended.")
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        max_length=7,
        required=False,
        help_text="Local weekdays on which it applies, 0 = Monday to 6 = Sunday; empty: every day.",
    )
    store_ids = AccountObjectsField(
        model=Store,
        noun=_("store"),
        scope="store_ids",
        source="stores",
        required=False,
        help_text="Ids of the account's stores it is limited to; empty: every store.",
    )
    category_ids = AccountObjectsField(
        model=Category,
        noun=_("category"),
        scope="category_ids",
        source="categories",
        required=False,
        help_text="Only items of these categories (their children included) are eligible; empty: the whole sale.",
    )
    excluded_payment_methods = serializers.ListField(
        child=serializers.ChoiceField(choices=PaymentMethod.choices),
        max_length=len(PaymentMethod.values),
        required=False,
        help_text="Payment methods (1–9) whose share earns nothing; default: [9], digital change.",
    )
    minimum_amount = MoneyField(min_value=0, required=False, help_text="Minimum eligible amount (R$).")
    maximum_reward = MoneyField(
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Cap of the reward of one sale (R$ for cashback, points for points); null: no cap.",
    )
    sale_types = serializers.ListField(
        child=serializers.ChoiceField(choices=SaleType.choices),
        max_length=len(SaleType.values),
        required=False,
        help_text="Sale types that earn (DAV, OS, FOOD, CF, NF); empty: all.",
    )
    pending_days = serializers.IntegerField(
        min_value=0,
        max_value=MAX_EXPIRY_DAYS,
        required=False,
        allow_null=True,
        help_text="Days before what it grants becomes available (0 or null: at once).",
    )
    valid_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        required=False,
        allow_null=True,
        help_text=(
            "Points and cashback it grants can be spent until the end of the local day this many "
            "days after they became available; vouchers: their validity in days. Null: no expiry. "
            f"{LATER_GRANTS}"
        ),
    )
    active = serializers.BooleanField(required=False, help_text="false retires the rule; default true.")
    granted = serializers.BooleanField(
        read_only=True,
        help_text="Whether it has granted anything (ledger rows or vouchers name it): it is then retired, never deleted.",
    )
    created_at = ApiDateTimeField(read_only=True)
    updated_at = ApiDateTimeField(read_only=True)

    class Meta:
        model = RewardRule
        fields = [
            "id",
            "name",
            "kind",
            "value",
            "threshold",
            "reward_id",
            "template_id",
            "starts_at",
            "ends_at",
            "weekdays",
            "store_ids",
            "category_ids",
            "excluded_payment_methods",
            "minimum_amount",
            "maximum_reward",
            "sale_types",
            "pending_days",
            "valid_days",
            "active",
            "granted",
            "created_at",
            "updated_at",
        ]

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(gettext("This field may not be blank."))
        return value.strip()

    def validate_weekdays(self, value: list[int]) -> list[int]:
        return _distinct_sorted(value)

    def validate_excluded_payment_methods(self, value: list[int]) -> list[int]:
        return _distinct_sorted(value)

    def validate_sale_types(self, value: list[str]) -> list[str]:
        return _distinct_sorted(value)
