"""Stored answers of `Idempotency-Key` requests, per account (and per store for the POS dialect).

A row exists only once its request has answered (see `loyalty.api.idempotency`); rows older
than `IDEMPOTENCY_KEY_TTL` are purged through the `created_at` index.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from loyalty.tenancy.models import Account


class IdempotencyKey(models.Model):
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", verbose_name=_("account")
    )
    scope = models.CharField(
        _("scope"),
        max_length=32,
        blank=True,
        help_text=_("`store:<id>` for a till's key; empty for the server-to-server dialect."),
    )
    key = models.CharField(_("key"), max_length=255)
    request_fingerprint = models.CharField(
        _("request fingerprint"), max_length=64, help_text=_("SHA-256 of method, path and body.")
    )
    response_status = models.PositiveSmallIntegerField(_("response status"))
    response_body = models.BinaryField(_("response body"))
    response_content_type = models.CharField(_("response content type"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "scope", "key"], name="idempotency_key_unique_in_scope"
            )
        ]

    def __str__(self) -> str:
        return self.key
