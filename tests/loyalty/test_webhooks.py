"""Webhook delivery: the exact request a receiver gets, its signature, and what each answer
leads to (sent, retried with backoff or as a 429 asks, failed), crash-safe like messages.

Deliveries go to a real HTTP server on 127.0.0.1 (`tests.webhook_receiver`)."""

import base64
import hashlib
import hmac
import json
import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from loyalty.outbox.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from loyalty.outbox.webhooks.services import (
    webhook_delivery_retry,
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
    webhook_event_record,
    webhooks_claim,
    webhooks_send_due,
)
from loyalty.outbox.webhooks.signing import new_webhook_secret, secret_hint, signed_headers
from tests.concurrency import run_concurrently
from tests.webhook_receiver import Receiver, Reply

pytestmark = pytest.mark.django_db

WHEN = datetime(2024, 5, 24, 18, 10, tzinfo=UTC)


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def endpoint_for(account, url, events=("sale.recorded",)):
    return webhook_endpoint_create(account=account, url=url, events=list(events))


def record(account, **data):
    return webhook_event_record(
        account_id=account.pk, type="sale.recorded", occurred_at=WHEN, data={"sale_id": 7, **data}
    )


def delivery() -> WebhookDelivery:
    return WebhookDelivery.objects.get()


def independently_signed(secret: str, event_id: str, timestamp: str, body: bytes) -> str:
    """The signature as the Standard Webhooks spec defines it, computed here by hand."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# --- signatures --------------------------------------------------------------------------


def test_signatures_match_the_standard_webhooks_test_vector():
    """The vector of Standard Webhooks' own libraries (secret, id, timestamp, body, signature)."""
    headers = signed_headers(
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        event_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        body='{"test": 2432232314}',
        at=datetime.fromtimestamp(1614265330, UTC),
    )

    assert headers == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }


def test_a_new_secret_is_32_random_bytes_in_the_standard_form():
    secret = new_webhook_secret()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret != new_webhook_secret()
    assert secret_hint(secret) == secret[:12]


# --- the request a receiver gets ---------------------------------------------------------


def test_an_event_is_posted_once_exactly_as_standard_webhooks_says(merchant, receiver):
    issued = endpoint_for(merchant.account, receiver.url("/hooks/loyalty?source=test"))
    record(merchant.account, amount=Decimal("24.50"))
    queued = delivery()

    before = int(timezone.now().timestamp())
    report = webhooks_send_due()
    after = int(timezone.now().timestamp())

    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.path == "/hooks/loyalty?source=test"
    assert request.body == queued.payload.encode()
    assert json.loads(request.body) == {
        "type": "sale.recorded",
        "timestamp": "2024-05-24T18:10:00.000000Z",
        "data": {"sale_id": 7, "amount": 24.5},
    }
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == queued.event_id
    assert queued.event_id.startswith("msg_")
    assert before <= int(request.headers["webhook-timestamp"]) <= after
    assert request.headers["webhook-signature"] == independently_signed(
        issued.secret, queued.event_id, request.headers["webhook-timestamp"], request.body
    )
    # The receiver's own check, with the secret as it was shown once.
    assert Webhook(issued.secret).verify(request.body, request.headers)["data"]["sale_id"] == 7
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(request.body, request.headers)
    sent = delivery()
    assert (sent.status, sent.attempts, sent.last_status_code, sent.last_error) == ("sent", 1, 200, "")
    assert sent.sent_at is not None
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.error, attempt.succeeded) == (200, "", True)
    assert attempt.duration_ms >= 0
    assert webhooks_send_due().sent == 0  # nothing is sent twice


