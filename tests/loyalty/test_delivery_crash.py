"""A sender killed (SIGKILL) in the middle of a batch loses nothing and never sends again what
it recorded as sent.

The sender is a real `send_messages` process on the test database; its provider writes each
accepted message's id to a file. After the kill, another sender runs once the dead one's
lease is over: every message ends sent, each at least once, and only a message whose result
the dead sender had not recorded yet may have gone out twice.
"""

import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from customers.services import customer_create
from loyalty.outbox.models import Message
from loyalty.outbox.services import message_template_create, messages_queue_event, messages_send_due
from tests.concurrency import process_env

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGES = 12
BACKEND = "tests.outbox_backends.SlowRecordingBackend"


def sent_ids(log: Path) -> list[int]:
    return [int(line) for line in log.read_text().split()] if log.exists() else []


def test_a_sender_killed_mid_batch_loses_nothing_and_resends_nothing_recorded(
    postgres_only, merchant, tmp_path, monkeypatch
):
    maria = customer_create(account=merchant.account, name="Maria", phone="11987654321")
    for index in range(MESSAGES):
        message_template_create(
            account=merchant.account,
            name=f"SMS {index}",
            event="balance_redeemed",
            channel="sms",
            body="Olá {name}",
        )
    messages_queue_event(
        account=merchant.account, customer=maria, event="balance_redeemed", context={}, wallet_after={}
    )
    log = tmp_path / "sent.log"
    env = process_env(
        MESSAGE_SMS_BACKEND=BACKEND,
        SENT_LOG=str(log),
        SEND_DELAY="0.2",
    )
    sender = subprocess.Popen(
        [sys.executable, "manage.py", "send_messages", "--batch-size", "50"], cwd=settings.BASE_DIR, env=env
    )
    deadline = time.monotonic() + 60
    while len(sent_ids(log)) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    sender.send_signal(signal.SIGKILL)
    sender.wait()

    at_kill = dict(Message.objects.values_list("pk", "status"))
    recorded_sent = {pk for pk, status in at_kill.items() if status == Message.Status.SENT}
    accepted_before = sent_ids(log)
    assert 4 <= len(accepted_before) < MESSAGES, "the kill must land in the middle of the batch"
    assert len(recorded_sent) < MESSAGES

    # Another sender, once the dead one's lease has run out.
    monkeypatch.setenv("SENT_LOG", str(log))
    monkeypatch.setitem(settings.MESSAGE_BACKENDS, "sms", BACKEND)
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.MESSAGE_LEASE_SECONDS + 1)):
        report = messages_send_due()

    accepted = Counter(sent_ids(log))
    resent_after_kill = Counter(sent_ids(log)[len(accepted_before) :])
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.SENT}
    assert set(accepted) == set(at_kill)  # none lost
    assert not recorded_sent & set(resent_after_kill)  # none recorded as sent went out again
    assert report.sent == MESSAGES - len(recorded_sent)
    twice = [pk for pk, times in accepted.items() if times > 1]
    assert len(twice) <= 1, twice  # only the one in the provider's hands when the sender died
