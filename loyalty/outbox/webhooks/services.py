"""Webhooks: the account's endpoints, the events written to the outbox, and their delivery.

Events are written in the transaction of what causes them (`webhook_events_record`): one
delivery per active endpoint of the account subscribed to the event's type, in one insert;
an account without endpoints costs one cheap read and nothing more. They are delivered
afterwards by `webhooks_send_due` (the `send_webhooks` command) exactly as messages are
(`loyalty.outbox.services.messages_send_due`): a sender claims a batch with a lease and
commits, posts each event outside any transaction, and records each answer in a short
transaction of its own. A crash never loses an event and never posts again one recorded as
sent; an event whose answer was lost in a crash may be posted twice, under the same
`webhook-id`, which is how receivers de-duplicate. Anything but a 2xx is retried with
exponential backoff (a 429's `Retry-After` is honoured) and ends as `failed` after
`WEBHOOK_MAX_ATTEMPTS`.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from loyalty.core.dates import format_api_datetime
from loyalty.core.money import json_amount
from loyalty.outbox.webhooks import transport
from loyalty.outbox.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEventType
from loyalty.outbox.webhooks.signing import new_webhook_secret, secret_hint, signed_headers
from loyalty.outbox.webhooks.transport import Answer
from loyalty.tenancy.cache import account_cached, account_config_changed
from loyalty.tenancy.models import Account

_UNSET: Any = object()
EVENT_ID_PREFIX = "msg_"
#: The longest wait between two attempts, whatever the backoff or a `Retry-After` says.
MAX_RETRY_DELAY = timedelta(days=1)
#: The shortest: a `Retry-After: 0` does not make a sender post the same event in a loop.
MIN_RETRY_DELAY = timedelta(seconds=1)


@dataclass(frozen=True)
class WebhookEventData:
    """An event as the service that causes it describes it: its type, when it happened, and
    its `data` — ids, codes and amounts (Decimal amounts leave as JSON numbers, datetimes as
    UTC ISO 8601)."""

    type: str
    data: Mapping[str, Any]
    occurred_at: datetime


@dataclass(frozen=True)
class IssuedWebhookSecret:
    """A freshly generated signing secret: the only answer that shows it whole."""

    endpoint: WebhookEndpoint
    secret: str


# --- endpoints ---------------------------------------------------------------------------


def _in_order(events: Sequence[str]) -> list[str]:
    """The event types chosen, once each, in the vocabulary's order."""
    chosen = set(events)
    return [event for event in WebhookEventType.values if event in chosen]


@transaction.atomic(savepoint=False)
def webhook_endpoint_create(
    *, account: Account, url: str, events: Sequence[str], active: bool = True
) -> IssuedWebhookSecret:
    """A new endpoint with a new signing secret, returned in clear this once.

    `ValidationError` by field (`url`, `events`) when the URL or the events are refused
    (`loyalty.outbox.webhooks.addresses`); nothing is written then."""
    secret = new_webhook_secret()
    endpoint = WebhookEndpoint(
        account=account,
        url=url,
        events=list(events),
        active=active,
        secret=secret,
        secret_prefix=secret_hint(secret),
    )
    # The account is the caller's own: checking that it exists would cost a statement.
    endpoint.full_clean(exclude=["account"])
    endpoint.events = _in_order(endpoint.events)
    endpoint.save()
    return IssuedWebhookSecret(endpoint=endpoint, secret=secret)


@transaction.atomic(savepoint=False)
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str = _UNSET,
    events: Sequence[str] = _UNSET,
    active: bool = _UNSET,
) -> WebhookEndpoint:
    """Change the given fields, validated as on creation. Events already queued keep their
    endpoint: they are posted to its URL as it is when they are sent."""
    changes: dict[str, Any] = {
        name: value
        for name, value in {"url": url, "events": events, "active": active}.items()
        if value is not _UNSET
    }
    if not changes:
        return endpoint
    for name, value in changes.items():
        setattr(endpoint, name, list(value) if name == "events" else value)
    # Only what changes is validated: switching an endpoint off never resolves its host.
    endpoint.full_clean(
        exclude=[field.name for field in WebhookEndpoint._meta.fields if field.name not in changes]
    )
    if "events" in changes:
        endpoint.events = _in_order(endpoint.events)
    endpoint.updated_at = timezone.now()
    # Only the columns sent: a concurrent change of the others is not undone.
    WebhookEndpoint.objects.filter(account_id=endpoint.account_id, pk=endpoint.pk).update(
        **{name: getattr(endpoint, name) for name in changes}, updated_at=endpoint.updated_at
    )
    account_config_changed(endpoint.account_id)
    return endpoint


