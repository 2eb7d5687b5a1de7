"""Coupons (the rewards catalogue) and vouchers in the server-to-server dialect.

"Check coupons, vouchers, categories, and stock when the operation requires it."
"""

from decimal import Decimal

import django_filters
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from customers.api.fields import DocumentField
from customers.api.v2 import DocumentFilter
from customers.models import Customer
from loyalty.api.dialects import V2Mixin
from loyalty.api.fields import ApiDateTimeField, MoneyField, PointsField
from loyalty.api.filters import IdFilter
from loyalty.api.throttling import CredentialThrottle
from loyalty.tenancy.models import Store
from promotions.models import Category
from vouchers.models import Reward, Voucher
from vouchers.selectors import (
    reward_unavailable_reason,
    rewards_available,
    voucher_queryset,
    voucher_refusal,
    voucher_status,
    vouchers_with_status,
)
from vouchers.services import reward_create, reward_redeem, reward_stock_set, voucher_use

# --- coupons ---------------------------------------------------------------------------


class VoucherSerializer(serializers.ModelSerializer):
    customer_id = serializers.IntegerField()
    cpf = serializers.CharField(source="customer.document", allow_null=True)
    coupon = serializers.IntegerField(
        source="reward_id", allow_null=True, help_text="The reward it came from."
    )
    sale_id = serializers.IntegerField(allow_null=True, help_text="The sale that earned it.")
    status = serializers.SerializerMethodField()
    valid_from = ApiDateTimeField()
    valid_until = ApiDateTimeField()
    used_at = ApiDateTimeField(allow_null=True)
    used_store = serializers.IntegerField(source="used_store_id", allow_null=True)
    created_at = ApiDateTimeField()

    class Meta:
        model = Voucher
        fields = [
            "code",
            "customer_id",
            "cpf",
            "coupon",
            "sale_id",
            "value",
            "status",
            "valid_from",
            "valid_until",
            "used_at",
            "used_reference",
            "used_store",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=["active", "used", "expired", "cancelled"]))
    def get_status(self, voucher) -> str:
        return voucher_status(voucher, timezone.now())


