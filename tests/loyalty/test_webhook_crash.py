"""A webhook sender killed (SIGKILL) in the middle of a batch loses no event and never posts
again one it recorded as sent.

The sender is a real `send_webhooks` process on the test database, posting to a receiver on
127.0.0.1 that takes a moment per event. After the kill, another sender runs once the dead
one's lease is over: every event ends sent, each posted at least once under its own
`webhook-id`, and only the one in flight when the sender died may have been posted twice.
"""

import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from loyalty.outbox.webhooks.models import WebhookDelivery
from loyalty.outbox.webhooks.services import webhook_endpoint_create, webhook_event_record, webhooks_send_due
from tests.concurrency import process_env
from tests.webhook_receiver import Receiver, Reply

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = 12


def test_a_sender_killed_mid_batch_loses_nothing_and_reposts_nothing_recorded(postgres_only, merchant):
    with Receiver() as receiver:
        receiver.reply(*[Reply(200, delay=0.2)] * EVENTS * 2)
        webhook_endpoint_create(account=merchant.account, url=receiver.url(), events=["sale.recorded"])
        for index in range(EVENTS):
            webhook_event_record(
                account_id=merchant.account.pk,
                type="sale.recorded",
                occurred_at=timezone.now(),
                data={"sale_id": index},
            )
        env = process_env()
        sender = subprocess.Popen(
            [sys.executable, "manage.py", "send_webhooks", "--batch-size", "50"],
            cwd=settings.BASE_DIR,
            env=env,
        )
        deadline = time.monotonic() + 60
        while len(receiver.requests) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        sender.send_signal(signal.SIGKILL)
        sender.wait()

        at_kill = dict(WebhookDelivery.objects.values_list("event_id", "status"))
        recorded_sent = {event_id for event_id, status in at_kill.items() if status == "sent"}
        posted_before = len(receiver.requests)
        assert 4 <= posted_before < EVENTS, "the kill must land in the middle of the batch"

        with time_machine.travel(timezone.now() + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS + 1)):
            report = webhooks_send_due()

        posted = Counter(request.headers["webhook-id"] for request in receiver.requests)
        posted_again = Counter(request.headers["webhook-id"] for request in receiver.requests[posted_before:])
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"sent"}
    assert set(posted) == set(at_kill)  # none lost
    assert not recorded_sent & set(posted_again)  # none recorded as sent went out again
    assert report.sent == EVENTS - len(recorded_sent)
    twice = [event_id for event_id, times in posted.items() if times > 1]
    assert len(twice) <= 1, twice  # only the one in the receiver's hands when the sender died