def test_each_endpoint_gets_its_own_signature_for_the_same_event(merchant, receiver):
    first = endpoint_for(merchant.account, receiver.url("/one"))
    second = endpoint_for(merchant.account, receiver.url("/two"))
    record(merchant.account)

    webhooks_send_due()

    by_path = {request.path: request for request in receiver.requests}
    assert set(by_path) == {"/one", "/two"}
    assert by_path["/one"].headers["webhook-id"] == by_path["/two"].headers["webhook-id"]
    Webhook(first.secret).verify(by_path["/one"].body, by_path["/one"].headers)
    Webhook(second.secret).verify(by_path["/two"].body, by_path["/two"].headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(first.secret).verify(by_path["/two"].body, by_path["/two"].headers)


# --- answers other than 2xx --------------------------------------------------------------


@override_settings(WEBHOOK_RETRY_BASE_SECONDS=60)
def test_a_server_error_is_retried_with_exponential_backoff_under_the_same_event_id(merchant, receiver):
    endpoint_for(merchant.account, receiver.url())
    record(merchant.account)
    receiver.reply(Reply(500, body=b"boom"), Reply(503), Reply(200))

    first = webhooks_send_due()
    queued = delivery()
    assert (first.retried, queued.status, queued.attempts, queued.last_status_code) == (1, "queued", 1, 500)
    assert queued.last_error == "HTTP 500: boom"
    assert timedelta(seconds=55) < queued.next_attempt_at - timezone.now() <= timedelta(seconds=60)
    assert webhooks_send_due().retried == 0  # not due yet

    with time_machine.travel(queued.next_attempt_at + timedelta(seconds=1)):
        webhooks_send_due()
        queued = delivery()
        assert (queued.attempts, queued.last_status_code) == (2, 503)
        assert timedelta(seconds=115) < queued.next_attempt_at - timezone.now() <= timedelta(seconds=120)
    with time_machine.travel(queued.next_attempt_at + timedelta(seconds=1)):
        assert webhooks_send_due().sent == 1

    assert delivery().status == "sent"
    ids = {request.headers["webhook-id"] for request in receiver.requests}
    assert len(receiver.requests) == 3
    assert ids == {queued.event_id}
    assert [attempt.status_code for attempt in WebhookAttempt.objects.order_by("id")] == [500, 503, 200]


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_a_429_is_retried_when_its_retry_after_says(merchant, receiver, form):
    endpoint_for(merchant.account, receiver.url())
    record(merchant.account)
    when = timezone.now() + timedelta(seconds=600)
    header = "600" if form == "seconds" else format_datetime(when.astimezone(UTC), usegmt=True)
    receiver.reply(Reply(429, headers={"Retry-After": header}))

    assert webhooks_send_due().retried == 1

    queued = delivery()
    assert queued.last_status_code == 429
    # Well past the backoff's first minute: the receiver asked for ten.
    assert timedelta(seconds=590) < queued.next_attempt_at - timezone.now() <= timedelta(seconds=601)


def test_a_429_without_retry_after_backs_off_as_any_refusal(merchant, receiver):
    endpoint_for(merchant.account, receiver.url())
    record(merchant.account)
    receiver.reply(Reply(429))

    webhooks_send_due()

    assert timedelta(seconds=55) < delivery().next_attempt_at - timezone.now() <= timedelta(seconds=60)


@override_settings(WEBHOOK_TIMEOUT_SECONDS=0.3)
def test_a_receiver_that_does_not_answer_in_time_is_retried(merchant, receiver):
    endpoint_for(merchant.account, receiver.url())
    record(merchant.account)
    receiver.reply(Reply(200, delay=1.5))

    report = webhooks_send_due()

    queued = delivery()
    assert report.retried == 1
    assert (queued.status, queued.last_status_code) == ("queued", None)
    assert queued.last_error == "Timed out after 0.3 s"
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert 250 <= attempt.duration_ms < 1500


def test_a_redirect_is_not_followed(merchant, receiver):
    endpoint_for(merchant.account, receiver.url())
    record(merchant.account)
    receiver.reply(Reply(302, headers={"Location": receiver.url("/elsewhere")}))

    assert webhooks_send_due().retried == 1

    assert len(receiver.requests) == 1
    assert delivery().last_status_code == 302


def test_an_unreachable_receiver_is_retried(merchant):
    with socket.socket() as probe:  # a port of this machine that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint_for(merchant.account, f"http://127.0.0.1:{port}/hooks")
    record(merchant.account)

    assert webhooks_send_due().retried == 1

    assert delivery().last_error.startswith("ConnectionRefusedError")


@override_settings(WEBHOOK_MAX_ATTEMPTS=3, WEBHOOK_RETRY_BASE_SECONDS=1)
def test_an_event_is_failed_after_the_maximum_number_of_attempts(merchant, receiver):
    endpoint_for(merchant.account, receiver.url())
    record(merchant.account)
    receiver.reply(Reply(500), Reply(500), Reply(500), Reply(200))

    outcomes = []
    for _ in range(3):
        with time_machine.travel(delivery().next_attempt_at + timedelta(seconds=1)):
            report = webhooks_send_due()
            outcomes.append((report.sent, report.retried, report.failed))

    assert outcomes == [(0, 1, 0), (0, 1, 0), (0, 0, 1)]
    failed = delivery()
    assert (failed.status, failed.attempts, failed.last_status_code) == ("failed", 3, 500)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert webhooks_send_due().sent == 0
    assert len(receiver.requests) == 3

    webhook_delivery_retry(delivery=failed)
    assert webhooks_send_due().sent == 1
    assert {request.headers["webhook-id"] for request in receiver.requests} == {failed.event_id}
    assert (delivery().status, delivery().attempts) == ("sent", 1)


def test_a_sent_delivery_is_not_retried_again(merchant, receiver):
    endpoint_for(merchant.account, receiver.url())
    record(merchant.account)
    webhooks_send_due()

    webhook_delivery_retry(delivery=delivery())

    assert delivery().status == "sent"
    assert webhooks_send_due().sent == 0


# --- endpoints that change --------------------------------------------------------------


def test_a_rotated_secret_signs_every_later_attempt(merchant, receiver):
    issued = endpoint_for(merchant.account, receiver.url())
    record(merchant.account)
    new_secret = webhook_endpoint_rotate_secret(endpoint=issued.endpoint)

    webhooks_send_due()

    [request] = receiver.requests
    Webhook(new_secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(issued.secret).verify(request.body, request.headers)
    assert WebhookEndpoint.objects.get().secret_prefix == new_secret[:12]


def test_an_inactive_endpoint_queues_nothing_and_is_sent_nothing(merchant, receiver):
    issued = endpoint_for(merchant.account, receiver.url())
    record(merchant.account)  # queued while active
    webhook_endpoint_update(endpoint=issued.endpoint, active=False)
    record(merchant.account, sale_id=8)  # not queued

    report = webhooks_send_due()

    assert (report.sent, WebhookDelivery.objects.count()) == (0, 1)
    assert receiver.requests == []
    failed = delivery()
    assert failed.status == "failed"
    assert failed.last_error == "The endpoint was deactivated before the event was delivered."


@override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False)
def test_a_delivery_never_reaches_a_private_address_even_if_saved_before(merchant, receiver):
    with override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=True):
        endpoint_for(merchant.account, receiver.url())
    record(merchant.account)

    assert webhooks_send_due().retried == 1

    assert receiver.requests == []
    assert "127.0.0.1" in delivery().last_error
    assert delivery().last_error.startswith("RefusedAddress")


