"""`check_wallets`: every wallet field equals the sum of its ledger rows, and its expiry lots
add up to its buckets."""

from django.core.management.base import BaseCommand, CommandError

from customers.models import Wallet
from customers.selectors import lot_mismatches, wallet_mismatches


class Command(BaseCommand):
    help = (
        "Verify that every wallet bucket and total equals the sum of its ledger rows, and that "
        "each wallet's expiry lots add up to what its buckets hold."
    )

    def handle(self, *args, **options):
        mismatches = [*wallet_mismatches(), *lot_mismatches()]
        if mismatches:
            for mismatch in mismatches:
                self.stderr.write(f"MISMATCH {mismatch}")
            raise CommandError(f"{len(mismatches)} wallet field(s) differ from their ledger or lots.")
        self.stdout.write(f"OK: {Wallet.objects.count()} wallet(s) match their ledger and expiry lots.")
