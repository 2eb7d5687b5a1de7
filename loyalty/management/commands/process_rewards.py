"""`process_rewards`: run the due releases, expiries and expiry reminders once."""

from django.core.management.base import BaseCommand

from loyalty.engine.lifecycle import rewards_process_due


class Command(BaseCommand):
    help = (
        "Release pending points and cashback whose time has come, expire what is past its "
        "validity or its customer's inactivity deadline, and queue the expiry reminders. "
        "Idempotent and safe to run at any time, while tills redeem."
    )

    def handle(self, *args, **options):
        done = rewards_process_due()
        self.stdout.write(
            f"Released {done.released} pending grant(s); expired rewards in {done.expired_wallets} "
            f"wallet(s); queued {done.reminders} expiry reminder(s)."
        )