def test_a_refused_endpoint_is_refused_by_the_service_naming_the_field(merchant):
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        webhook_endpoint_create(account=merchant.account, url="http://example.com/h", events=["nope"])

    assert set(refused.value.message_dict) == {"url", "events"}
    assert not WebhookEndpoint.objects.exists()


def test_events_are_kept_once_each_in_a_stable_order(merchant):
    issued = webhook_endpoint_create(
        account=merchant.account,
        url="https://example.com/h",
        events=["voucher.used", "sale.recorded", "voucher.used"],
    )

    assert issued.endpoint.events == ["sale.recorded", "voucher.used"]


# --- the command and the crash-safety of the lease ---------------------------------------


def test_send_webhooks_delivers_what_is_due(merchant, receiver):
    endpoint_for(merchant.account, receiver.url())
    record(merchant.account)
    record(merchant.account, sale_id=8)
    receiver.reply(Reply(200), Reply(500))
    out = StringIO()

    call_command("send_webhooks", "--batch-size", "1", stdout=out)

    assert out.getvalue().strip() == "Sent 1, will retry 1, failed 0."


@override_settings(WEBHOOK_LEASE_SECONDS=300)
def test_a_sender_that_died_mid_batch_leaves_its_events_to_the_next_once_the_lease_ends(merchant, receiver):
    endpoint_for(merchant.account, receiver.url())
    record(merchant.account)
    [claimed] = webhooks_claim(batch_size=10, claim="dead-sender")  # posted, or not: no answer recorded

    assert webhooks_send_due().sent == 0  # still leased to the dead sender

    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        assert webhooks_send_due().sent == 1
    sent = delivery()
    assert (sent.status, sent.attempts) == ("sent", 2)
    assert receiver.requests[0].headers["webhook-id"] == claimed.event_id


@override_settings(WEBHOOK_MAX_ATTEMPTS=2, WEBHOOK_LEASE_SECONDS=300)
def test_an_event_whose_every_attempt_died_with_its_sender_is_failed(merchant):
    endpoint_for(merchant.account, "https://example.com/h")
    record(merchant.account)
    for minutes in (0, 6):
        with time_machine.travel(timezone.now() + timedelta(minutes=minutes)):
            assert len(webhooks_claim(batch_size=10, claim=f"dead-{minutes}")) == 1

    with time_machine.travel(timezone.now() + timedelta(minutes=12)):
        assert webhooks_claim(batch_size=10, claim="alive") == []

    failed = delivery()
    assert (failed.status, failed.attempts) == ("failed", 2)
    assert failed.last_error == "No answer was recorded: the sender stopped during every attempt."


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_senders_post_each_event_once(postgres_only, merchant, receiver):
    endpoint_for(merchant.account, receiver.url())
    for index in range(30):
        record(merchant.account, sale_id=index)

    reports = run_concurrently(2, lambda _: webhooks_send_due(batch_size=5))

    assert sum(report.sent for report in reports) == 30
    ids = [request.headers["webhook-id"] for request in receiver.requests]
    assert len(ids) == len(set(ids)) == 30
    assert all(report.sent > 0 for report in reports), "both senders took part"
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}
