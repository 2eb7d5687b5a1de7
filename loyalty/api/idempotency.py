"""`Idempotency-Key` on every write (POST, PUT, PATCH, DELETE) of both API dialects.

A retry with the same key and the same request answers the first answer byte for byte and
changes nothing; the same key with another request is a 422; a retry while the first is
still running is a 409 `request_in_progress` — the two never both run. Keys are scoped to
the account and, in the POS dialect, to the store (two stores' tills may well derive the
same key from their receipts); they are kept at least `IDEMPOTENCY_KEY_TTL` and then purged
by `manage.py purge_idempotency_keys`.

A request with a key runs in one transaction (see `loyalty.api.dialects`), in this order:

1. On PostgreSQL, a transaction advisory lock named after the key's scope; a request that
   cannot take it at once is the 409. It is released with the transaction whatever
   happens — a crash included — and never outlives it, so it also holds behind a
   transaction-mode connection pooler. (SQLite runs one write transaction at a time:
   the retry waits for the first and then finds its answer.)
2. A stored answer for the key: replayed, or the 422 when the request differs.
3. A savepoint, then the request itself.
4. Its answer is stored in the same transaction: a success with the write it describes; a
   refusal (4xx) after rolling back to the savepoint, so that it changed nothing but is
   answered the same way next time. A 5xx is not stored: the whole transaction rolls back
   and the client may retry.
"""

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError

from loyalty.api.models import IdempotencyKey
from loyalty.core.errors import BusinessRuleError, ConflictError

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
    scope: str
    key: str
    fingerprint: str
    savepoint: str | None = None
    answered: bool = False
    #: The request was refused and its answer stored: the transaction commits that answer.
    refusal_stored: bool = False


def _canonical(value):
    """The request body with numbers compared by value: a till that sends `10` and then
    `10.0` sends the same request."""
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        number = Decimal(str(value)).normalize()
        return f"{number:f}"
    return value


def request_fingerprint(request) -> str:
    body = json.dumps(_canonical(request.data), sort_keys=True, separators=(",", ":"), default=str)
    target = f"{request.method} {request.path_info}?{request.META.get('QUERY_STRING', '')}"
    return hashlib.sha256(f"{target}\n{body}".encode()).hexdigest()


def key_scope(request) -> str:
    """Where a key is unique besides the account: the store, for the POS dialect."""
    store = getattr(request.user, "store", None)
    return f"store:{store.pk}" if store is not None else ""


def _lock_id(account_id: int, scope: str, key: str) -> int:
    digest = hashlib.sha256(f"idempotency-key:{account_id}:{scope}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _try_lock(lock_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        return bool(cursor.fetchone()[0])


def _stored_answer(claim: _Claim) -> IdempotencyKey | None:
    record = IdempotencyKey.objects.filter(
        account_id=claim.account_id, scope=claim.scope, key=claim.key
    ).first()
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
        scope=claim.scope,
        key=claim.key,
        request_fingerprint=claim.fingerprint,
        response_status=response.status_code,
        response_body=response.content,
        response_content_type=response.get("Content-Type", ""),
    )


def carries_key(request) -> bool:
    return request.method in WRITE_METHODS and HEADER in request.headers


class IdempotencyMixin:
    """Honours `Idempotency-Key` on the writes of an authenticated API view whose request
    runs in one transaction (see `loyalty.api.dialects`)."""

    _idempotency_claim: _Claim | None = None

    @property
    def refusal_stored(self) -> bool:
        """True when a refused request's answer was stored: its transaction must commit."""
        claim = self._idempotency_claim
        return claim is not None and claim.refusal_stored

    def initial(self, request, *args, **kwargs):
        self._idempotency_claim = None
        super().initial(request, *args, **kwargs)
        if not carries_key(request):
            return
        key = request.headers[HEADER].strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationError(
                {HEADER: [gettext("Must be 1 to %(max)s characters.") % {"max": MAX_KEY_LENGTH}]}
            )
        assert connection.in_atomic_block, "a request with an Idempotency-Key runs in a transaction"
        claim = _Claim(request.user.account.pk, key_scope(request), key, request_fingerprint(request))
        if connection.vendor == "postgresql" and not _try_lock(_lock_id(claim.account_id, claim.scope, key)):
            raise ConflictError(
                gettext("A request with this Idempotency-Key is still being processed; retry shortly."),
                code="request_in_progress",
            )
        self._idempotency_claim = claim
        record = _stored_answer(claim)
        if record is None:
            claim.savepoint = transaction.savepoint()
            return
        claim.answered = True
        if record.request_fingerprint != claim.fingerprint:
            raise BusinessRuleError(
                gettext("This Idempotency-Key was already used with a different request."),
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
        if claim is None or claim.answered or response.status_code >= 500:
            return response
        if response.status_code >= 400:
            # Undo whatever ran before the refusal; the key, its lock and the answer stay.
            transaction.set_rollback(False)
            transaction.savepoint_rollback(claim.savepoint)
            claim.refusal_stored = True
        _store_answer(claim, response)
        claim.answered = True
        return response
