"""Promotions in the POS dialect: "Listar / Adicionar / Atualizar / Excluir promoção".

The list is a plain JSON array in exactly the seed's shape. Deleting withdraws the
promotion (`disabled_at`): it leaves the list and the quotes, stays in the history of the
purchases that used it, and its id answers 404 from then on.
"""

import django_filters
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from loyalty.api.dialects import PosMixin
from loyalty.api.fields import ApiDateTimeField, QuantityField
from promotions.api.fields import BarcodeField, BooleanFilter
from promotions.api.pos.products import PRODUCT_EXAMPLE, PosProductSerializer
from promotions.models import Promotion
from promotions.selectors import product_by_barcode, promotion_queryset
from promotions.services import PromotionTerms, promotion_create, promotion_disable, promotion_update

PROMOTION_REQUEST_EXAMPLE = {
    "limit": 0,
    "barcode": "1234",
    "minimum_quantity": 0,
    "percent_off": 10,
    "quantity_limit": 0,
    "starts_at": "2024-05-22 15:45:00",
    "active": True,
}
PROMOTION_EXAMPLE = {
    "id": 1,
    "product": PRODUCT_EXAMPLE,
    "percent_off": 10,
    "limit": 1,
    "quantity_limit": 2,
    "minimum_quantity": 1,
    "starts_at": "2024-05-20T12:06:23.000000Z",
    "expires_at": None,
    "disabled_at": None,
    "active": True,
    "created_at": "2024-05-20T12:06:27.000000Z",
    "updated_at": "2024-05-21T12:24:52.000000Z",
}
PERCENT_OFF_MESSAGE = _("percent_off must be more than 0 and at most 100.")
MAX_LIMIT = 2_147_483_647


