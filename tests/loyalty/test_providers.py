"""SMS (Zenvia) and WhatsApp (Cloud API) deliveries against a stub provider on 127.0.0.1.

The stub checks the exact request — path, authorization header, JSON body — and answers as a
real provider may: 200, 429 with Retry-After, 500, or not in time. The outbox records each
attempt, honours Retry-After, retries with backoff and never crashes on garbage.
"""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from customers.services import customer_create
from loyalty.outbox.backends import ProviderError, retry_after_seconds
from loyalty.outbox.models import Message, MessageAttempt
from loyalty.outbox.services import message_template_create, messages_queue_event, messages_send_due

pytestmark = pytest.mark.django_db


class StubProvider:
    """Answers each POST with the next of `answers`: (status, headers, body) or "slow"."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stub.requests.append(
                    {
                        "path": self.path,
                        "headers": {name.lower(): value for name, value in self.headers.items()},
                        "body": json.loads(body),
                    }
                )
                answer = stub.answers.pop(0) if stub.answers else (200, {}, b"{}")
                if answer == "slow":
                    time.sleep(1.5)
                    answer = (200, {}, b"{}")
                status, headers, payload = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider():
    stub = StubProvider()
    yield stub
    stub.close()


@pytest.fixture
def providers(settings, provider):
    settings.MESSAGE_BACKENDS = {
        **settings.MESSAGE_BACKENDS,
        "sms": "loyalty.outbox.backends.ZenviaSmsBackend",
        "whatsapp": "loyalty.outbox.backends.WhatsAppCloudBackend",
    }
    settings.ZENVIA_API_URL = provider.url
    settings.ZENVIA_API_TOKEN = "zenvia-token"
    settings.ZENVIA_SMS_FROM = "MercadoAlfa"
    settings.WHATSAPP_API_URL = f"{provider.url}/v21.0"
    settings.WHATSAPP_ACCESS_TOKEN = "meta-token"
    settings.WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
    settings.WHATSAPP_TEMPLATE_NAME = "loyalty_message"
    settings.MESSAGE_PROVIDER_TIMEOUT_SECONDS = 1
    settings.MESSAGE_RETRY_BASE_SECONDS = 60
    return provider


def queue(merchant, channel: str) -> Message:
    maria = customer_create(account=merchant.account, name="Maria", phone="(11) 98765-4321")
    message_template_create(
        account=merchant.account, name=channel, event="balance_redeemed", channel=channel, body="Olá {name}!"
    )
    messages_queue_event(
        account=merchant.account, customer=maria, event="balance_redeemed", context={}, wallet_after={}
    )
    return Message.objects.get()


def test_an_sms_goes_to_zenvia_as_its_api_asks(merchant, providers):
    message = queue(merchant, "sms")

    report = messages_send_due()

    (request,) = providers.requests
    assert request["path"] == "/v2/channels/sms/messages"
    assert request["headers"]["x-api-token"] == "zenvia-token"
    assert request["headers"]["content-type"] == "application/json"
    assert request["body"] == {
        "from": "MercadoAlfa",
        "to": "5511987654321",
        "contents": [{"type": "text", "text": "Olá Maria!"}],
    }
    message.refresh_from_db()
    assert (report.sent, message.status) == (1, Message.Status.SENT)


def test_a_whatsapp_message_is_an_approved_template_carrying_the_text(merchant, providers):
    queue(merchant, "whatsapp")

    messages_send_due()

    (request,) = providers.requests
    assert request["path"] == "/v21.0/106540352242922/messages"
    assert request["headers"]["authorization"] == "Bearer meta-token"
    assert request["body"] == {
        "messaging_product": "whatsapp",
        "to": "5511987654321",
        "type": "template",
        "template": {
            "name": "loyalty_message",
            "language": {"code": "pt_BR"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Olá Maria!"}]}],
        },
    }


@pytest.mark.parametrize(
    ("answer", "error", "wait"),
    [
        (
            (429, {"Retry-After": "600"}, b'{"error": "slow down"}'),
            "HTTP 429",
            600,
        ),  # longer than the backoff
        ((500, {}, b"<html>oops</html>"), "HTTP 500", 60),
        ("slow", "timed out", 60),
    ],
    ids=["429 Retry-After", "500", "timeout"],
)
def test_a_refusal_is_recorded_and_retried_later(merchant, providers, answer, error, wait):
    message = queue(merchant, "sms")
    providers.answers.append(answer)
    before = timezone.now()

    report = messages_send_due()

    message.refresh_from_db()
    attempt = MessageAttempt.objects.get(message=message)
    assert (report.retried, message.status, message.attempts) == (1, Message.Status.QUEUED, 1)
    assert error in attempt.error
    assert not attempt.succeeded
    assert message.next_attempt_at >= before + timedelta(seconds=wait)
    assert message.next_attempt_at < before + timedelta(seconds=wait + 30)


def test_after_the_last_attempt_the_message_is_failed(merchant, providers, settings):
    settings.MESSAGE_MAX_ATTEMPTS = 2
    message = queue(merchant, "sms")
    providers.answers += [(500, {}, b""), (500, {}, b"")]

    messages_send_due()
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    messages_send_due()

    message.refresh_from_db()
    assert (message.status, message.attempts, MessageAttempt.objects.filter(message=message).count()) == (
        Message.Status.FAILED,
        2,
        2,
    )


@pytest.mark.parametrize(
    ("header", "seconds"), [("120", 120), ("", None), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0)]
)
def test_retry_after_is_read_as_seconds_or_a_date_and_garbage_is_ignored(header, seconds):
    assert retry_after_seconds(header) == seconds


def test_a_provider_url_that_is_not_http_is_refused_without_a_call(merchant, providers, settings):
    settings.ZENVIA_API_URL = "file:///etc"
    message = queue(merchant, "sms")

    messages_send_due()

    assert "Not an HTTP URL" in MessageAttempt.objects.get(message=message).error
    assert ProviderError.__name__ in MessageAttempt.objects.get(message=message).error


def test_an_esp_chosen_by_email_backend_gets_the_message_through_anymail(merchant, settings):
    from django.core import mail

    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "Mercado Alfa <ofertas@mercadoalfa.com.br>"
    maria = customer_create(account=merchant.account, name="Maria", email="maria@example.com")
    message_template_create(
        account=merchant.account,
        name="E-mail",
        event="balance_redeemed",
        channel="email",
        subject="Oi",
        body="Olá {name}",
    )
    messages_queue_event(
        account=merchant.account, customer=maria, event="balance_redeemed", context={}, wallet_after={}
    )

    messages_send_due()

    (sent,) = mail.outbox
    assert (sent.from_email, sent.to, sent.subject, sent.body) == (
        "Mercado Alfa <ofertas@mercadoalfa.com.br>",
        ["maria@example.com"],
        "Oi",
        "Olá Maria",
    )
    assert hasattr(sent, "anymail_test_params")  # it went through django-anymail's backend
