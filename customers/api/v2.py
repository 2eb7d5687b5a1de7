"""Customers in the server-to-server dialect: `/api/v2/customers...`.

"Use CPF, phone, email, or ID to keep the customer synchronized." Wallets are read-only
here: only sales, redemptions and staff adjustments move them.
"""

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from customers.api.fields import (
    ConsentField,
    ContactEmailField,
    DocumentField,
    DocumentFormField,
    EmailFormField,
    NextExpiryMixin,
    PhoneField,
    PhoneFormField,
)
from customers.documents import InvalidContact
from customers.models import WALLET_FIELDS, ConsentSource, Customer, LedgerEntry, Wallet
from customers.selectors import (
    consent_forget_prefetched,
    customer_find,
    customer_queryset,
    ledger_entries,
    wallet_next_expiry,
)
from customers.services import DuplicateContact, consents_set, customer_create, customer_update
from loyalty.api.dialects import V2Mixin
from loyalty.api.fields import ApiDateField, ApiDateTimeField
from loyalty.api.filters import ApiDateTimeFilter
from loyalty.api.pagination import CursorPagination

CONTACT_API_NAMES = {"document": "cpf", "phone": "phone", "email": "email"}
LOOKUP_KEYS = {"cpf": "document", "phone": "phone", "email": "email"}
CONTACT_LABELS = {"document": _("CPF/CNPJ"), "phone": _("phone"), "email": _("e-mail")}


class WalletSerializer(serializers.ModelSerializer):
    class Meta:
        model = Wallet
        fields = list(WALLET_FIELDS)
        read_only_fields = fields


class WalletSummarySerializer(WalletSerializer, NextExpiryMixin):
    class Meta(WalletSerializer.Meta):
        fields = [*WalletSerializer.Meta.fields, "next_expiry"]
        read_only_fields = fields


class CustomerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=150)
    cpf = DocumentField(source="document", required=False, allow_null=True, allow_blank=True)
    phone = PhoneField(required=False, allow_null=True, allow_blank=True)
    email = ContactEmailField(required=False, allow_null=True, allow_blank=True)
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=128,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Write-only; stored hashed and never returned.",
    )
    birth_date = ApiDateField(required=False, allow_null=True)
    gender = serializers.ChoiceField(choices=Customer.Gender.choices, required=False, allow_blank=True)
    extra = serializers.JSONField(required=False, help_text="Free JSON object of the integrator's own data.")
    consent = ConsentField(
        required=False,
        help_text=(
            "Marketing consent (LGPD) by channel (`email`, `sms`, `whatsapp`). Send only the channels "
            'that change, e.g. `{"email": true, "sms": false}`; answered for every channel with when '
            "and where it was last given or withdrawn. Transactional messages need none."
        ),
    )
    wallet = WalletSerializer(read_only=True)
    created_at = ApiDateTimeField(read_only=True)
    updated_at = ApiDateTimeField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "cpf",
            "phone",
            "email",
            "password",
            "birth_date",
            "gender",
            "extra",
            "consent",
            "created_at",
            "updated_at",
            "wallet",
        ]

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(gettext("This field may not be blank."))
        return value.strip()

    def validate_extra(self, value):
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError(gettext("Must be a JSON object."))
        return value

    def validate(self, attrs):
        current = self.instance
        contacts = [
            attrs.get(name, getattr(current, name, None) if current else None) for name in CONTACT_API_NAMES
        ]
        # An anonymised customer has no contacts left; the service refuses the change (409).
        if not any(contacts) and not getattr(current, "anonymized_at", None):
            raise serializers.ValidationError(gettext("Send at least one of cpf, phone or email."))
        for name in CONTACT_API_NAMES:
            if name in attrs and attrs[name] == "":
                attrs[name] = None
        return attrs


class TransactionSerializer(serializers.ModelSerializer):
    created_at = ApiDateTimeField(read_only=True)
    store_id = serializers.IntegerField(allow_null=True, read_only=True)

    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", *WALLET_FIELDS, "reason", "store_id", "created_at"]
        read_only_fields = fields


class DocumentFilter(django_filters.CharFilter):
    field_class = DocumentFormField


class PhoneFilter(django_filters.CharFilter):
    field_class = PhoneFormField


class EmailFilter(django_filters.CharFilter):
    field_class = EmailFormField


class CustomerFilter(django_filters.FilterSet):
    cpf = DocumentFilter(field_name="document", help_text="CPF/CNPJ, with or without punctuation")
    phone = PhoneFilter(field_name="phone", help_text="Phone in any written form")
    email = EmailFilter(field_name="email", help_text="E-mail, case-insensitive")
    search = django_filters.CharFilter(method="filter_search", help_text="Part of the name")
    created_after = ApiDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields = ["cpf", "phone", "email", "search", "created_after"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value.strip())) if value.strip() else queryset


