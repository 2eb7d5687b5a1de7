"""The only way a wallet moves: ledger rows and the wallet update, in one transaction.

`wallet_post` locks the wallet row (`SELECT ... FOR UPDATE`), re-checks the buckets it
debits, writes the ledger rows and moves the wallet by their sum with `F()` expressions.
Two tills debiting the same wallet at the same instant queue on the lock, and the second
sees the first one's result. Locks are always taken wallet first, then stock, then voucher.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from customers.models import BUCKETS, POINTS_FIELDS, Customer, LedgerEntry, Wallet
from customers.services.lots import (
    EXPIRED_BY_INACTIVITY,
    LOT_BUCKETS,
    LotBook,
    due_expiry,
    lots_plan,
    reversed_credits,
)
from customers.services.postings import Posting
from loyalty.core.errors import BusinessRuleError
from loyalty.core.money import ZERO, round_money, round_points
from loyalty.outbox.webhooks.models import WebhookEventType
from loyalty.outbox.webhooks.services import webhook_event_record
from loyalty.tenancy.models import Store

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the project's AUTH_USER_MODEL

ADJUSTABLE_BUCKETS = ("points", "balance", "digital_change")
BUCKET_LABELS = {
    "points": _("points"),
    "balance": _("cashback balance"),
    "digital_change": _("digital change balance"),
    "pending_points": _("pending points"),
    "pending_balance": _("pending balance"),
}


class InsufficientFunds(BusinessRuleError):
    """A debit larger than what the wallet holds. `available` lists what there is."""

    code = "insufficient_balance"


def wallet_lock(*, account_id: int, customer_id: int) -> Wallet:
    """The customer's wallet, locked until the end of the transaction (wallet lock: first)."""
    return Wallet.objects.select_for_update().get(account_id=account_id, customer_id=customer_id)


def postings_total(postings: Sequence[Posting]) -> dict[str, Decimal | int]:
    """What `postings` move, by wallet field (the fields they leave unmoved left out)."""
    totals: dict[str, Decimal | int] = {}
    for posting in postings:
        for name, value in posting.deltas.items():
            if value:
                totals[name] = totals.get(name, 0) + value
    return {name: value for name, value in totals.items() if value}


def _available(wallet: Wallet) -> dict[str, Decimal]:
    return {name: getattr(wallet, name) for name in ("points", "balance", "digital_change")}


def entries_reversal(
    entries: Sequence[LedgerEntry],
    *,
    reason: str,
    links: Mapping[str, object] | None = None,
    already_gone: Mapping[int, Mapping[str, Decimal | int]] | None = None,
) -> list[Posting]:
    """Postings that compensate each of `entries` (kind `reversal`): exactly, less what of
    an entry `already_gone` says has left the wallet another way (its expired part, which an
    `expiry` row already took).

    Each keeps the origin links of the row it reverses; `links` adds or overrides some.
    """
    gone = already_gone or {}
    return [
        Posting(
            kind=LedgerEntry.Kind.REVERSAL,
            deltas={
                name: -value + gone.get(entry.pk, {}).get(name, 0)
                for name, value in entry.moved().items()
                if value != gone.get(entry.pk, {}).get(name, 0)
            },
            reason=reason,
            store=entry.store,
            reverses=entry,
            links={
                "sale_id": entry.sale_id,
                "rule_id": entry.rule_id,
                "voucher_id": entry.voucher_id,
                "redemption_id": entry.redemption_id,
                **(links or {}),
            },
        )
        for entry in entries
    ]


def wallet_check_funds(*, wallet: Wallet, postings: Sequence[Posting]) -> None:
    """Raise `InsufficientFunds` if the postings would take a bucket of `wallet` below zero."""
    totals = postings_total(postings)
    short = [
        name for name in BUCKETS if totals.get(name, ZERO) < 0 and getattr(wallet, name) + totals[name] < 0
    ]
    if short:
        needed = ", ".join(
            gettext("%(amount)s of %(bucket)s") % {"amount": -totals[name], "bucket": BUCKET_LABELS[name]}
            for name in short
        )
        held = ", ".join(
            pgettext("what a wallet holds", "%(amount)s %(bucket)s")
            % {"amount": getattr(wallet, name), "bucket": BUCKET_LABELS[name]}
            for name in short
        )
        raise InsufficientFunds(
            gettext("Insufficient balance: the request needs %(needed)s; the wallet has %(held)s.")
            % {"needed": needed, "held": held},
            available=_available(wallet),
        )


