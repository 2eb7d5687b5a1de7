"""`purge_idempotency_keys`: delete `Idempotency-Key` answers past their keeping time."""

from django.core.management.base import BaseCommand

from loyalty.api.services import idempotency_keys_purge


class Command(BaseCommand):
    help = (
        "Delete stored Idempotency-Key answers older than IDEMPOTENCY_KEY_TTL (24 hours by default). "
        "Safe to run at any time, and again."
    )

    def handle(self, *args, **options):
        purged = idempotency_keys_purge()
        self.stdout.write(f"Purged {purged} idempotency key(s).")
