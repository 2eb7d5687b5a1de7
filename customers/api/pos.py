"""The consumer wallet in the POS dialect: "Consultar carteira"."""

from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.api.fields import NextExpiryMixin
from customers.documents import InvalidContact, normalize_document
from customers.selectors import wallet_by_document, wallet_next_expiry
from loyalty.api.dialects import PosMixin
from loyalty.api.fields import MoneyField, PointsField

POS_WALLET_EXAMPLE = {
    "total_points": 52.99,
    "total_balance": 62.16,
    "total_shoppings": 152.99,
    "count_shoppings": 7,
    "digital_change": 0,
    "total_discounts": 15,
}
POS_WALLET_LOOKUP_EXAMPLE = {
    **POS_WALLET_EXAMPLE,
    "next_expiry": {"date": "2024-07-19", "points": 10.5, "balance": 4.2},
}


class PosWalletSerializer(serializers.Serializer):
    """The consumer wallet as the POS seed names it."""

    total_points = PointsField(source="points", read_only=True, help_text="Points available.")
    total_balance = MoneyField(
        source="balance", read_only=True, help_text="Cashback (vale compras) available."
    )
    total_shoppings = MoneyField(read_only=True, help_text="Sum of the consumer's purchases.")
    count_shoppings = serializers.IntegerField(read_only=True, help_text="Number of purchases.")
    digital_change = MoneyField(read_only=True, help_text="Digital change (troco digital) available.")
    total_discounts = MoneyField(read_only=True, help_text="Sum of the promotion discounts received.")


class PosWalletLookupSerializer(PosWalletSerializer, NextExpiryMixin):
    """The seed's six totals, and what expires next."""


def document_from_path(document: str) -> str:
    """The bare CPF/CNPJ of a path segment, or a 400 naming the problem."""
    try:
        return normalize_document(document)
    except InvalidContact as error:
        raise ValidationError({"document": [str(error)]}) from None


class ConsumerWalletView(PosMixin, APIView):
    openapi_error_codes = (400,)  # a malformed document in the path

    @extend_schema(
        tags=["POS · Consumers"],
        operation_id="pos_consumer_wallet_retrieve",
        summary="Consultar carteira — the consumer's wallet",
        description=(
            "Cancelled purchases count in none of the totals. `next_expiry` (beyond the seed) gives "
            "the soonest day within 30 days on which points or cashback expire — spendable through "
            "the end of that day in the account's time zone — or `null`. Unknown consumer: 404."
        ),
        parameters=[OpenApiParameter("document", str, OpenApiParameter.PATH, description="CPF/CNPJ")],
        responses={200: PosWalletLookupSerializer},
        examples=[OpenApiExample("Wallet", value=POS_WALLET_LOOKUP_EXAMPLE, response_only=True)],
    )
    def get(self, request, document: str):
        wallet = wallet_by_document(account=self.account, document=document_from_path(document))
        if wallet is None:
            raise NotFound(gettext("No consumer with this document in this account."))
        next_expiry = wallet_next_expiry(wallet=wallet, account=self.account, now=timezone.now())
        return Response(PosWalletLookupSerializer(wallet, context={"next_expiry": next_expiry}).data)
