"""Webhook endpoints, the deliveries queued for them and every attempt.

An event (a sale recorded, a voucher used...) is written to the outbox in the transaction of
what causes it: one `WebhookDelivery` per active endpoint of the account subscribed to its
type, all sharing the event's id. `send_webhooks` delivers them afterwards, signed with the
endpoint's secret, exactly as messages are delivered (`loyalty.outbox.webhooks.services`).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from loyalty.outbox.webhooks.addresses import MAX_URL_LENGTH, validate_webhook_url
from loyalty.tenancy.models import Account


class WebhookEventType(models.TextChoices):
    SALE_RECORDED = "sale.recorded", _("Sale recorded")
    SALE_CANCELLED = "sale.cancelled", _("Sale cancelled")
    SALE_RETURNED = "sale.returned", _("Sale returned")
    VOUCHER_ISSUED = "voucher.issued", _("Voucher issued")
    VOUCHER_USED = "voucher.used", _("Voucher used")
    BALANCE_REDEEMED = "balance.redeemed", _("Balance redeemed")
    REWARDS_EXPIRED = "rewards.expired", _("Rewards expired")


def validate_event_types(value: object) -> None:
    """A non-empty list of known event types (the field's and the API's validator)."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(gettext("Send a list of event types."), code="invalid")
    if not value:
        raise ValidationError(gettext("Choose at least one event type."), code="empty")
    unknown = sorted(set(value) - set(WebhookEventType.values))
    if unknown:
        raise ValidationError(
            gettext("Unknown event type(s): %(unknown)s. Valid ones: %(valid)s.")
            % {"unknown": ", ".join(unknown), "valid": ", ".join(WebhookEventType.values)},
            code="unknown",
        )


class WebhookEndpoint(models.Model):
    """Where an account's events are posted, and the secret they are signed with.

    The secret signs (HMAC-SHA256), so it is kept as it was issued, not as a digest; it is
    shown once, when it is issued, and then only its prefix."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="webhook_endpoints", verbose_name=_("account")
    )
    url = models.CharField(
        _("URL"),
        max_length=MAX_URL_LENGTH,
        validators=[validate_webhook_url],
        help_text=_("Where the events are posted: https (plain http only for localhost)."),
    )
    events = models.JSONField(
        _("events"),
        default=list,
        validators=[validate_event_types],
        help_text=_("The event types posted to this URL."),
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("An inactive endpoint is sent nothing, and queues nothing.")
    )
    secret = models.CharField(_("signing secret"), max_length=64, editable=False)
    secret_prefix = models.CharField(_("secret prefix"), max_length=16, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["account", "id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        indexes = [
            # Every sale reads the account's active endpoints: usually none.
            models.Index(fields=["account"], condition=Q(active=True), name="webhook_endpoint_active"),
        ]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event to post to one endpoint: its body, as it will be signed and sent at every
    attempt, and where its delivery stands."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="webhook_deliveries", verbose_name=_("account")
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    # The `webhook-id` of every attempt: the receiver de-duplicates by it.
    event_id = models.CharField(_("event id"), max_length=40)
    event_type = models.CharField(_("event"), max_length=32, choices=WebhookEventType.choices)
    # The exact body posted (and signed) at every attempt, kept as text: a JSON column may
    # reorder its keys.
    payload = models.TextField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # The sender posting it now (a random key), until `next_attempt_at`: its lease. A sender
    # that dies leaves it queued, and it is due again when the lease runs out.
    claim = models.CharField(_("claimed by"), max_length=32, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "endpoint", "event_id"], name="webhook_delivery_once_per_endpoint"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"], condition=Q(status="queued"), name="webhook_delivery_due"
            ),
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_newest"),
        ]

    def __str__(self) -> str:
        return gettext("%(event)s %(id)s (%(status)s)") % {
            "event": self.event_type,
            "id": self.event_id,
            "status": self.get_status_display(),
        }


class WebhookAttempt(models.Model):
    """One POST of a delivery: what the receiver answered, or why there was no answer."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", verbose_name=_("account")
    )
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    attempted_at = models.DateTimeField(_("attempted at"), auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return gettext("Attempt %(attempt)s of webhook delivery %(delivery)s") % {
            "attempt": self.pk,
            "delivery": self.delivery_id,
        }

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