def duplicate_as_validation_error(error: DuplicateContact) -> ValidationError:
    label = CONTACT_LABELS[error.field]
    return ValidationError(
        {
            CONTACT_API_NAMES[error.field]: [
                gettext("A customer with this %(label)s already exists (id %(id)s).")
                % {"label": label, "id": error.existing_id}
            ]
        }
    )


LOOKUP_PARAMETERS = [
    OpenApiParameter("cpf", str, description="CPF/CNPJ, with or without punctuation"),
    OpenApiParameter("phone", str, description="Phone in any written form"),
    OpenApiParameter("email", str, description="E-mail, case-insensitive"),
]

CUSTOMER_EXAMPLE = OpenApiExample(
    "New customer",
    request_only=True,
    value={
        "name": "Maria Souza",
        "cpf": "539.335.150-09",
        "phone": "(11) 98765-4321",
        "email": "maria@example.com",
        "password": "s3cret-pass",
        "birth_date": "1990-04-12",
        "gender": "female",
        "extra": {"loyalty_card": "0001234"},
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="List customers", description="Filter by CPF, phone, e-mail, name or creation."
    ),
    create=extend_schema(
        summary="Create a customer",
        description="`name` and at least one of `cpf`, `phone`, `email`. Each is unique in the account.",
        examples=[CUSTOMER_EXAMPLE],
    ),
    retrieve=extend_schema(summary="One customer"),
    partial_update=extend_schema(summary="Update a customer", description="Partial update, same validation."),
)
@extend_schema(tags=["Customers"])
class CustomerViewSet(
    V2Mixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Customer.objects.none()
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]
    openapi_error_codes = {"partial_update": (409,), "lookup": (400, 404)}

    def scoped_queryset(self):
        return customer_queryset(account=self.account).order_by("-created_at", "-id")

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        consent = fields.pop("consent", None)
        try:
            customer = customer_create(account=self.account, **fields)
        except DuplicateContact as error:
            raise duplicate_as_validation_error(error) from None
        if consent:
            consents_set(customer=customer, changes=consent, source=ConsentSource.API)
        return Response(self.get_serializer(customer).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        customer = self.get_object()
        serializer = self.get_serializer(customer, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        consent = fields.pop("consent", None)
        try:
            # Only consent sent: the customer's record stays as it is (its `updated_at` too).
            if fields or consent is None:
                customer = customer_update(customer=customer, **fields)
        except DuplicateContact as error:
            raise duplicate_as_validation_error(error) from None
        if consent:
            consents_set(customer=customer, changes=consent, source=ConsentSource.API)
            consent_forget_prefetched(customer)
        return Response(self.get_serializer(customer).data)

    @extend_schema(
        summary="Find the customer with a CPF, phone or e-mail",
        parameters=LOOKUP_PARAMETERS,
        responses={200: CustomerSerializer},
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def lookup(self, request):
        given = {key: request.query_params.get(key, "").strip() for key in ("cpf", "phone", "email")}
        given = {key: value for key, value in given.items() if value}
        if len(given) != 1:
            raise ValidationError({"detail": [gettext("Send exactly one of cpf, phone or email.")]})
        key, value = next(iter(given.items()))
        try:
            customer = customer_find(account=self.account, **{LOOKUP_KEYS[key]: value})
        except InvalidContact as error:
            raise ValidationError({key: [str(error)]}) from None
        if customer is None:
            raise NotFound(gettext("No customer with this %(key)s in this account.") % {"key": key})
        return Response(self.get_serializer(customer).data)

    @extend_schema(
        summary="The customer's wallet",
        description=(
            "The buckets and totals, and `next_expiry`: the soonest day within 30 days on which "
            "points or cashback expire (spendable through the end of that day in the account's "
            "time zone), with the amounts, or `null`."
        ),
        responses={200: WalletSummarySerializer},
    )
    @action(detail=True, methods=["get"])
    def wallet(self, request, pk=None):
        wallet = self.get_object().wallet
        next_expiry = wallet_next_expiry(wallet=wallet, account=self.account, now=timezone.now())
        return Response(WalletSummarySerializer(wallet, context={"next_expiry": next_expiry}).data)

    @extend_schema(
        summary="The customer's wallet ledger, newest first",
        description="Cursor-paginated: follow `next` until it is null.",
        responses={200: TransactionSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=CursorPagination)
    def transactions(self, request, pk=None):
        customer = self.get_object()
        page = self.paginate_queryset(ledger_entries(customer=customer))
        return self.get_paginated_response(TransactionSerializer(page, many=True).data)
