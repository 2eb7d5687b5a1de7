"""`process_rewards`: release pending rewards whose time has come (run from cron)."""

from django.core.management.base import BaseCommand

from loyalty.engine.services import rewards_release_due


class Command(BaseCommand):
    help = "Release pending points and cashback whose pending period is over. Safe to run at any time."

    def handle(self, *args, **options):
        released = rewards_release_due()
        self.stdout.write(f"Released {released} pending grant(s).")
