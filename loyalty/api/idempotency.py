"""`Idempotency-Key` on every write (POST, PUT, PATCH, DELETE) of both API dialects.

A retry with the same key and the same request answers the first answer byte for byte and
changes nothing; the same key with another request is a 422; a retry while the first is
still running is a 409 `request_in_progress` — the two never both run. Keys are scoped to
the account, kept at least `IDEMPOTENCY_KEY_TTL` and then purged by
`manage.py purge_idempotency_keys`.

How "never both run" holds:

- On PostgreSQL the request holds a session advisory lock named after the account and the
  key from before it looks for a stored answer until that answer is stored; a second
  request that cannot take the lock at once is the 409. A crashed worker's lock goes with
  its connection, so there is no claim to expire and nothing to take over.
- On SQLite every write transaction is `BEGIN IMMEDIATE`: the retry waits for the first
  to commit, then finds its answer.

A successful answer is stored in the request's own transaction, so it commits with the
write it describes or not at all. A refusal (4xx) changed nothing and is stored after the
request's transaction, so the retry gets the same refusal. A 5xx is not stored: the client
may retry it.
"""

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from loyalty.exceptions import BusinessRuleError, ConflictError
from loyalty.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REPLAYED_HEADER = "Idempotent-Replayed"


class _Replay(Exception):
    def __init__(self, record: IdempotencyKey) -> None:
        super().__init__(record.key)
        self.record = record


@dataclass
class _Claim:
    """The key a running request holds until its answer is stored (or found stored)."""

    account_id: int
    key: str
    fingerprint: str
    lock_id: int | None
    answered: bool = False


def request_fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    target = f"{request.method} {request.path_info}?{request.META.get('QUERY_STRING', '')}"
    return hashlib.sha256(f"{target}\n{body}".encode()).hexdigest()


def _lock_id(account_id: int, key: str) -> int:
    digest = hashlib.sha256(f"idempotency-key:{account_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _try_lock(lock_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        return bool(cursor.fetchone()[0])


def _unlock(lock_id: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])
    except DatabaseError:
        pass  # the connection is gone, and the session's locks with it


def _stored_answer(account_id: int, key: str) -> IdempotencyKey | None:
    record = IdempotencyKey.objects.filter(account_id=account_id, key=key).first()
    if record is not None and record.created_at < timezone.now() - settings.IDEMPOTENCY_KEY_TTL:
        # Past its keeping time: the key is free again, whether or not the purge has run.
        IdempotencyKey.objects.filter(pk=record.pk).delete()
        return None
    return record


def _store_answer(claim: _Claim, response) -> None:
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    IdempotencyKey.objects.create(
        account_id=claim.account_id,
        key=claim.key,
        request_fingerprint=claim.fingerprint,
        response_status=response.status_code,
        response_body=response.content,
        response_content_type=response.get("Content-Type", ""),
    )


class IdempotencyMixin:
    """Honours `Idempotency-Key` on the writes of an authenticated API view.

    Its `dispatch` must wrap the view's transaction (see `loyalty.api.dialects`), so that a
    refusal's answer is stored once that transaction has rolled back.
    """

    _idempotency_claim: _Claim | None = None

    def dispatch(self, request, *args, **kwargs):
        self._idempotency_claim = None
        try:
            response = super().dispatch(request, *args, **kwargs)
            claim = self._idempotency_claim
            if claim is not None and not claim.answered and 400 <= response.status_code < 500:
                try:
                    with transaction.atomic():
                        _store_answer(claim, response)
                except IntegrityError:
                    pass  # SQLite only: a run of the same refused request stored it first
            return response
        finally:
            claim, self._idempotency_claim = self._idempotency_claim, None
            if claim is not None and claim.lock_id is not None:
                _unlock(claim.lock_id)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.headers.get(HEADER)
        if request.method not in WRITE_METHODS or key is None:
            return
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationError({HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} characters."]})
        account_id = request.user.account.pk
        fingerprint = request_fingerprint(request)
        lock_id = None
        if connection.vendor == "postgresql":
            lock_id = _lock_id(account_id, key)
            if not _try_lock(lock_id):
                raise ConflictError(
                    "A request with this Idempotency-Key is still being processed; retry shortly.",
                    code="request_in_progress",
                )
        claim = self._idempotency_claim = _Claim(account_id, key, fingerprint, lock_id)
        record = _stored_answer(account_id, key)
        if record is None:
            return
        claim.answered = True
        if record.request_fingerprint != fingerprint:
            raise BusinessRuleError(
                "This Idempotency-Key was already used with a different request.",
                code="idempotency_key_reused",
            )
        raise _Replay(record)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            record = exc.record
            response = HttpResponse(
                bytes(record.response_body),
                status=record.response_status,
                content_type=record.response_content_type or "application/json",
            )
            response[REPLAYED_HEADER] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        claim = self._idempotency_claim
        if claim is not None and not claim.answered and response.status_code < 400:
            # In the request's transaction: the answer commits with the write it describes.
            _store_answer(claim, response)
            claim.answered = True
        return response
