"""Liveness: the service answers and its database answers `SELECT 1`."""

from django.db import DatabaseError, connection
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.api.errors import RETRY_AFTER_SECONDS

HealthSerializer = inline_serializer(
    name="Health",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "database": serializers.ChoiceField(choices=["ok", "unavailable"]),
    },
)


class HealthView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["Health"],
        operation_id="health",
        summary="Service and database status",
        responses={200: HealthSerializer, 503: HealthSerializer},
    )
    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError:
            return Response(
                {
                    "status": "unavailable",
                    "database": "unavailable",
                    "detail": gettext("The database did not answer SELECT 1."),
                },
                status=503,
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        return Response({"status": "ok", "database": "ok"})
