"""A real Celery worker and beat on the local Redis deliver what a sale queued.

Production runs the jobs of `loyalty.shell.jobs` on Celery with Redis as the broker: here a
worker with its beat, started as an operator would (`celery -A loyalty.shell.celery worker
--beat`), on the test database, delivers the message a real purchase queued (through the
provider stand-in of tests/outbox_backends.py) and its `sale.recorded` webhook event to a
receiver on 127.0.0.1, whose signature verifies with the endpoint's secret.
"""

import subprocess
import sys
import time

import pytest
from django.conf import settings
from standardwebhooks import Webhook

from loyalty.engine.program import rule_create
from loyalty.outbox.models import Message
from loyalty.outbox.services import message_template_create
from loyalty.outbox.webhooks.services import webhook_endpoint_create
from tests.concurrency import process_env
from tests.sales.builders import purchase, put
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)

BROKER = "redis://127.0.0.1:6379/15"


def test_a_worker_with_beat_delivers_what_a_sale_queued(postgres_only, tenant, tmp_path):
    receiver = Receiver().__enter__()
    issued = webhook_endpoint_create(account=tenant.account, url=receiver.url(), events=["sale.recorded"])
    rule_create(account=tenant.account, name="5%", kind="cashback", value="5")
    message_template_create(
        account=tenant.account, name="SMS", event="sale_rewarded", channel="sms", body="Ganhou {cashback}"
    )
    tenant.v2.post(
        "/api/v2/customers", {"name": "Maria", "cpf": "53933515009", "phone": "11987654321"}, format="json"
    )
    assert put(tenant, purchase()).status_code == 201
    message = Message.objects.get()
    log = tmp_path / "sent.log"
    env = process_env(
        CELERY_BROKER_URL=BROKER,
        JOB_INTERVALS="send_messages=1,send_webhooks=1",
        LOYALTY_VAR_DIR=str(tmp_path),
        MESSAGE_SMS_BACKEND="tests.outbox_backends.SlowRecordingBackend",
        SENT_LOG=str(log),
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "loyalty.shell.celery",
            "worker",
            "--beat",
            "--concurrency",
            "1",
            "--loglevel",
            "warning",
            "--purge",
        ],
        cwd=settings.BASE_DIR,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            message.refresh_from_db()
            if message.status == Message.Status.SENT and receiver.requests:
                break
            time.sleep(0.25)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        receiver.__exit__()

    assert message.status == Message.Status.SENT
    assert log.read_text().split() == [str(message.pk)]
    (request,) = receiver.requests
    event = Webhook(issued.secret).verify(request.body, request.headers)
    assert (event["type"], event["data"]["reference"]) == ("sale.recorded", purchase()["reference"])
