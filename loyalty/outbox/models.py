"""Customer communications: templates, the outbox and every delivery attempt.

Messages are written to the outbox in the same transaction as the sale (or redemption)
that causes them, and delivered afterwards by `send_messages`: claimed with a lease,
handed to the provider outside any transaction, each result recorded on its own
(`loyalty.outbox.services.messages_send_due`).
"""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from loyalty.tenancy.models import Account


class Event(models.TextChoices):
    SALE_REWARDED = "sale_rewarded", _("Sale rewarded")
    VOUCHER_ISSUED = "voucher_issued", _("Voucher issued")
    BALANCE_REDEEMED = "balance_redeemed", _("Balance redeemed")
    REWARDS_EXPIRING = "rewards_expiring", _("Rewards expiring")
    RULE_MESSAGE = "rule_message", _("Sent by a message rule")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")


class Purpose(models.TextChoices):
    """Why a template writes: a transactional message (a voucher code, a receipt) needs no
    consent; a marketing one is queued only for a customer who accepts marketing on its channel."""

    TRANSACTIONAL = "transactional", _("Transactional")
    MARKETING = "marketing", _("Marketing")


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
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="message_templates", verbose_name=_("account")
    )
    name = models.CharField(_("name"), max_length=120)
    event = models.CharField(_("event"), max_length=32, choices=Event.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    purpose = models.CharField(
        _("purpose"),
        max_length=16,
        choices=Purpose.choices,
        default=Purpose.TRANSACTIONAL,
        help_text=_(
            "Marketing messages go only to customers who accept marketing on this channel (LGPD); "
            "transactional ones (a voucher code, a receipt) go to every customer with the contact."
        ),
    )
    subject = models.CharField(
        _("subject"), max_length=200, blank=True, help_text=_("E-mail only. Placeholders allowed.")
    )
    body = models.TextField(
        _("body"),
        help_text=_(
            "Placeholders: {name}, {cashback}, {points}, {balance}, {digital_change}, {voucher_code}, "
            "{voucher_value}, {voucher_valid_until}, {amount}, {store}, {account}. Rewards expiring: "
            "{points} and {balance} are what expires, on {expiry_date} (dd/mm/aaaa)."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["account", "event", "name"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_event_display()}, {self.get_channel_display()})"

    def clean(self) -> None:
        # `{nome}` or `{cashbak}` would reach the customer as typed: refused, naming the valid ones.
        errors = {}
        for field in ("subject", "body"):
            unknown = sorted(set(PLACEHOLDER.findall(getattr(self, field) or "")) - PLACEHOLDERS)
            if unknown:
                errors[field] = gettext("Unknown placeholder(s): %(unknown)s. Valid ones: %(valid)s.") % {
                    "unknown": ", ".join("{" + name + "}" for name in unknown),
                    "valid": ", ".join("{" + name + "}" for name in sorted(PLACEHOLDERS)),
                }
        if errors:
            raise ValidationError(errors)


class Message(models.Model):
    """One communication in the outbox."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        WITHDRAWN = "withdrawn", _("Withdrawn (its sale was cancelled before delivery)")

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="messages", verbose_name=_("account")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("customer"),
    )
    template = models.ForeignKey(
        MessageTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("message template"),
    )
    sale = models.ForeignKey(
        "sales.Sale",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("sale"),
    )
    event = models.CharField(_("event"), max_length=32, choices=Event.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # The sender delivering it now (a random key), until `next_attempt_at`: its lease. A sender
    # that dies leaves it queued, and it is due again when the lease runs out.
    claim = models.CharField(_("claimed by"), max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [
            models.Index(fields=["next_attempt_at", "id"], condition=Q(status="queued"), name="message_due"),
        ]

    def __str__(self) -> str:
        return gettext("%(channel)s to %(recipient)s (%(status)s)") % {
            "channel": self.get_channel_display(),
            "recipient": self.recipient,
            "status": self.get_status_display(),
        }


class MessageAttempt(models.Model):
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", verbose_name=_("account")
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("message")
    )
    attempted_at = models.DateTimeField(_("attempted at"), auto_now_add=True)
    succeeded = models.BooleanField(_("succeeded"))
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return gettext("Attempt %(attempt)s of message %(message)s") % {
            "attempt": self.pk,
            "message": self.message_id,
        }
