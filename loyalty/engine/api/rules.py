"""The account's reward rules in the server-to-server dialect: `/api/v2/rules`.

Everything a merchant sets in the admin's *Reward rules* can be set here, validated the same
way: `RewardRule.clean()` (a rule's fields must fit its kind) and the engine's scope checks
(`loyalty.engine.program`). Every id a rule names (stores,
categories, reward, template) must be of the caller's account; another account's id is
refused exactly as an id that names nothing. There is no DELETE: a rule that granted
something is part of the wallets' history, so it is retired with `{"active": false}`.
"""

from collections.abc import Sequence
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from loyalty.api.dialects import V2Mixin
from loyalty.api.errors import refused

#: Stores or categories one rule may name.
from loyalty.engine.api.serializers import API_NAMES, LATER_GRANTS, NO_DELETE, RuleSerializer
from loyalty.engine.models import RewardRule
from loyalty.engine.program import RuleScope, rule_create, rule_queryset, rule_update, rules_scopes
from promotions.api.fields import BooleanFilter


class RuleFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=RewardRule.Kind.choices, help_text="Rules of this kind")
    active = BooleanFilter(field_name="active", help_text="1 active only, 0 retired only")

    class Meta:
        model = RewardRule
        fields = ["kind", "active"]


VOUCHER_RULE_EXAMPLE = OpenApiExample(
    "A voucher of R$ 20 from R$ 200, on weekdays, in one store",
    request_only=True,
    value={
        "name": "R$ 20 off from R$ 200",
        "kind": "voucher",
        "value": 20,
        "threshold": 200,
        "weekdays": [0, 1, 2, 3, 4],
        "store_ids": [1],
        "sale_types": ["CF", "NF"],
        "valid_days": 30,
    },
)
CASHBACK_RULE_EXAMPLE = OpenApiExample(
    "5 % cashback, released after 7 days, valid 90 days",
    request_only=True,
    value={"name": "5% cashback", "kind": "cashback", "value": 5, "pending_days": 7, "valid_days": 90},
)
RETIRE_EXAMPLE = OpenApiExample("Retire the rule", request_only=True, value={"active": False})
CHANGE_EXAMPLE = OpenApiExample(
    "Double the points at weekends",
    request_only=True,
    value={"value": 2, "weekdays": [5, 6]},
)


@extend_schema_view(
    list=extend_schema(
        summary="List the account's reward rules",
        description="Newest first. Filter by `kind` and `active`.",
    ),
    retrieve=extend_schema(summary="One reward rule", description=NO_DELETE),
)
@extend_schema(tags=["Program"])
class RuleViewSet(V2Mixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = RewardRule.objects.none()
    serializer_class = RuleSerializer
    filterset_class = RuleFilter
    lookup_value_regex = r"\d+"
    # No DELETE: rules that granted something are retired (`active: false`), never deleted.
    http_method_names = ["get", "post", "patch", "head", "options"]
    scopes: dict[int, RuleScope]

    def scoped_queryset(self) -> QuerySet[RewardRule]:
        return rule_queryset(account=self.account).order_by("-created_at", "-id")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "scopes": getattr(self, "scopes", {})}

    def _scoped(self, rules: Sequence[RewardRule]) -> None:
        """Read the stores and categories of the rules about to be answered."""
        self.scopes = rules_scopes(account_id=self.account.pk, rule_ids=[rule.pk for rule in rules])

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        self._scoped(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rule = self.get_object()
        self._scoped([rule])
        return Response(self.get_serializer(rule).data)

    @extend_schema(
        summary="Create a reward rule",
        description=(
            "Validated as the admin validates a rule, and the fields must fit the kind: `threshold` "
            "and `reward_id` only on voucher rules (`threshold` required), `template_id` only on "
            "message rules (required); cashback and points need a `value` above 0. Every id must be "
            "of the caller's account."
        ),
        request=RuleSerializer,
        responses={201: RuleSerializer},
        examples=[VOUCHER_RULE_EXAMPLE, CASHBACK_RULE_EXAMPLE],
    )
    def create(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            rule = rule_create(account=self.account, **serializer.validated_data)
        except DjangoValidationError as error:
            raise refused(error, API_NAMES) from None
        rule = self.get_queryset().get(pk=rule.pk)
        self._scoped([rule])
        return Response(self.get_serializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a reward rule",
        description=(
            "Partial: only the fields sent change, and the rule they make is validated whole (making "
            "it a voucher rule needs a `threshold`; making it a cashback rule needs `threshold` and "
            "`reward_id` null). `store_ids` and `category_ids` replace the rule's lists. "
            f"{LATER_GRANTS} {NO_DELETE}"
        ),
        request=RuleSerializer,
        responses={200: RuleSerializer},
        examples=[RETIRE_EXAMPLE, CHANGE_EXAMPLE],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rule = self.get_object()
        serializer = self.get_serializer(rule, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            rule = rule_update(rule=rule, **serializer.validated_data)
        except DjangoValidationError as error:
            raise refused(error, API_NAMES) from None
        self._scoped([rule])
        return Response(self.get_serializer(rule).data)
