"""Delivery backends of customer messages, chosen per channel by `MESSAGE_BACKENDS`.

A backend's `send(message)` delivers one message or raises; the outbox records the
attempt either way. E-mail goes through Django's e-mail backend; SMS and WhatsApp go
through whatever provider backend is configured (by default one that only logs).
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string
from django.utils.translation import gettext

logger = logging.getLogger("loyalty.messages")


class EmailBackend:
    def send(self, message) -> None:
        send_mail(
            subject=message.subject or gettext("Your loyalty program"),
            message=message.body,
            from_email=None,
            recipient_list=[message.recipient],
            fail_silently=False,
        )


class LoggingBackend:
    """Stands in for an SMS / WhatsApp provider: logs the message instead of sending it."""

    def send(self, message) -> None:
        logger.info("%s to %s: %s", message.channel, message.recipient, message.body)


def backend_for(channel: str):
    return import_string(settings.MESSAGE_BACKENDS[channel])()
