"""Customer communications: queueing into the outbox, and delivering it.

Messages are queued in the transaction of what causes them — marketing ones only for a
customer who accepts marketing on their channel — and delivered afterwards by
`messages_send_due` (the `send_messages` command). Several senders may run at once:
each claims due messages with `SELECT ... FOR UPDATE SKIP LOCKED`, so none is sent twice.
Failures are retried with exponential backoff and end as `failed` after the maximum.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext

from loyalty.core.dates import format_api_datetime
from loyalty.outbox.backends import backend_for
from loyalty.outbox.models import (
    PLACEHOLDER,
    Channel,
    Event,
    Message,
    MessageAttempt,
    MessageTemplate,
    Purpose,
)
from loyalty.tenancy.cache import account_cached
from loyalty.tenancy.models import Account, Store

# What the outbox reads of the apps' records. Customers, sales, wallets and vouchers live a floor
# above; their models answer these descriptions without the outbox importing them.


class Recipient(Protocol):
    """A customer, as a message addresses them."""

    @property
    def pk(self) -> int: ...
    @property
    def account_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    def marketing_channels(self) -> Collection[str]:
        """The channels on which they accept marketing messages now (LGPD); may cost a query."""
        ...


class RewardedSale(Protocol):
    """A sale whose rewards a message announces."""

    @property
    def pk(self) -> int: ...
    @property
    def account_id(self) -> int: ...
    @property
    def account(self) -> Account: ...
    @property
    def store(self) -> Store | None: ...
    @property
    def amount(self) -> Decimal: ...


class WalletFigures(Protocol):
    """A wallet, as a message quotes its buckets."""

    @property
    def balance(self) -> Decimal: ...
    @property
    def points(self) -> Decimal: ...
    @property
    def digital_change(self) -> Decimal: ...


class AnnouncedVoucher(Protocol):
    """A voucher, as a message announces it."""

    @property
    def code(self) -> str: ...
    @property
    def value(self) -> Decimal: ...
    @property
    def valid_until(self) -> datetime: ...


def format_brl(value: Decimal | int) -> str:
    """1234.5 → '1.234,50', as Brazilian customers read amounts."""
    text = f"{Decimal(value):,.2f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def render(text: str, context: dict[str, object]) -> str:
    """Fill `{placeholder}`s; unknown ones stay as written, so a typo is visible, not fatal."""
    return PLACEHOLDER.sub(lambda match: str(context.get(match.group(1), match.group(0))), text)


def sample_context() -> dict[str, str]:
    """Example values for previewing a template."""
    return {
        "name": "Maria Souza",
        "cashback": format_brl(Decimal("7.65")),
        "points": format_brl(Decimal("152.99")),
        "balance": format_brl(Decimal("62.16")),
        "digital_change": format_brl(Decimal("0.40")),
        "amount": format_brl(Decimal("152.99")),
        "voucher_code": "7KQ4M9XRTW2P",
        "voucher_value": format_brl(Decimal("20")),
        "voucher_valid_until": "2024-07-19",
        "expiry_date": "19/07/2024",
        "points_earned": format_brl(Decimal("152.99")),
        "redeemed": format_brl(Decimal("10")),
        "redeemed_digital_change": format_brl(Decimal("0.40")),
        "store": "Loja Centro",
        "account": "Mercado Demo",
    }


def recipient_for(customer: Recipient, channel: str) -> str | None:
    return customer.email if channel == Channel.EMAIL else customer.phone


def _message(
    template: MessageTemplate,
    customer: Recipient,
    context: dict[str, object],
    sale: RewardedSale | None = None,
) -> Message | None:
    recipient = recipient_for(customer, template.channel)
    if not recipient:
        return None
    return Message(
        account_id=template.account_id,
        customer_id=customer.pk,
        template=template,
        sale_id=sale.pk if sale is not None else None,
        event=template.event,
        channel=template.channel,
        recipient=recipient,
        subject=render(template.subject, context),
        body=render(template.body, context),
        next_attempt_at=timezone.now(),
    )


def _consented(templates: Sequence[MessageTemplate], customer: Recipient) -> list[MessageTemplate]:
    """The templates that may write to this customer: marketing ones only on a channel on
    which they accept marketing (LGPD).

    Their consent is read once, and only when a marketing template could reach them (they
    have its channel's contact): transactional messages cost no query at all.
    """
    reaching = [
        template
        for template in templates
        if template.purpose == Purpose.MARKETING and recipient_for(customer, template.channel)
    ]
    accepted = customer.marketing_channels() if reaching else ()
    return [
        template
        for template in templates
        if template.purpose != Purpose.MARKETING or template.channel in accepted
    ]


def _wallet_figures(wallet: WalletFigures) -> dict[str, Decimal]:
    return {"balance": wallet.balance, "points": wallet.points, "digital_change": wallet.digital_change}


def _base_context(
    customer: Recipient, account: Account, wallet_after: Mapping[str, Decimal], store: Store | None = None
) -> dict[str, object]:
    return {
        "name": customer.name or "",
        "balance": format_brl(wallet_after.get("balance", 0)),
        "points": format_brl(wallet_after.get("points", 0)),
        "digital_change": format_brl(wallet_after.get("digital_change", 0)),
        # A sale that named no store (v2 without `store_id`) is the account's own: "cashback na
        # Mercado Demo", never "cashback na ."
        "store": store.name if store else account.name,
        "account": account.name,
    }


def messages_queue_for_sale(
    *,
    sale: RewardedSale,
    customer: Recipient,
    wallet: WalletFigures,
    cashback: Decimal,
    points: Decimal,
    vouchers: Sequence[AnnouncedVoucher],
    rule_templates: Sequence[MessageTemplate | None] = (),
) -> int:
    """Queue the messages a rewarded sale causes; returns how many were queued.

    `wallet` is the customer's wallet as it is after the sale's grants: the balance a message
    quotes is the one the customer will see. Marketing templates, the event's and the rules',
    are queued only on channels the customer accepts (`_consented`).
    """
    events = []
    if cashback or points or vouchers:
        events.append(Event.SALE_REWARDED)
    if vouchers:
        events.append(Event.VOUCHER_ISSUED)
    templates = _active_templates(sale.account_id, events) if events else []
    templates += [template for template in rule_templates if template and template.active]
    templates = _consented(templates, customer)
    if not templates:
        return 0
    context = {
        **_base_context(customer, sale.account, _wallet_figures(wallet), sale.store),
        "cashback": format_brl(cashback),
        "points_earned": format_brl(points),
        "amount": format_brl(sale.amount),
    }
    messages = []
    for template in templates:
        if template.event == Event.VOUCHER_ISSUED:
            for voucher in vouchers:
                voucher_context = {
                    **context,
                    "voucher_code": voucher.code,
                    "voucher_value": format_brl(voucher.value),
                    "voucher_valid_until": voucher.valid_until.astimezone(sale.account.tzinfo)
                    .date()
                    .isoformat(),
                }
                messages.append(_message(template, customer, voucher_context, sale))
        else:
            messages.append(_message(template, customer, context, sale))
    queued = [message for message in messages if message is not None]
    Message.objects.bulk_create(queued)
    return len(queued)


def _active_templates(account_id: int, events: Collection[str]) -> list[MessageTemplate]:
    """The account's active templates of these events, oldest first. Every rewarded sale and
    redemption asks, so the account's active templates are kept in process memory under its
    configuration version (`loyalty.tenancy.cache`), which saving a template renews."""
    every = account_cached(
        account_id,
        "message_templates",
        lambda: tuple(MessageTemplate.objects.filter(account_id=account_id, active=True).order_by("id")),
    )
    return [template for template in every if template.event in events]


def messages_queue_event(
    *,
    account: Account,
    customer: Recipient,
    event: str,
    context: Mapping[str, object],
    wallet_after: Mapping[str, Decimal],
    store: Store | None = None,
) -> int:
    """Queue the account's active templates of `event` for a customer; returns how many.

    Marketing templates only on channels the customer accepts (`_consented`). It writes one
    bulk insert, atomic by itself, inside the caller's transaction.
    """
    templates = _consented(_active_templates(account.pk, [event]), customer)
    full_context = {**_base_context(customer, account, wallet_after, store), **context}
    queued = [message for template in templates if (message := _message(template, customer, full_context))]
    Message.objects.bulk_create(queued)
    return len(queued)


@transaction.atomic(savepoint=False)
def message_template_create(
    *,
    account: Account,
    name: str,
    event: str,
    channel: str,
    body: str,
    subject: str = "",
    active: bool = True,
    purpose: str = Purpose.TRANSACTIONAL,
) -> MessageTemplate:
    template = MessageTemplate(
        account=account,
        name=name,
        event=event,
        channel=channel,
        purpose=purpose,
        body=body,
        subject=subject,
        active=active,
    )
    template.full_clean()
    template.save()
    return template


def messages_withdraw_for_sale(*, sale: RewardedSale) -> int:
    """Withdraw the still-queued messages of a cancelled sale (one UPDATE, atomic by itself)."""
    return Message.objects.filter(
        account_id=sale.account_id, sale_id=sale.pk, status=Message.Status.QUEUED
    ).update(status=Message.Status.WITHDRAWN)


def messages_erase_for_customer(customer: Recipient) -> None:
    """LGPD: keep the outbox's record of what happened, not who it was sent to or what it said."""
    mine = Message.objects.filter(account_id=customer.account_id, customer_id=customer.pk)
    mine.filter(status=Message.Status.QUEUED).update(status=Message.Status.WITHDRAWN)
    mine.update(recipient="", subject="", body=gettext("(erased: customer anonymised)"))


def messages_export_for_customer(customer: Recipient) -> list[dict[str, Any]]:
    """The messages sent (or queued) to a customer, for an LGPD export."""
    return [
        {
            "event": message.event,
            "channel": message.channel,
            "recipient": message.recipient,
            "subject": message.subject,
            "body": message.body,
            "status": message.status,
            "created_at": format_api_datetime(message.created_at),
            "sent_at": format_api_datetime(message.sent_at) if message.sent_at else None,
        }
        for message in Message.objects.filter(
            account_id=customer.account_id, customer_id=customer.pk
        ).order_by("id")
    ]


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=settings.MESSAGE_RETRY_BASE_SECONDS * 2 ** (attempts - 1))


