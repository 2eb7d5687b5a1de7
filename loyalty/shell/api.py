"""Endpoints that compose several apps, so they live above all of them: a customer's LGPD
export and erasure (`GET /api/v2/customers/{id}/export`, `POST /api/v2/customers/{id}/anonymize`).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from customers.api.v2 import CustomerSerializer
from customers.models import Customer
from customers.selectors import customer_queryset
from loyalty.api.dialects import V2Mixin
from loyalty.shell.privacy import customer_data_export, customer_erase


@extend_schema(tags=["Customers"])
class CustomerPrivacyViewSet(V2Mixin, viewsets.GenericViewSet):
    """The LGPD actions on a customer, under the customers' own paths."""

    queryset = Customer.objects.none()
    serializer_class = CustomerSerializer
    lookup_value_regex = r"\d+"

    def scoped_queryset(self):
        return customer_queryset(account=self.account)

    @extend_schema(
        summary="Export all of the customer's data (LGPD)",
        description="The customer's personal data, wallet and full ledger as one JSON document.",
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        return Response(customer_data_export(customer=self.get_object()))

    @extend_schema(
        summary="Anonymise the customer (LGPD)",
        description=(
            "Erases name, contacts, CPF, password and extra data. The wallet, its ledger and the "
            "sales stay for the merchant's accounts. Anonymising again changes nothing."
        ),
        request=None,
        responses={200: CustomerSerializer},
    )
    @action(detail=True, methods=["post"])
    def anonymize(self, request, pk=None):
        customer = customer_erase(customer=self.get_object())
        return Response(self.get_serializer(customer).data)