def wallet_post(
    *,
    customer: Customer | None = None,
    postings: Sequence[Posting],
    overdraw: bool = False,
    locked_wallet: Wallet | None = None,
    also_set: Mapping[str, object] | None = None,
) -> Wallet:
    """Write `postings` to the customer's ledger and move the wallet by their sum.

    Unless `overdraw` (reversals may leave a debt that later earnings pay off), a bucket
    that the postings debit must hold enough; otherwise `InsufficientFunds` and nothing
    is written. `locked_wallet` is the wallet the caller already locked with
    `wallet_lock`, and therefore already inside the caller's transaction. `also_set` sets
    other wallet columns in the same update. Returns the wallet as it is after the postings.
    """
    return wallet_post_entries(
        customer=customer,
        postings=postings,
        overdraw=overdraw,
        locked_wallet=locked_wallet,
        also_set=also_set,
    )[0]


def wallet_post_entries(
    *,
    customer: Customer | None = None,
    postings: Sequence[Posting],
    overdraw: bool = False,
    locked_wallet: Wallet | None = None,
    also_set: Mapping[str, object] | None = None,
) -> tuple[Wallet, list[LedgerEntry]]:
    """`wallet_post`, also answering the ledger rows written (in the order of `postings`)."""
    if locked_wallet is not None:
        return _write_postings(locked_wallet, postings, overdraw, also_set or {})
    if customer is None:
        raise ValueError("Name the customer, or pass the wallet already locked.")
    with transaction.atomic(savepoint=False):
        wallet = wallet_lock(account_id=customer.account_id, customer_id=customer.pk)
        return _write_postings(wallet, postings, overdraw, also_set or {})


def wallet_expire_due(
    *,
    wallet: Wallet,
    now: datetime | None = None,
    inactivity_on: bool | None = None,
    book: LotBook | None = None,
) -> tuple[Wallet, bool]:
    """Expire what of the locked `wallet` is past its end (see `lots.due_expiry`): one
    `expiry` row per bucket, announced to the account's webhooks (`rewards.expired`), whether
    the expiry job or a purchase found it past its end. Returns the wallet after it and
    whether anything was written."""
    book = book or LotBook(wallet, set())
    now = now or timezone.now()
    due = due_expiry(wallet=wallet, now=now, book=book, inactivity_on=inactivity_on)
    if due is None:
        return wallet, False
    postings = [
        Posting(kind=LedgerEntry.Kind.EXPIRY, deltas={bucket: -amount}, reason=due.reason)
        for bucket, amount in due.amounts.items()
        if amount > 0
    ]
    also_set = {"inactivity_expires_at": None} if due.clear_deadline else {}
    wallet, _ = _write_postings(wallet, postings, False, also_set, book=book, expire_first=False)
    if postings:
        webhook_event_record(
            account_id=wallet.account_id,
            type=WebhookEventType.REWARDS_EXPIRED,
            occurred_at=now,
            data={
                "customer_id": wallet.customer_id,
                "reason": "inactivity" if due.reason == EXPIRED_BY_INACTIVITY else "validity",
                "points": due.amounts.get("points", ZERO),
                "balance": due.amounts.get("balance", ZERO),
            },
        )
    return wallet, True


def _expiry_may_be_due(wallet: Wallet, postings: Sequence[Posting], now: datetime) -> bool:
    if wallet.inactivity_expires_at is not None and wallet.inactivity_expires_at <= now:
        return True
    return any(
        posting.deltas.get(bucket, 0) < 0 and getattr(wallet, f"lot_{bucket}") > 0
        for posting in postings
        for bucket in LOT_BUCKETS
    )