@transaction.atomic(savepoint=False)
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """Replace the endpoint's signing secret; returns the new one, in clear this once.

    Every attempt from now on is signed with it, those of events queued before included:
    the receiver must verify with the new secret as soon as it is issued."""
    secret = new_webhook_secret()
    now = timezone.now()
    WebhookEndpoint.objects.filter(account_id=endpoint.account_id, pk=endpoint.pk).update(
        secret=secret, secret_prefix=secret_hint(secret), updated_at=now
    )
    account_config_changed(endpoint.account_id)
    endpoint.secret, endpoint.secret_prefix, endpoint.updated_at = secret, secret_hint(secret), now
    return secret


# --- events ------------------------------------------------------------------------------


def new_event_id() -> str:
    return EVENT_ID_PREFIX + get_random_string(27)


def json_ready(value: Any) -> Any:
    """Event data as JSON: Decimal amounts as numbers in their shortest exact form (as the API
    answers them), datetimes in UTC ISO 8601, dates as YYYY-MM-DD."""
    if isinstance(value, Decimal):
        return json_amount(value)
    if isinstance(value, datetime):
        return format_api_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    return value


def event_body(event: WebhookEventData) -> str:
    """The body posted for an event: `{"type", "timestamp", "data"}`, compact JSON."""
    return json.dumps(
        {
            "type": event.type,
            "timestamp": format_api_datetime(event.occurred_at),
            "data": json_ready(event.data),
        },
        separators=(",", ":"),
    )


@transaction.atomic(savepoint=False)
def webhook_events_record(*, account_id: int, events: Sequence[WebhookEventData]) -> int:
    """Queue each event for every active endpoint of the account subscribed to its type, in
    the caller's transaction; returns the deliveries queued.

    The account's active endpoints are kept in process memory under its configuration version
    (`loyalty.tenancy.cache`), which any change to an endpoint renews: with a warm cache an
    account without endpoints reads nothing; with some, one insert. Each event gets one id, the same for all its endpoints and all its attempts."""
    if not events:
        return 0
    endpoints = account_cached(
        account_id,
        "webhook_endpoints",
        lambda: tuple(
            WebhookEndpoint.objects.filter(account_id=account_id, active=True).values_list("id", "events")
        ),
    )
    if not endpoints:
        return 0
    now = timezone.now()
    deliveries = []
    for event in events:
        subscribed = [pk for pk, types in endpoints if event.type in types]
        if not subscribed:
            continue
        event_id, body = new_event_id(), event_body(event)
        deliveries += [
            WebhookDelivery(
                account_id=account_id,
                endpoint_id=pk,
                event_id=event_id,
                event_type=event.type,
                payload=body,
                next_attempt_at=now,
            )
            for pk in subscribed
        ]
    WebhookDelivery.objects.bulk_create(deliveries)
    return len(deliveries)


def webhook_event_record(
    *, account_id: int, type: str, data: Mapping[str, Any], occurred_at: datetime
) -> int:
    """`webhook_events_record` of one event."""
    return webhook_events_record(
        account_id=account_id, events=[WebhookEventData(type=type, data=data, occurred_at=occurred_at)]
    )


# --- delivery ----------------------------------------------------------------------------


