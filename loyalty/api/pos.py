"""POS endpoints of the engine core: the store the till is signed in as."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.api.dialects import PosMixin
from loyalty.api.v2 import AccountSerializer
from loyalty.tenancy.models import Store


class StoreSerializer(serializers.ModelSerializer):
    account = AccountSerializer(read_only=True)

    class Meta:
        model = Store
        fields = ["id", "name", "account"]


class StoreView(PosMixin, APIView):
    @extend_schema(
        tags=["Auth"],
        operation_id="pos_store_retrieve",
        summary="The store of the X-Store-Token",
        description="A connection check for tills: which store and account the two headers identify.",
        responses={200: StoreSerializer},
    )
    def get(self, request):
        return Response(StoreSerializer(self.store).data)