def _write_postings(
    wallet: Wallet,
    postings: Sequence[Posting],
    overdraw: bool,
    also_set: Mapping[str, object],
    *,
    book: LotBook | None = None,
    expire_first: bool = True,
) -> tuple[Wallet, list[LedgerEntry]]:
    book = book or LotBook(wallet, reversed_credits(postings))
    now = timezone.now()
    if expire_first and postings and _expiry_may_be_due(wallet, postings, now):
        # What is past its end leaves before anything else moves: it cannot be spent, and a
        # purchase after an inactivity deadline does not revive what the deadline took.
        wallet, _ = wallet_expire_due(wallet=wallet, now=now, book=book)
    totals = postings_total(postings)
    if not overdraw:
        wallet_check_funds(wallet=wallet, postings=postings)
    if not postings and not also_set:
        return wallet, []
    lots = lots_plan(wallet=wallet, postings=postings, book=book)
    entries = LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                account_id=wallet.account_id,
                wallet=wallet,
                kind=posting.kind,
                reason=posting.reason,
                store=posting.store,
                staff_user=posting.staff_user,
                reverses=posting.reverses,
                lots_spent=lots.spent.get(index),
                **{name: value for name, value in posting.deltas.items()},
                **posting.links,
            )
            for index, posting in enumerate(postings)
        ]
    )
    lots.write(wallet=wallet, entries=entries)
    moved: dict[str, Decimal | int] = {**totals, **lots.moved}
    if moved or also_set:
        Wallet.objects.filter(account_id=wallet.account_id, pk=wallet.pk).update(
            **{name: F(name) + value for name, value in moved.items()}, **also_set, updated_at=timezone.now()
        )
        for name, value in moved.items():
            setattr(wallet, name, getattr(wallet, name) + value)
        for name, column_value in also_set.items():
            setattr(wallet, name, column_value)
    return wallet, entries


def wallet_credit(
    *,
    customer: Customer,
    kind: str,
    amounts: Mapping[str, Decimal | int],
    reason: str = "",
    store: Store | None = None,
    **links: object,
) -> Wallet:
    """Add positive amounts to buckets, as one ledger row."""
    if any(value < 0 for value in amounts.values()):
        raise ValueError("wallet_credit takes positive amounts; use wallet_debit to take.")
    posting = Posting(kind=kind, deltas=amounts, reason=reason, store=store, links=links)
    return wallet_post(customer=customer, postings=[posting])


def wallet_debit(
    *,
    customer: Customer,
    kind: str,
    amounts: Mapping[str, Decimal | int],
    reason: str = "",
    store: Store | None = None,
    **links: object,
) -> Wallet:
    """Take positive amounts from buckets, as one ledger row; all or nothing."""
    if any(value < 0 for value in amounts.values()):
        raise ValueError("wallet_debit takes the positive amounts to take.")
    posting = Posting(
        kind=kind,
        deltas={name: -value for name, value in amounts.items()},
        reason=reason,
        store=store,
        links=links,
    )
    return wallet_post(customer=customer, postings=[posting])


def wallet_adjust(
    *, customer: Customer, bucket: str, amount: Decimal, reason: str, staff_user: "User"
) -> Wallet:
    """A staff correction of one bucket, signed by the staff user, with a required reason.

    A negative adjustment may not take a bucket below zero.
    """
    if bucket not in ADJUSTABLE_BUCKETS:
        raise BusinessRuleError(
            gettext("Only %(buckets)s can be adjusted.") % {"buckets": ", ".join(ADJUSTABLE_BUCKETS)},
            code="invalid_bucket",
        )
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleError(gettext("An adjustment needs a reason."), code="reason_required")
    amount = round_points(amount) if bucket in POINTS_FIELDS else round_money(amount)
    if not amount:
        raise BusinessRuleError(gettext("An adjustment moves a non-zero amount."), code="zero_amount")
    posting = Posting(
        kind=LedgerEntry.Kind.ADJUSTMENT, deltas={bucket: amount}, reason=reason, staff_user=staff_user
    )
    return wallet_post(customer=customer, postings=[posting])