class CouponSerializer(serializers.ModelSerializer):
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.none(),
        required=False,
        allow_null=True,
        help_text="Id of a category.",
        error_messages={
            "does_not_exist": _("No category with id {pk_value} in this account."),
            "incorrect_type": _("Send the id (a whole number) of a category; got {data_type}."),
        },
    )
    points_cost = PointsField(min_value=Decimal("0"), help_text="Points a customer gives for it.")
    value = MoneyField(min_value=Decimal("0"), help_text="Value of the voucher it issues.")
    stock = serializers.IntegerField(min_value=0, max_value=10**9, required=False, default=0)
    starts_at = ApiDateTimeField(required=False, allow_null=True)
    ends_at = ApiDateTimeField(required=False, allow_null=True)
    voucher_valid_days = serializers.IntegerField(min_value=1, max_value=3650, required=False, default=30)
    active = serializers.BooleanField(required=False, default=True)
    available = serializers.SerializerMethodField(help_text="Active, in stock and inside its dates now.")
    created_at = ApiDateTimeField(read_only=True)
    updated_at = ApiDateTimeField(read_only=True)

    class Meta:
        model = Reward
        fields = [
            "id",
            "name",
            "description",
            "category",
            "points_cost",
            "value",
            "stock",
            "starts_at",
            "ends_at",
            "voucher_valid_days",
            "active",
            "available",
            "created_at",
            "updated_at",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        account = self.context.get("account")
        if account is not None:
            self.fields["category"].queryset = Category.objects.filter(account=account)

    def get_available(self, reward) -> bool:
        return reward_unavailable_reason(reward, timezone.now()) is None

    def validate(self, attrs):
        starts, ends = attrs.get("starts_at"), attrs.get("ends_at")
        if starts and ends and ends <= starts:
            raise ValidationError({"ends_at": [gettext("Must be after starts_at.")]})
        return attrs


class StockChangeSerializer(serializers.Serializer):
    stock = serializers.IntegerField(min_value=0, max_value=10**9, required=False, help_text="Set the stock.")
    delta = serializers.IntegerField(
        min_value=-(10**9), max_value=10**9, required=False, help_text="Move the stock by this (signed)."
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate(self, attrs):
        if ("stock" in attrs) == ("delta" in attrs):
            raise ValidationError(gettext("Send exactly one of stock and delta."))
        return attrs


class CustomerReferenceSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField(required=False, allow_null=True)
    cpf = DocumentField(required=False, allow_null=True, allow_blank=True)

    def validate(self, attrs):
        if bool(attrs.get("cpf")) == (attrs.get("customer_id") is not None):
            raise ValidationError(gettext("Send exactly one of customer_id and cpf."))
        account = self.context["account"]
        if attrs.get("customer_id") is not None:
            customer = Customer.objects.filter(account=account, pk=attrs["customer_id"]).first()
            missing = {
                "customer_id": [
                    gettext("No customer with id %(id)s in this account.") % {"id": attrs["customer_id"]}
                ]
            }
        else:
            customer = Customer.objects.filter(account=account, document=attrs["cpf"]).first()
            missing = {"cpf": [gettext("No customer with this CPF/CNPJ in this account.")]}
        if customer is None:
            raise ValidationError(missing)
        attrs["customer"] = customer
        return attrs


# Points are stored with 14 digits, 2 of them decimals.
MAX_POINTS_FILTER = 10**12


class CouponFilter(django_filters.FilterSet):
    category = IdFilter(field_name="category_id", help_text="Category id")
    available = django_filters.BooleanFilter(
        method="filter_available", help_text="Active, in stock, inside dates"
    )
    max_points = django_filters.NumberFilter(
        field_name="points_cost",
        lookup_expr="lte",
        min_value=0,
        max_value=MAX_POINTS_FILTER,
        help_text="Coupons costing at most these points",
    )

    class Meta:
        model = Reward
        fields = ["category", "available", "max_points"]

    def filter_available(self, queryset, name, value):
        available = rewards_available(queryset, timezone.now())
        return available if value else queryset.exclude(pk__in=available.values("pk"))


@extend_schema_view(
    list=extend_schema(summary="List coupons (rewards)", description="Lists available coupons/rewards."),
    retrieve=extend_schema(summary="One coupon"),
)
@extend_schema(tags=["Coupons"])
class CouponViewSet(V2Mixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Reward.objects.none()
    serializer_class = CouponSerializer
    filterset_class = CouponFilter
    lookup_value_regex = r"\d+"
    openapi_error_codes = {"stock": (409,), "redeem": (409, 422)}

    def scoped_queryset(self):
        return Reward.objects.filter(account=self.account).order_by("name", "id")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "account": self.account}

    @extend_schema(
        summary="Create a coupon (reward)", request=CouponSerializer, responses={201: CouponSerializer}
    )
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reward = reward_create(
            account=self.account, credential=request.user.credential, **serializer.validated_data
        )
        return Response(self.get_serializer(reward).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Update stock of a specific reward",
        description='`{"stock": 40}` sets it; `{"delta": -3}` moves it. It never goes below 0 (409).',
        request=StockChangeSerializer,
        responses={200: CouponSerializer},
        examples=[
            OpenApiExample("Set", value={"stock": 40}, request_only=True),
            OpenApiExample("Move", value={"delta": -3}, request_only=True),
        ],
    )
    @action(detail=True, methods=["patch"])
    def stock(self, request, pk=None):
        serializer = StockChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        reward = reward_stock_set(
            reward=self.get_object(),
            stock=data.get("stock"),
            delta=data.get("delta"),
            reason=data.get("reason") or "",
            credential=request.user.credential,
        )
        return Response(self.get_serializer(reward).data)

    @extend_schema(
        summary="Redeem a coupon for a customer",
        description=(
            "Debits `points_cost` points, takes one unit of stock and issues a voucher — all or nothing. "
            "No stock: 409. Too few points: 422."
        ),
        request=CustomerReferenceSerializer,
        responses={201: VoucherSerializer},
    )
    @action(detail=True, methods=["post"])
    def redeem(self, request, pk=None):
        serializer = CustomerReferenceSerializer(data=request.data, context={"account": self.account})
        serializer.is_valid(raise_exception=True)
        voucher = reward_redeem(reward=self.get_object(), customer=serializer.validated_data["customer"])
        return Response(VoucherSerializer(voucher).data, status=status.HTTP_201_CREATED)


# --- vouchers --------------------------------------------------------------------------


class VoucherValidationSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    reason = serializers.ChoiceField(
        choices=["used", "expired", "cancelled", "not_yet_valid"],
        allow_null=True,
        help_text="Why it is not valid.",
    )
    voucher = VoucherSerializer()


class VoucherUseSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=64, help_text="The sale the voucher is used at.")
    store = serializers.IntegerField(
        required=False, allow_null=True, help_text="Id of one of the account's stores."
    )


class VoucherFilter(django_filters.FilterSet):
    customer_id = IdFilter(field_name="customer_id")
    cpf = DocumentFilter(field_name="customer__document", help_text="CPF/CNPJ of the customer")
    status = django_filters.ChoiceFilter(
        choices=[(value, value) for value in ("active", "used", "expired", "cancelled")],
        method="filter_status",
    )
    coupon = IdFilter(field_name="reward_id", help_text="Reward (coupon) id")

    class Meta:
        model = Voucher
        fields = ["customer_id", "cpf", "status", "coupon"]

    def filter_status(self, queryset, name, value):
        return vouchers_with_status(queryset, value, timezone.now())


class VoucherValidateThrottle(CredentialThrottle):
    scope = "voucher_validate"


@extend_schema_view(
    list=extend_schema(summary="List vouchers", description="Lists vouchers with optional pagination."),
    retrieve=extend_schema(summary="One voucher, by code (any case)"),
)
@extend_schema(tags=["Vouchers"])
class VoucherViewSet(V2Mixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Voucher.objects.none()
    serializer_class = VoucherSerializer
    filterset_class = VoucherFilter
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9]{1,32}"
    openapi_error_codes = {"use": (409,)}

    def scoped_queryset(self):
        return voucher_queryset(account=self.account)

    def get_object(self):
        # Codes are stored upper-case; matching them that way keeps the index in use.
        voucher = self.scoped_queryset().filter(code=self.kwargs["code"].upper()).first()
        if voucher is None:
            raise NotFound(gettext("No voucher with this code in this account."))
        return voucher

    @extend_schema(
        summary="Validate voucher by the provided code",
        description="Changes nothing. Unknown code: 404. Rate-limited per credential against code guessing.",
        request=None,
        responses={200: VoucherValidationSerializer},
    )
    @action(detail=True, methods=["post"], throttle_classes=[VoucherValidateThrottle])
    def validate(self, request, code=None):
        voucher = self.get_object()
        refusal = voucher_refusal(voucher, timezone.now())
        return Response(
            {
                "valid": refusal is None,
                "reason": refusal.reason if refusal else None,
                "voucher": VoucherSerializer(voucher).data,
            }
        )

    @extend_schema(
        summary="Use a voucher at a sale",
        description="Marks it used; a second use (or an expired, cancelled or not yet valid voucher) is 409.",
        request=VoucherUseSerializer,
        responses={200: VoucherSerializer},
    )
    @action(detail=True, methods=["post"])
    def use(self, request, code=None):
        serializer = VoucherUseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        store = None
        if serializer.validated_data.get("store") is not None:
            store = Store.objects.filter(account=self.account, pk=serializer.validated_data["store"]).first()
            if store is None:
                raise ValidationError({"store": [gettext("No store with this id in this account.")]})
        voucher = self.get_object()
        used = voucher_use(
            account=self.account,
            code=voucher.code,
            reference=serializer.validated_data["reference"],
            store=store,
        )
        return Response(VoucherSerializer(used).data)
