"""Products in the POS dialect: "Cadastrar produto", plus the list and one product by barcode."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from loyalty.api.dialects import PosMixin
from loyalty.api.fields import ApiDateTimeField, MoneyField
from promotions.api.fields import BarcodeField, BooleanFilter, OneZeroBooleanField, UnitField, text_field
from promotions.models import Product
from promotions.selectors import product_queryset
from promotions.services import product_upsert

PRODUCT_REQUEST_EXAMPLE = {
    "unit": "un",
    "name": "Batata Pringles Cheddar Bacon 105g",
    "category": "Biscoitos e chocolates",
    "subcategory": "Salgadinho",
    "barcode": "13456789",
    "price": 12.99,
    "active": True,
}
PRODUCT_EXAMPLE = {
    "id": 1,
    "account_id": 1,
    "unit": "un",
    "name": "Arroz",
    "category": "Arroz",
    "subcategory": "Arroz",
    "barcode": "123456789",
    "active": 1,
    "created_at": "2024-05-20T12:01:22.000000Z",
    "updated_at": "2024-05-21T19:09:30.000000Z",
}


class PosProductSerializer(serializers.ModelSerializer):
    """A product as the seed nests it under a promotion."""

    account_id = serializers.IntegerField(read_only=True)
    category = serializers.CharField(source="category.name", default=None, allow_null=True, read_only=True)
    subcategory = serializers.CharField(
        source="subcategory.name", default=None, allow_null=True, read_only=True
    )
    active = OneZeroBooleanField(read_only=True, help_text="1 active, 0 inactive.")
    created_at = ApiDateTimeField(read_only=True)
    updated_at = ApiDateTimeField(read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "account_id",
            "unit",
            "name",
            "category",
            "subcategory",
            "barcode",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PosProductWithPriceSerializer(PosProductSerializer):
    price = MoneyField(read_only=True)

    class Meta(PosProductSerializer.Meta):
        fields = [*PosProductSerializer.Meta.fields, "price"]
        read_only_fields = fields


class ProductUpsertSerializer(serializers.Serializer):
    unit = UnitField()
    name = text_field("name")
    category = text_field(
        "category",
        required=False,
        allow_null=True,
        help_text="Created on first use, reused after (any case).",
    )
    subcategory = text_field(
        "subcategory",
        required=False,
        allow_null=True,
        help_text="A child of `category`, created on first use.",
    )
    barcode = BarcodeField(help_text=f"The product's key in the account. {BarcodeField().help_text}")
    price = MoneyField(min_value=0)
    active = serializers.BooleanField(default=True)

    def validate(self, attrs):
        if attrs.get("subcategory") and not attrs.get("category"):
            raise serializers.ValidationError(
                {"subcategory": [gettext("A subcategory needs its category: send both.")]}
            )
        return attrs


class ProductFilter(django_filters.FilterSet):
    barcode = django_filters.CharFilter(field_name="barcode", help_text="Exact barcode")
    active = BooleanFilter(field_name="active", help_text="1 active only, 0 inactive only")
    category = django_filters.CharFilter(
        method="filter_category", help_text="Name of the category or subcategory, any case"
    )

    class Meta:
        model = Product
        fields = ["barcode", "active", "category"]

    def filter_category(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(category__name__iexact=value) | Q(subcategory__name__iexact=value))


@extend_schema_view(
    list=extend_schema(
        operation_id="pos_products_list",
        summary="List products",
        description="Paginated, newest first. Filters: `barcode`, `active`, `category`.",
    ),
    retrieve=extend_schema(
        operation_id="pos_products_retrieve",
        summary="One product by barcode",
        description="A barcode unknown to the account is 404.",
    ),
)
@extend_schema(tags=["POS · Products"])
class ProductViewSet(PosMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Product.objects.none()
    serializer_class = PosProductWithPriceSerializer
    filterset_class = ProductFilter
    lookup_field = "barcode"
    lookup_value_regex = r"[0-9]{1,20}"

    def scoped_queryset(self):
        return product_queryset(account=self.account)

    def get_object(self):
        product = self.get_queryset().filter(barcode=self.kwargs["barcode"]).first()
        if product is None:
            raise NotFound(gettext("No product with this barcode in this account."))
        return product

    @extend_schema(
        operation_id="pos_products_create",
        summary="Cadastrar produto — register or update a product",
        description=(
            "The barcode is the product's key in the account: a new barcode creates the product "
            "(201), a known one replaces its fields (200). `category` and `subcategory` create or "
            "reuse the account's category and its child, matched by name in any case."
        ),
        request=ProductUpsertSerializer,
        responses={200: PosProductWithPriceSerializer, 201: PosProductWithPriceSerializer},
        examples=[
            OpenApiExample("Cadastrar produto", value=PRODUCT_REQUEST_EXAMPLE, request_only=True),
            OpenApiExample(
                "Product",
                value={
                    **PRODUCT_EXAMPLE,
                    **{key: PRODUCT_REQUEST_EXAMPLE[key] for key in ("name", "category", "subcategory")},
                    "barcode": "13456789",
                    "price": 12.99,
                },
                response_only=True,
            ),
        ],
    )
    def create(self, request):
        serializer = ProductUpsertSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        product, created = product_upsert(account=self.account, **serializer.validated_data)
        return Response(
            self.get_serializer(product).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
