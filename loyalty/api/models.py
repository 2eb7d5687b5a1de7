"""Stored answers of `Idempotency-Key` requests, per account (and per store for the POS dialect).

A row exists only once its request has answered (see `loyalty.api.idempotency`); rows older
than `IDEMPOTENCY_KEY_TTL` are purged through the `created_at` index.
"""

from django.db import models

from loyalty.tenancy.models import Account


class IdempotencyKey(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(
        max_length=32,
        blank=True,
        help_text="`store:<id>` for a till's key; empty for the server-to-server dialect.",
    )
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.BinaryField()
    response_content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "scope", "key"], name="idempotency_key_unique_in_scope"
            )
        ]

    def __str__(self) -> str:
        return self.key
