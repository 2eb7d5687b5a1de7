"""Categories in the server-to-server dialect: `/api/v2/categories`.

"Creation and listing of categories used in operation organization." The tree has two
levels, as products do: categories and their subcategories. The POS dialect's `category`
and `subcategory` strings land in the same tree.

The tree is the promotions app's; the list also counts the rewards of the catalogue in each
category, which the vouchers app keeps, so the endpoint lives here, a floor above both.
"""

import django_filters
from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from loyalty.api.dialects import V2Mixin
from loyalty.core.ids import parse_id
from promotions.api.fields import text_field
from promotions.models import Category
from promotions.services import DuplicateCategory, category_create
from vouchers.selectors import categories_with_counts


class ScopedParentField(serializers.PrimaryKeyRelatedField):
    """A top-level category of the caller's account, by id."""

    default_error_messages = {
        "does_not_exist": _("No category with id {pk_value} in this account."),
        "incorrect_type": _("Send the id (a whole number) of the parent category; got {data_type}."),
    }

    def get_queryset(self):
        account = self.context["request"].user.account
        return Category.objects.filter(account=account)


class CategorySerializer(serializers.ModelSerializer):
    name = text_field("name")
    parent = ScopedParentField(
        required=False,
        allow_null=True,
        help_text="Id of the parent category; null or omitted for a top-level category.",
    )
    product_count = serializers.IntegerField(
        read_only=True, help_text="Products with this category as their category or subcategory."
    )
    coupon_count = serializers.IntegerField(read_only=True, help_text="Rewards (coupons) in this category.")

    class Meta:
        model = Category
        fields = ["id", "name", "parent", "product_count", "coupon_count"]

    def validate_name(self, value: str) -> str:
        return value.strip()

    def validate_parent(self, parent: Category | None) -> Category | None:
        if parent is not None and parent.parent_id is not None:
            raise serializers.ValidationError(
                gettext(
                    "Category %(id)s is itself a subcategory; the tree has two levels, so the parent "
                    "must be a top-level category."
                )
                % {"id": parent.pk}
            )
        return parent


class ParentFormField(forms.Field):
    """A category id, or `none` for top-level categories."""

    def clean(self, value):
        if value in self.empty_values:
            return None
        value = str(value).strip().lower()
        if value in ("none", "null"):
            return "none"
        category_id = parse_id(value)
        if category_id is None:
            raise forms.ValidationError(
                gettext("Use a category id or 'none' (top-level categories); got %(value)r.")
                % {"value": value}
            )
        return category_id


class ParentFilter(django_filters.Filter):
    field_class = ParentFormField

    def filter(self, queryset, value):
        if value is None:
            return queryset
        if value == "none":
            return queryset.filter(parent__isnull=True)
        return queryset.filter(parent_id=value)


class CategoryFilter(django_filters.FilterSet):
    parent = ParentFilter(help_text="Id of the parent category, or 'none' for top-level categories")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="Part of the name")

    class Meta:
        model = Category
        fields = ["parent", "name"]


@extend_schema_view(
    list=extend_schema(
        summary="List categories",
        description="Alphabetical, with the number of products in each. Filters: `parent`, `name`.",
    ),
    create=extend_schema(
        summary="Create a category",
        description=(
            "`name` (3 to 100 characters) is unique per parent, in any case: a duplicate is a 400 "
            "naming the existing category. `parent` is the id of a top-level category of the account."
        ),
        examples=[
            OpenApiExample("Top-level category", value={"name": "Biscoitos e chocolates"}, request_only=True),
            OpenApiExample("Subcategory", value={"name": "Salgadinho", "parent": 1}, request_only=True),
            OpenApiExample(
                "Created",
                value={"id": 2, "name": "Salgadinho", "parent": 1, "product_count": 0, "coupon_count": 0},
                response_only=True,
            ),
        ],
    ),
)
@extend_schema(tags=["Categories"])
class CategoryViewSet(V2Mixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = Category.objects.none()
    serializer_class = CategorySerializer
    filterset_class = CategoryFilter

    def scoped_queryset(self):
        return categories_with_counts(account=self.account)

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            category = category_create(account=self.account, **serializer.validated_data)
        except DuplicateCategory as duplicate:
            existing = duplicate.existing
            message = (
                gettext("A category named %(name)r already exists at the top level (id %(id)s).")
                if existing.parent_id is None
                else gettext("A category named %(name)r already exists under this parent (id %(id)s).")
            )
            raise ValidationError({"name": [message % {"name": existing.name, "id": existing.pk}]}) from None
        category.product_count = category.coupon_count = 0
        return Response(self.get_serializer(category).data, status=status.HTTP_201_CREATED)