@transaction.atomic(savepoint=False)
def messages_claim(*, batch_size: int, claim: str) -> list[Message]:
    """Take up to `batch_size` due messages for this sender, for `MESSAGE_LEASE_SECONDS`.

    Committed before any provider is called: the attempt is counted now, so a sender that
    dies mid-batch costs its messages one attempt, and they are due again once the lease runs
    out. A message whose every attempt ended without a recorded result is failed here.
    """
    now = timezone.now()
    due = list(
        Message.objects.select_for_update(skip_locked=True)
        .filter(status=Message.Status.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")[:batch_size]
    )
    claimed = []
    lease = now + timedelta(seconds=settings.MESSAGE_LEASE_SECONDS)
    for message in due:
        if message.attempts >= settings.MESSAGE_MAX_ATTEMPTS:
            message.status = Message.Status.FAILED
            message.claim = ""
            message.last_error = "No result was recorded: the sender stopped during every attempt."
            message.save(update_fields=["status", "claim", "last_error"])
            continue
        message.attempts += 1
        message.claim = claim
        message.next_attempt_at = lease
        claimed.append(message)
    Message.objects.bulk_update(claimed, ["attempts", "claim", "next_attempt_at"])
    return claimed


def _provider_call(message: Message) -> tuple[str | None, int | None]:
    """Hands the message to its channel's provider, outside any transaction: the error, if
    any, and the seconds the provider asked to wait before the next attempt, if it said."""
    try:
        backend_for(message.channel).send(message)
    except Exception as error:  # noqa: BLE001 - any provider failure is recorded and retried
        return f"{error.__class__.__name__}: {error}"[:2000], getattr(error, "retry_after", None)
    return None, None


@transaction.atomic(savepoint=False)
def message_delivery_record(
    *, message: Message, claim: str, error: str | None, retry_after: int | None = None
) -> str:
    """Records one attempt's result in a short transaction: `sent`, `retried` or `failed`.

    Only the sender holding the claim moves the message; one whose lease ran out and that
    another sender took meanwhile keeps the other's outcome (the attempt is still recorded).
    """
    now = timezone.now()
    MessageAttempt.objects.create(
        account_id=message.account_id, message=message, succeeded=error is None, error=error or ""
    )
    held = Message.objects.filter(pk=message.pk, claim=claim, status=Message.Status.QUEUED)
    if error is None:
        held.update(status=Message.Status.SENT, sent_at=now, claim="")
        return "sent"
    if message.attempts >= settings.MESSAGE_MAX_ATTEMPTS:
        held.update(status=Message.Status.FAILED, last_error=error, claim="")
        return "failed"
    # The backoff, or longer if the provider said when to come back (429 Retry-After).
    delay = max(_retry_delay(message.attempts), timedelta(seconds=retry_after or 0))
    held.update(next_attempt_at=now + delay, last_error=error, claim="")
    return "retried"


def messages_send_due(*, batch_size: int = 50, max_batches: int | None = None) -> SendReport:
    """Deliver every due queued message: claim a batch (committed), call each provider outside
    any transaction, record each result in its own short transaction. A crash at any point
    loses nothing and never sends again a message recorded as sent."""
    report = SendReport()
    claim = get_random_string(32)
    batches = 0
    while max_batches is None or batches < max_batches:
        batch = messages_claim(batch_size=batch_size, claim=claim)
        if not batch:
            break
        for message in batch:
            error, retry_after = _provider_call(message)
            outcome = message_delivery_record(
                message=message, claim=claim, error=error, retry_after=retry_after
            )
            setattr(report, outcome, getattr(report, outcome) + 1)
        batches += 1
    return report


@transaction.atomic(savepoint=False)
def message_retry(*, message: Message) -> Message:
    """Queue a failed (or queued) message again now, with a fresh attempt budget."""
    if message.status in (Message.Status.SENT, Message.Status.WITHDRAWN):
        return message
    message.status = Message.Status.QUEUED
    message.attempts = 0
    message.claim = ""
    message.next_attempt_at = timezone.now()
    message.save(update_fields=["status", "attempts", "claim", "next_attempt_at"])
    return message
