"""The consumer wallet in the POS dialect: "Consultar carteira"."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.documents import InvalidContact, normalize_document
from customers.selectors import wallet_by_document
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
        description="Cancelled purchases count in none of the totals. Unknown consumer: 404.",
        parameters=[OpenApiParameter("document", str, OpenApiParameter.PATH, description="CPF/CNPJ")],
        responses={200: PosWalletSerializer},
        examples=[OpenApiExample("Wallet", value=POS_WALLET_EXAMPLE, response_only=True)],
    )
    def get(self, request, document: str):
        wallet = wallet_by_document(account=self.account, document=document_from_path(document))
        if wallet is None:
            raise NotFound("No consumer with this document in this account.")
        return Response(PosWalletSerializer(wallet).data)
