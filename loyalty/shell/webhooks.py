"""The account's webhooks in the server-to-server dialect: `/api/v2/webhooks...`.

The outbox (which keeps endpoints and deliveries) and the API's plumbing (authentication,
pagination, errors) are neighbours on the ground floor that never import each other, so the
endpoints that join them live here, above both. There is no DELETE: an endpoint is switched
off with `{"active": false}`, and its delivery log stays readable.
"""

import json
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from loyalty.api.dialects import V2Mixin
from loyalty.api.errors import refused
from loyalty.api.fields import ApiDateTimeField
from loyalty.outbox.webhooks.addresses import MAX_URL_LENGTH
from loyalty.outbox.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEventType
from loyalty.outbox.webhooks.selectors import webhook_deliveries, webhook_endpoint_queryset
from loyalty.outbox.webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)

EVENTS_GUIDE = """\
**Events.** Each is posted as JSON `{"type", "timestamp", "data"}`: `timestamp` is when it
happened (UTC ISO 8601), amounts are JSON numbers in R$ (points as numbers), ids are those of
this API.

| `type` | `data` |
| --- | --- |
| `sale.recorded` | `sale_id`, `source` (`pos` or `api`), `type`, `reference`, `pdv`, `coupon` (receipt number), `store_id`, `customer_id` (null: unidentified), `amount`, `cashback` and `points` granted, `vouchers` (codes issued) |
| `sale.cancelled` | the sale's `sale_id`, `source`, `type`, `reference`, `pdv`, `coupon`, `store_id`, `customer_id`, `amount`; `reversed` (signed wallet moves by field, as the cancel answers), `vouchers_cancelled` (codes), `redemptions_returned` (ids) |
| `sale.returned` | `sale_id`, `return_id`, `return_reference`, `store_id`, `customer_id`, `amount` returned, `completes` (nothing left to return), `reversed`, `vouchers_cancelled`, `vouchers_charged` (`code`, `value`) |
| `voucher.issued` | `voucher_code`, `value`, `customer_id`, `coupon_id` (the reward it came from, or null), `sale_id` (the sale that earned it, or null), `valid_until` |
| `voucher.used` | `voucher_code`, `value`, `customer_id`, `coupon_id`, `reference`, `store_id` |
| `balance.redeemed` | `redemption_id`, `customer_id`, `store_id`, `type`, `reference`, `pdv`, `coupon`, `balance` (cashback spent), `digital_change` (spent) |
| `rewards.expired` | `customer_id`, `reason` (`validity` or `inactivity`), `points` and `balance` expired |

A sale that earns a voucher posts `sale.recorded` and `voucher.issued`; a replayed sale posts nothing.
"""

DELIVERY_GUIDE = """\
**Delivery** follows Standard Webhooks: a `POST` of the JSON body with the headers
`webhook-id` (the event's id, `msg_...`, the same at every retry: de-duplicate by it),
`webhook-timestamp` (the attempt's time, in Unix seconds) and `webhook-signature`
(`v1,` + the base64 HMAC-SHA256 of `"{webhook-id}.{webhook-timestamp}.{body}"`, keyed with the
base64-decoded part of the secret after `whsec_`). Any Standard Webhooks library verifies it
with the secret as given. A 2xx answer within 10 seconds delivers the event; anything else
(a redirect included) is retried with exponential backoff — after a 429, when its
`Retry-After` says — and the event is `failed` after 8 attempts. An event is delivered at
least once: a receiver may see the same `webhook-id` twice.
"""

SECRET_ONCE = (
    "The signing secret (`whsec_...`) is in this answer only: afterwards only `secret_prefix` is "
    'shown. Rotate it with `PATCH` `{"rotate_secret": true}`.'
)
URL_RULES = (
    "https, or http to localhost, 127.0.0.1 or ::1; at most 2000 characters; never a user name or "
    "password. In production, a host resolving to a private, loopback or link-local address is "
    "refused, when saved and again at every delivery."
)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    url = serializers.CharField(max_length=MAX_URL_LENGTH, help_text=URL_RULES)
    events = serializers.ListField(
        child=serializers.ChoiceField(
            choices=WebhookEventType.choices,
            error_messages={"invalid_choice": _('"{input}" is not an event type.')},
        ),
        allow_empty=False,
        max_length=len(WebhookEventType.values),
        help_text="The event types posted to the URL (at least one).",
    )
    active = serializers.BooleanField(
        required=False, default=True, help_text="false: nothing is queued for it, nor sent to it."
    )
    secret_prefix = serializers.CharField(
        read_only=True,
        help_text="The start of the signing secret, to tell secrets apart; the whole is shown once.",
    )
    created_at = ApiDateTimeField(read_only=True)
    updated_at = ApiDateTimeField(read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "active", "secret_prefix", "created_at", "updated_at"]
        read_only_fields = ["id"]


