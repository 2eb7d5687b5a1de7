"""Reads of webhooks, always within one account."""

from django.db.models import QuerySet

from loyalty.outbox.webhooks.models import WebhookDelivery, WebhookEndpoint
from loyalty.tenancy.models import Account


def webhook_endpoint_queryset(*, account: Account) -> QuerySet[WebhookEndpoint]:
    """The account's endpoints, oldest first."""
    return WebhookEndpoint.objects.filter(account=account).order_by("id")


def webhook_deliveries(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's delivery log, newest first."""
    return WebhookDelivery.objects.filter(account_id=endpoint.account_id, endpoint=endpoint).order_by("-id")
