"""`Idempotency-Key` on every POST of the server-to-server dialect.

A retry with the same key and the same body answers the first answer byte for byte and
changes nothing; the same key with another body is a 422; a retry while the first
request still runs is a 409. Keys are scoped to the account and kept at least 24 hours.
An answer of 5xx is not kept, so the client may retry it.
"""

import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from loyalty.exceptions import BusinessRuleError, ConflictError
from loyalty.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# A claim whose request never finished (a crashed worker) may be taken over after this.
ABANDONED_AFTER = timedelta(minutes=2)


class _Replay(Exception):
    def __init__(self, record: IdempotencyKey) -> None:
        super().__init__(record.key)
        self.record = record


def request_fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path_info}\n{body}".encode()).hexdigest()


def _claim(account, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    now = timezone.now()
    IdempotencyKey.objects.filter(
        account=account, key=key, created_at__lt=now - settings.IDEMPOTENCY_KEY_TTL
    ).delete()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                account=account, key=key, request_fingerprint=fingerprint
            ), True
    except IntegrityError:
        return IdempotencyKey.objects.get(account=account, key=key), False


class IdempotencyMixin:
    """Honours `Idempotency-Key` on the POSTs of an authenticated API view."""

    _idempotency_record: IdempotencyKey | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency_record = None
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationError({HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} characters."]})
        fingerprint = request_fingerprint(request)
        record, created = _claim(request.user.account, key, fingerprint)
        if created:
            self._idempotency_record = record
            return
        if record.request_fingerprint != fingerprint:
            raise BusinessRuleError(
                "This Idempotency-Key was already used with a different request body.",
                code="idempotency_key_reused",
            )
        if record.response_status is not None:
            raise _Replay(record)
        if record.created_at < timezone.now() - ABANDONED_AFTER:
            IdempotencyKey.objects.filter(pk=record.pk).update(created_at=timezone.now())
            self._idempotency_record = record
            return
        raise ConflictError(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            code="idempotency_key_in_progress",
        )

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            record = exc.record
            response = HttpResponse(
                bytes(record.response_body or b""),
                status=record.response_status,
                content_type=record.response_content_type or "application/json",
            )
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = self._idempotency_record
        if record is None:
            return response
        self._idempotency_record = None
        if response.status_code >= 500:
            IdempotencyKey.objects.filter(pk=record.pk).delete()
            return response
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        IdempotencyKey.objects.filter(pk=record.pk).update(
            response_status=response.status_code,
            response_body=response.content,
            response_content_type=response.get("Content-Type", ""),
        )
        return response
