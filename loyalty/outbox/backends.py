"""Delivery backends of customer messages, chosen per channel by `MESSAGE_BACKENDS`.

A backend's `send(message)` delivers one message or raises; the outbox records the attempt
either way, outside any database transaction (`loyalty.outbox.services`). A provider that
asks to slow down (429 with `Retry-After`) raises `ProviderError` with that delay, which the
outbox honours before the next attempt.

- E-mail goes through Django's e-mail backend: SMTP from the `EMAIL_*` settings, or any
  provider django-anymail supports, chosen by `EMAIL_BACKEND`.
- SMS goes through Zenvia's SMS API (`ZenviaSmsBackend`): a Brazilian provider, with
  Brazilian numbers, sender ids and delivery to every carrier of the country.
- WhatsApp goes through Meta's WhatsApp Cloud API as a template message
  (`WhatsAppCloudBackend`): outside a 24-hour customer-service window WhatsApp only delivers
  pre-approved templates, so the rendered text travels as the one body parameter of the
  approved template named by `WHATSAPP_TEMPLATE_NAME`.
- `LoggingBackend` only writes to the log: the development default of SMS and WhatsApp.
"""

import json
import logging
import re
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext

logger = logging.getLogger("loyalty.messages")


class ProviderError(Exception):
    """A provider refused or failed a delivery; `retry_after` (seconds) when it said when to
    come back."""

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> int | None:
    """`Retry-After` as seconds: a number of seconds or an HTTP date; None when absent or garbled."""
    if not value:
        return None
    if value.strip().isdigit():
        return int(value.strip())
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(int((moment - timezone.now()).total_seconds()), 0)


def post_json(url: str, body: dict, headers: dict[str, str]) -> None:
    """POSTs `body` as JSON; returns on a 2xx, raises `ProviderError` on anything else."""
    if not url.startswith(("https://", "http://")):
        raise ProviderError(f"Not an HTTP URL: {url!r}")
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json", **headers},
        method="POST",
    )
    try:
        timeout = settings.MESSAGE_PROVIDER_TIMEOUT_SECONDS
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
            response.read()
    except urllib.error.HTTPError as error:
        answer = error.read()[:500].decode("utf-8", "replace")
        raise ProviderError(
            f"HTTP {error.code}: {answer}", retry_after=retry_after_seconds(error.headers.get("Retry-After"))
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise ProviderError(f"{error.__class__.__name__}: {error}") from None


def phone_digits(recipient: str) -> str:
    """`+55 11 98765-4321` as providers take it: `5511987654321`."""
    return re.sub(r"\D", "", recipient)


class EmailBackend:
    def send(self, message) -> None:
        send_mail(
            subject=message.subject or gettext("Your loyalty program"),
            message=message.body,
            from_email=None,
            recipient_list=[message.recipient],
            fail_silently=False,
        )


class ZenviaSmsBackend:
    """Zenvia's SMS API: `POST {ZENVIA_API_URL}/v2/channels/sms/messages` with `X-API-TOKEN`."""

    def send(self, message) -> None:
        post_json(
            f"{settings.ZENVIA_API_URL.rstrip('/')}/v2/channels/sms/messages",
            {
                "from": settings.ZENVIA_SMS_FROM,
                "to": phone_digits(message.recipient),
                "contents": [{"type": "text", "text": message.body}],
            },
            {"X-API-TOKEN": settings.ZENVIA_API_TOKEN},
        )


class WhatsAppCloudBackend:
    """WhatsApp Cloud API: `POST {WHATSAPP_API_URL}/{phone number id}/messages`, a template."""

    def send(self, message) -> None:
        post_json(
            f"{settings.WHATSAPP_API_URL.rstrip('/')}/{settings.WHATSAPP_PHONE_NUMBER_ID}/messages",
            {
                "messaging_product": "whatsapp",
                "to": phone_digits(message.recipient),
                "type": "template",
                "template": {
                    "name": settings.WHATSAPP_TEMPLATE_NAME,
                    "language": {"code": settings.WHATSAPP_TEMPLATE_LANGUAGE},
                    "components": [{"type": "body", "parameters": [{"type": "text", "text": message.body}]}],
                },
            },
            {"Authorization": f"Bearer {settings.WHATSAPP_ACCESS_TOKEN}"},
        )


class LoggingBackend:
    """Stands in for an SMS / WhatsApp provider: logs the message instead of sending it."""

    def send(self, message) -> None:
        logger.info("%s to %s: %s", message.channel, message.recipient, message.body)


def backend_for(channel: str):
    return import_string(settings.MESSAGE_BACKENDS[channel])()
