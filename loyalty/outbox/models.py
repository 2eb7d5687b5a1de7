"""Customer communications: templates, the outbox and every delivery attempt.

Messages are written to the outbox in the same transaction as the sale (or redemption)
that causes them, and delivered afterwards by `send_messages`.
"""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from loyalty.tenancy.models import Account


class Event(models.TextChoices):
    SALE_REWARDED = "sale_rewarded", "Sale rewarded"
    VOUCHER_ISSUED = "voucher_issued", "Voucher issued"
    BALANCE_REDEEMED = "balance_redeemed", "Balance redeemed"
    REWARDS_EXPIRING = "rewards_expiring", "Rewards expiring"
    RULE_MESSAGE = "rule_message", "Sent by a message rule"


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"


PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: Every placeholder some message fills; a template naming another would send it as typed.
PLACEHOLDERS = frozenset(
    {
        "name",
        "account",
        "store",
        "points",
        "balance",
        "digital_change",
        "cashback",
        "points_earned",
        "amount",
        "voucher_code",
        "voucher_value",
        "voucher_valid_until",
        "redeemed",
        "redeemed_digital_change",
        "expiry_date",
    }
)


class MessageTemplate(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="message_templates")
    name = models.CharField(max_length=120)
    event = models.CharField(max_length=32, choices=Event.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    subject = models.CharField(max_length=200, blank=True, help_text="E-mail only. Placeholders allowed.")
    body = models.TextField(
        help_text=(
            "Placeholders: {name}, {cashback}, {points}, {balance}, {digital_change}, {voucher_code}, "
            "{voucher_value}, {voucher_valid_until}, {amount}, {store}, {account}. Rewards expiring: "
            "{points} and {balance} are what expires, on {expiry_date} (dd/mm/aaaa)."
        )
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "event", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_event_display()}, {self.get_channel_display()})"

    def clean(self) -> None:
        # `{nome}` or `{cashbak}` would reach the customer as typed: refused, naming the valid ones.
        errors = {}
        for field in ("subject", "body"):
            unknown = sorted(set(PLACEHOLDER.findall(getattr(self, field) or "")) - PLACEHOLDERS)
            if unknown:
                errors[field] = (
                    f"Unknown placeholder(s): {', '.join('{' + name + '}' for name in unknown)}. "
                    f"Valid ones: {', '.join('{' + name + '}' for name in sorted(PLACEHOLDERS))}."
                )
        if errors:
            raise ValidationError(errors)


class Message(models.Model):
    """One communication in the outbox."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        WITHDRAWN = "withdrawn", "Withdrawn (its sale was cancelled before delivery)"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="messages")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    template = models.ForeignKey(
        MessageTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    sale = models.ForeignKey(
        "sales.Sale", on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    event = models.CharField(max_length=32, choices=Event.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["next_attempt_at", "id"], condition=Q(status="queued"), name="message_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.recipient} ({self.get_status_display()})"


class MessageAttempt(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(auto_now_add=True)
    succeeded = models.BooleanField()
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Attempt {self.pk} of message {self.message_id}"