@dataclass
class WebhookSendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: the base, doubled at each attempt."""
    delay = timedelta(seconds=settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    return min(delay, MAX_RETRY_DELAY)


@transaction.atomic(savepoint=False)
def webhooks_claim(*, batch_size: int, claim: str) -> list[WebhookDelivery]:
    """Take up to `batch_size` due deliveries for this sender, for `WEBHOOK_LEASE_SECONDS`.

    Committed before anything is posted: the attempt is counted now, so a sender that dies
    mid-batch costs its deliveries one attempt, and they are due again once the lease runs
    out. A delivery whose every attempt ended without a recorded answer is failed here, and
    so is one whose endpoint was deactivated since it was queued."""
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("endpoint")
        .filter(status=WebhookDelivery.Status.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")[:batch_size]
    )
    claimed, given_up = [], []
    lease = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    for delivery in due:
        if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS or not delivery.endpoint.active:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.claim = ""
            delivery.last_error = (
                "The endpoint was deactivated before the event was delivered."
                if not delivery.endpoint.active
                else "No answer was recorded: the sender stopped during every attempt."
            )
            given_up.append(delivery)
            continue
        delivery.attempts += 1
        delivery.claim = claim
        delivery.next_attempt_at = lease
        claimed.append(delivery)
    WebhookDelivery.objects.bulk_update(given_up, ["status", "claim", "last_error"])
    WebhookDelivery.objects.bulk_update(claimed, ["attempts", "claim", "next_attempt_at"])
    return claimed


def webhook_post(delivery: WebhookDelivery) -> Answer:
    """Posts the delivery's body, signed for this attempt, outside any transaction."""
    endpoint = delivery.endpoint
    try:
        headers = signed_headers(
            secret=endpoint.secret, event_id=delivery.event_id, body=delivery.payload, at=timezone.now()
        )
        return transport.post(
            endpoint.url,
            body=delivery.payload.encode("utf-8"),
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        )
    except Exception as error:  # noqa: BLE001 - whatever fails is this attempt's error, recorded and retried
        return Answer(None, f"{error.__class__.__name__}: {error}"[:1000], 0)


@transaction.atomic(savepoint=False)
def webhook_delivery_record(*, delivery: WebhookDelivery, claim: str, answer: Answer) -> str:
    """Records one attempt's answer in a short transaction: `sent`, `retried` or `failed`.

    Only the sender holding the claim moves the delivery; one whose lease ran out and that
    another sender took meanwhile keeps the other's outcome (the attempt is still recorded)."""
    now = timezone.now()
    WebhookAttempt.objects.create(
        account_id=delivery.account_id,
        delivery=delivery,
        status_code=answer.status_code,
        error=answer.error,
        duration_ms=answer.duration_ms,
    )
    held = WebhookDelivery.objects.filter(
        account_id=delivery.account_id, pk=delivery.pk, claim=claim, status=WebhookDelivery.Status.QUEUED
    )
    outcome = {"last_status_code": answer.status_code, "last_error": answer.error, "claim": ""}
    if answer.accepted:
        held.update(status=WebhookDelivery.Status.SENT, sent_at=now, **outcome)
        return "sent"
    if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        held.update(status=WebhookDelivery.Status.FAILED, **outcome)
        return "failed"
    wait = answer.retry_after if answer.retry_after is not None else retry_delay(delivery.attempts)
    held.update(next_attempt_at=now + min(max(wait, MIN_RETRY_DELAY), MAX_RETRY_DELAY), **outcome)
    return "retried"


def webhooks_send_due(*, batch_size: int = 50, max_batches: int | None = None) -> WebhookSendReport:
    """Deliver every due webhook event: claim a batch (committed), post each outside any
    transaction, record each answer in its own short transaction. Several senders may run
    at once: each claims with `SELECT ... FOR UPDATE SKIP LOCKED`."""
    report = WebhookSendReport()
    claim = get_random_string(32)
    batches = 0
    while max_batches is None or batches < max_batches:
        batch = webhooks_claim(batch_size=batch_size, claim=claim)
        if not batch:
            break
        for delivery in batch:
            outcome = webhook_delivery_record(delivery=delivery, claim=claim, answer=webhook_post(delivery))
            setattr(report, outcome, getattr(report, outcome) + 1)
        batches += 1
    return report


@transaction.atomic(savepoint=False)
def webhook_delivery_retry(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue a failed (or queued) delivery again now, with a fresh attempt budget, under the
    same event id; a sent one stays sent."""
    if delivery.status == WebhookDelivery.Status.SENT:
        return delivery
    delivery.status = WebhookDelivery.Status.QUEUED
    delivery.attempts = 0
    delivery.claim = ""
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "claim", "next_attempt_at"])
    return delivery
