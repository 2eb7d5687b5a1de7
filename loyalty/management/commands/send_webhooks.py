"""`send_webhooks`: deliver the webhook events that are due."""

from django.core.management.base import BaseCommand

from loyalty.outbox.webhooks.services import webhooks_send_due


class Command(BaseCommand):
    help = (
        "Deliver due webhook events, signed the Standard Webhooks way. Anything but a 2xx is retried "
        "with backoff and ends as failed after the maximum number of attempts. Several senders may "
        "run at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=50)

    def handle(self, *args, **options):
        report = webhooks_send_due(batch_size=options["batch_size"])
        self.stdout.write(f"Sent {report.sent}, will retry {report.retried}, failed {report.failed}.")
