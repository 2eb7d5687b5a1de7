"""Keeping of `Idempotency-Key` answers: they are kept `IDEMPOTENCY_KEY_TTL`, then purged."""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from loyalty.api.models import IdempotencyKey

PURGE_BATCH = 5000


def idempotency_keys_purge(*, now: datetime | None = None, batch_size: int = PURGE_BATCH) -> int:
    """Delete the answers older than the keeping time; returns how many.

    In batches, each its own short transaction, found through the `created_at` index, so a
    large backlog never holds a long lock on the table while requests store answers.
    """
    cutoff = (now or timezone.now()) - settings.IDEMPOTENCY_KEY_TTL
    purged = 0
    while True:
        with transaction.atomic():
            batch = list(
                IdempotencyKey.objects.filter(created_at__lt=cutoff)
                .order_by("created_at")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                return purged
            IdempotencyKey.objects.filter(pk__in=batch).delete()
        purged += len(batch)
