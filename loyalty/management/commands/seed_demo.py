"""`seed_demo`: idempotent demo data, then the values needed to try the product."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from loyalty.shell.demo import seed_demo


class Command(BaseCommand):
    help = "Load idempotent demo data and print the admin login, demo API credentials and URLs."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="Where the app is served.")

    def handle(self, *args, **options):
        if not getattr(settings, "DEMO_DATA_ALLOWED", True):
            raise CommandError("Demo data is disabled in these settings (DEMO_DATA_ALLOWED = False).")
        demo = seed_demo()
        base = options["base_url"].rstrip("/")
        lines = [
            "",
            "Demo data ready.",
            f"  Admin            {base}/admin/   user {demo.admin_username} / password {demo.admin_password}",
            f"  Merchant staff   user {demo.staff_username} / password {demo.staff_password} "
            f"(sees only '{demo.account.name}')",
            f"  API docs         {base}/api/docs/",
            f"  api_key          {demo.api_key}",
            f"  api_secret       {demo.api_secret}",
            f"  X-Store-Token    {demo.store_token}   (store '{demo.store.name}')",
            "",
            "  Try it:",
            f"    curl -s -X POST {base}/api/v2/auth/token -H 'Content-Type: application/json' \\",
            f'         -d \'{{"api_key": "{demo.api_key}", "api_secret": "{demo.api_secret}"}}\'',
            "",
        ]
        self.stdout.write("\n".join(lines))