class WebhookEndpointChangeSerializer(WebhookEndpointSerializer):
    rotate_secret = serializers.BooleanField(
        required=False,
        write_only=True,
        help_text="true: replace the signing secret now; the answer shows the new one, once.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "rotate_secret"]


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret, shown in this answer only.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookEndpointChangedSerializer(WebhookEndpointSerializer):
    """A change's answer: the new secret only when it was rotated."""

    secret = serializers.CharField(
        required=False, help_text="The new signing secret, only after `rotate_secret`; shown this once."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(help_text="The `webhook-id` of every attempt (`msg_...`).")
    type = serializers.CharField(source="event_type", help_text="The event type.")
    payload = serializers.SerializerMethodField(help_text="The body posted: `{type, timestamp, data}`.")
    last_status_code = serializers.IntegerField(
        allow_null=True, help_text="The receiver's answer to the latest attempt; null: no answer."
    )
    last_error = serializers.CharField(help_text="Why the latest attempt failed (empty once sent).")
    next_attempt_at = serializers.SerializerMethodField(
        help_text="When it is tried next; null unless queued."
    )
    sent_at = ApiDateTimeField(allow_null=True)
    created_at = ApiDateTimeField()

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "type",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "sent_at",
            "created_at",
            "payload",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_payload(self, delivery: WebhookDelivery) -> Any:
        return json.loads(delivery.payload)

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_next_attempt_at(self, delivery: WebhookDelivery) -> str | None:
        if delivery.status != WebhookDelivery.Status.QUEUED:
            return None
        return ApiDateTimeField().to_representation(delivery.next_attempt_at)


class WebhookDeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=WebhookDelivery.Status.choices, help_text="Only deliveries in this status"
    )
    type = django_filters.ChoiceFilter(
        field_name="event_type", choices=WebhookEventType.choices, help_text="Only events of this type"
    )

    class Meta:
        model = WebhookDelivery
        fields = ["status", "type"]


@extend_schema_view(
    list=extend_schema(
        summary="List the account's webhook endpoints",
        description=f"Oldest first.\n\n{EVENTS_GUIDE}\n{DELIVERY_GUIDE}",
    ),
    retrieve=extend_schema(summary="One webhook endpoint"),
)
@extend_schema(tags=["Webhooks"])
class WebhookViewSet(V2Mixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = WebhookEndpoint.objects.none()
    serializer_class = WebhookEndpointSerializer
    #: The endpoints have no filters; the delivery log has its own.
    filterset_class: type[django_filters.FilterSet] | None = None
    lookup_value_regex = r"\d+"
    # No DELETE: an endpoint is switched off (`active: false`); its log stays readable.
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scoped_queryset(self) -> QuerySet[WebhookEndpoint]:
        return webhook_endpoint_queryset(account=self.account)

    @extend_schema(
        summary="Add a webhook endpoint",
        description=(
            f"`url`: {URL_RULES} Refusals are 400s naming `url` or `events`.\n\n{SECRET_ONCE}\n\n"
            f"{EVENTS_GUIDE}\n{DELIVERY_GUIDE}"
        ),
        request=WebhookEndpointSerializer,
        responses={201: WebhookEndpointWithSecretSerializer},
        examples=[
            OpenApiExample(
                "Sales and redemptions to the ERP",
                request_only=True,
                value={
                    "url": "https://erp.example.com/loyalty/webhooks",
                    "events": ["sale.recorded", "sale.cancelled", "balance.redeemed"],
                },
            )
        ],
    )
    def create(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            issued = webhook_endpoint_create(account=self.account, **serializer.validated_data)
        except DjangoValidationError as error:
            raise refused(error) from None
        body = {**WebhookEndpointSerializer(issued.endpoint).data, "secret": issued.secret}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a webhook endpoint, or rotate its secret",
        description=(
            "Partial: only the fields sent change, validated as on creation. Events already queued "
            "are posted to the URL as it is when they are sent.\n\n"
            '`{"rotate_secret": true}` replaces the signing secret at once: the answer shows the new '
            "one, once, and every attempt from then on (retries of earlier events included) is signed "
            "with it. Without it the answer has no `secret`."
        ),
        request=WebhookEndpointChangeSerializer,
        responses={200: WebhookEndpointChangedSerializer},
        examples=[
            OpenApiExample("Rotate the signing secret", request_only=True, value={"rotate_secret": True}),
            OpenApiExample("Switch it off", request_only=True, value={"active": False}),
        ],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        serializer = WebhookEndpointChangeSerializer(endpoint, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        rotate = changes.pop("rotate_secret", False)
        try:
            endpoint = webhook_endpoint_update(endpoint=endpoint, **changes)
        except DjangoValidationError as error:
            raise refused(error) from None
        secret = webhook_endpoint_rotate_secret(endpoint=endpoint) if rotate else None
        body = dict(WebhookEndpointSerializer(endpoint).data)
        if secret is not None:
            body["secret"] = secret
        return Response(body)

    @extend_schema(
        summary="The endpoint's delivery log, newest first",
        description=(
            "Each event queued for the endpoint: its `event_id` (the `webhook-id`), type, status "
            "(`queued`, `sent`, `failed`), attempts, the receiver's last status code and error, when "
            "it is tried next, and the body posted. Filter by `status` and `type`."
        ),
        responses={200: WebhookDeliverySerializer(many=True)},
    )
    @action(
        detail=True,
        methods=["get"],
        queryset=WebhookDelivery.objects.none(),
        filterset_class=WebhookDeliveryFilter,
    )
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        # Not `get_object()`: this action's filters are the deliveries', not the endpoints'.
        endpoint = get_object_or_404(self.scoped_queryset(), pk=pk)
        page = self.paginate_queryset(self.filter_queryset(webhook_deliveries(endpoint=endpoint)))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