class PercentOffField(serializers.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Discount on each discounted unit: more than 0, at most 100.")
        super().__init__(
            max_digits=5,
            decimal_places=2,
            coerce_to_string=False,
            error_messages={"max_digits": PERCENT_OFF_MESSAGE, "max_whole_digits": PERCENT_OFF_MESSAGE},
            **kwargs,
        )


class PosPromotionSerializer(serializers.ModelSerializer):
    product = PosProductSerializer(read_only=True)
    percent_off = PercentOffField(read_only=True)
    quantity_limit = QuantityField(read_only=True)
    minimum_quantity = QuantityField(read_only=True)
    starts_at = ApiDateTimeField(read_only=True)
    expires_at = ApiDateTimeField(read_only=True, allow_null=True)
    disabled_at = ApiDateTimeField(read_only=True, allow_null=True)
    active = serializers.BooleanField(read_only=True)
    created_at = ApiDateTimeField(read_only=True)
    updated_at = ApiDateTimeField(read_only=True)

    class Meta:
        model = Promotion
        fields = [
            "id",
            "product",
            "percent_off",
            "limit",
            "quantity_limit",
            "minimum_quantity",
            "starts_at",
            "expires_at",
            "disabled_at",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PromotionWriteSerializer(serializers.Serializer):
    """The seed's body. POST creates; PUT replaces every field (an omitted one takes its default)."""

    barcode = BarcodeField(help_text="Barcode of a product of the account (see POST /products).")
    percent_off = PercentOffField()
    limit = serializers.IntegerField(
        min_value=0,
        max_value=MAX_LIMIT,
        default=0,
        help_text="Purchases one consumer (CPF/CNPJ) may make with it; 0 means no limit.",
    )
    quantity_limit = QuantityField(
        min_value=0, default=0, help_text="Units of one purchase that get the discount; 0 means all."
    )
    minimum_quantity = QuantityField(
        min_value=0, default=0, help_text="Units the purchase needs for the discount to apply."
    )
    starts_at = ApiDateTimeField(required=False, help_text="Start of the window; now when omitted.")
    expires_at = ApiDateTimeField(
        required=False, allow_null=True, default=None, help_text="End of the window; null is open-ended."
    )
    active = serializers.BooleanField(default=True, help_text="The merchant's switch.")

    def validate_percent_off(self, value):
        if not 0 < value <= 100:
            raise serializers.ValidationError(
                gettext("percent_off must be more than 0 and at most 100. Got %(value)s.") % {"value": value}
            )
        return value

    def validate(self, attrs):
        account = self.context["request"].user.account
        product = product_by_barcode(account=account, barcode=attrs.pop("barcode"))
        if product is None:
            raise serializers.ValidationError(
                {
                    "barcode": [
                        gettext(
                            "No product with this barcode in this account; register it with POST /products."
                        )
                    ]
                }
            )
        attrs["product"] = product
        attrs.setdefault("starts_at", timezone.now())
        if attrs["expires_at"] is not None and attrs["expires_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError(
                {"expires_at": [gettext("Must be after starts_at, or null for an open-ended promotion.")]}
            )
        return attrs


class PromotionFilter(django_filters.FilterSet):
    active = BooleanFilter(field_name="active", help_text="1 switched on only, 0 switched off only")
    barcode = django_filters.CharFilter(field_name="product__barcode", help_text="Barcode of the product")

    class Meta:
        model = Promotion
        fields = ["active", "barcode"]


def write_schema(action: str, status_code: int, summary: str, description: str):
    return extend_schema(
        operation_id=f"pos_promotions_{action}",
        summary=summary,
        description=description,
        request=PromotionWriteSerializer,
        responses={status_code: PosPromotionSerializer},
        examples=[
            OpenApiExample("Promotion", value=PROMOTION_REQUEST_EXAMPLE, request_only=True),
            OpenApiExample("Saved promotion", value=PROMOTION_EXAMPLE, response_only=True),
        ],
    )


@extend_schema_view(
    list=extend_schema(
        operation_id="pos_promotions_list",
        summary="Listar promoções — list promotions",
        description=(
            "A JSON array (not paginated), newest first. Withdrawn (deleted) promotions never appear. "
            "`?active=1` keeps those switched on, `?barcode=` those of one product."
        ),
        # One element: drf-spectacular wraps a list action's example in the array itself.
        examples=[OpenApiExample("Promotions", value=PROMOTION_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(operation_id="pos_promotions_retrieve", summary="One promotion"),
    create=write_schema(
        "create",
        201,
        "Adicionar promoção — add a promotion",
        "`barcode` names a product of the account; `expires_at` is optional (open-ended).",
    ),
    update=write_schema(
        "update",
        200,
        "Atualizar promoção — replace a promotion",
        "Replaces every field; an omitted optional field takes its default.",
    ),
    destroy=extend_schema(
        operation_id="pos_promotions_destroy",
        summary="Excluir promoção — delete a promotion",
        description=(
            "Withdraws it: it gets `disabled_at`, leaves the list and the quotes, and stays in the "
            "history of the purchases that used it. Its id answers 404 afterwards."
        ),
    ),
)
@extend_schema(tags=["POS · Promotions"])
class PromotionViewSet(
    PosMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Promotion.objects.none()
    serializer_class = PosPromotionSerializer
    filterset_class = PromotionFilter
    pagination_class = None
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    def scoped_queryset(self):
        return promotion_queryset(account=self.account)

    def get_object(self):
        promotion = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if promotion is None:
            raise NotFound(gettext("No promotion with this id in this account."))
        return promotion

    def _write_serializer(self, request) -> PromotionWriteSerializer:
        serializer = PromotionWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer

    def create(self, request):
        terms = PromotionTerms(**self._write_serializer(request).validated_data)
        promotion = promotion_create(account=self.account, terms=terms)
        return Response(self.get_serializer(promotion).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        promotion = self.get_object()
        terms = PromotionTerms(**self._write_serializer(request).validated_data)
        promotion = promotion_update(promotion=promotion, terms=terms)
        return Response(self.get_serializer(promotion).data)

    def perform_destroy(self, instance):
        promotion_disable(promotion=instance)
