"""`send_messages`: deliver the queued customer messages that are due."""

from django.core.management.base import BaseCommand

from loyalty.outbox.services import messages_send_due


class Command(BaseCommand):
    help = (
        "Deliver due messages of the outbox. Failures are retried with backoff and end as failed "
        "after the maximum number of attempts. Several senders may run at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=50)

    def handle(self, *args, **options):
        report = messages_send_due(batch_size=options["batch_size"])
        self.stdout.write(f"Sent {report.sent}, will retry {report.retried}, failed {report.failed}.")
