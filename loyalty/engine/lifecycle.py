"""What happens to rewards with time: pending grants are released, expiry lots expire, and
customers are reminded before they do.

Each job is idempotent and safe to run while tills redeem: it finds its work through an
index (`PendingGrant` rows not yet settled, lots with something left by expiry time, wallets
by inactivity deadline — never a scan of the ledger), then handles one wallet per
transaction, taking the wallet lock first as every flow does and re-reading under it.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet, Sum
from django.utils import timezone

from customers.models import Customer, ExpiryLot, LedgerEntry, Wallet
from customers.selectors import returned_of_entries
from customers.services import (
    LOT_BUCKETS,
    LotTerms,
    Posting,
    lot_end,
    wallet_expire_due,
    wallet_lock,
    wallet_post,
)
from loyalty.core.dates import last_local_day, local_date, local_day_end
from loyalty.core.money import ZERO
from loyalty.engine.models import ExpiryReminder, PendingGrant
from loyalty.outbox.models import Event
from loyalty.outbox.services import format_brl, messages_queue_event
from loyalty.tenancy.models import Account

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessedRewards:
    released: int
    expired_wallets: int
    reminders: int


def rewards_process_due(*, now: datetime | None = None) -> ProcessedRewards:
    """Run the due releases, then expiries, then reminders, once (`process_rewards`)."""
    now = now or timezone.now()
    return ProcessedRewards(
        released=rewards_release_due(now=now),
        expired_wallets=rewards_expire_due(now=now),
        reminders=rewards_remind_due(now=now),
    )


def _with_customers(wallet_ids: Iterable[int]) -> list[tuple[int, int, int]]:
    """(account, wallet, customer) of these wallets, in wallet order: the order locks are taken."""
    return sorted(
        Wallet.objects.filter(pk__in=set(wallet_ids)).values_list("account_id", "id", "customer_id"),
        key=lambda found: found[1],
    )


# --- release -----------------------------------------------------------------------------


def _release_posting(
    entry: LedgerEntry,
    pending: PendingGrant,
    account: Account,
    now: datetime,
    returned: Mapping[str, Decimal],
) -> Posting:
    """The release of what is left of a pending grant (a return may have taken part of it)."""
    left = {
        bucket: getattr(entry, f"pending_{bucket}") - returned.get(f"pending_{bucket}", ZERO)
        for bucket in ("points", "balance")
    }
    lot = None
    if pending.valid_days:
        # Its validity counts from the local day it became available: the day it was released.
        lot = LotTerms(
            expires_at=lot_end(available_on_day=now, valid_days=pending.valid_days, account=account)
        )
    elif account.expiry_inactivity_days:
        lot = LotTerms(expires_at=None)
    return Posting(
        kind=LedgerEntry.Kind.RELEASE,
        deltas={
            name: value
            for name, value in {
                "pending_points": -left["points"],
                "points": left["points"],
                "pending_balance": -left["balance"],
                "balance": left["balance"],
            }.items()
            if value
        },
        reason=f"Released: {entry.reason}" if entry.reason else "Released",
        store=entry.store,
        links={"sale_id": entry.sale_id, "rule_id": entry.rule_id, "releases": entry},
        lot=lot,
    )


def pending_due(now: datetime) -> QuerySet[PendingGrant]:
    """Pending grants whose release time has come (through the `pending_grant_due` index)."""
    return PendingGrant.objects.filter(settled_at__isnull=True, releases_at__lte=now)


def rewards_release_due(*, now: datetime | None = None) -> int:
    """Move pending grants whose time has come to the available buckets; returns how many.

    Idempotent: each pending grant is released once (its queue row is settled in the same
    transaction, and the ledger's one-to-one link forbids a second release row); a grant
    whose sale was cancelled meanwhile is settled without a release. A wallet that fails is
    logged and left for the next run; the others go on.
    """
    now = now or timezone.now()
    released = 0
    for account_id, wallet_id, customer_id in _with_customers(
        pending_due(now).values_list("wallet_id", flat=True).distinct().order_by()
    ):
        try:
            with transaction.atomic():
                released += _release_wallet(account_id, wallet_id, customer_id, now)
        except Exception:
            logger.exception(
                "Releasing the pending grants of wallet %s failed; it is retried next run.", wallet_id
            )
    return released


def _release_wallet(account_id: int, wallet_id: int, customer_id: int, now: datetime) -> int:
    wallet = wallet_lock(account_id=account_id, customer_id=customer_id)
    # Read under the lock: a cancellation may have reversed a grant meanwhile.
    waiting = list(
        pending_due(now)
        .filter(account_id=account_id, wallet_id=wallet_id)
        .select_related("entry__store", "entry__sale", "account")
        .annotate(
            reversed=Exists(LedgerEntry.objects.filter(account_id=account_id, reverses=OuterRef("entry_id")))
        )
        .order_by("entry_id")
    )
    if not waiting:
        return 0
    account = waiting[0].account
    standing = [pending for pending in waiting if not pending.reversed]
    returned = _returned_from_pending(standing)
    wallet_post(
        postings=[
            _release_posting(pending.entry, pending, account, now, returned.get(pending.entry_id, {}))
            for pending in standing
        ],
        locked_wallet=wallet,
        also_set=_rearmed_deadline(account, wallet, standing),
    )
    PendingGrant.objects.filter(account_id=account_id, pk__in=[pending.pk for pending in waiting]).update(
        settled_at=now
    )
    return len(standing)


def _returned_from_pending(waiting: Sequence[PendingGrant]) -> dict[int, dict[str, Decimal]]:
    """What returns took back of these grants while they were pending, by grant row."""
    found: dict[int, dict[str, Decimal]] = {}
    for sale in {pending.entry.sale for pending in waiting if pending.entry.sale is not None}:
        of_this_sale = [pending.entry for pending in waiting if pending.entry.sale_id == sale.pk]
        found.update(returned_of_entries(sale=sale, entries=of_this_sale))
    return found


def _rearmed_deadline(
    account: Account, wallet: Wallet, released: Sequence[PendingGrant]
) -> dict[str, object]:
    """A release into a wallet whose inactivity deadline was spent (its rewards expired) sets it
    again from the grant's own purchase: what is released then expires as it would have."""
    days = account.expiry_inactivity_days
    bought_on = [pending.entry.sale.local_date for pending in released if pending.entry.sale is not None]
    if not days or wallet.inactivity_expires_at is not None or not bought_on:
        return {}
    return {"inactivity_expires_at": local_day_end(max(bought_on) + timedelta(days=days), account.tzinfo)}


# --- expiry ------------------------------------------------------------------------------


def lots_due(now: datetime) -> QuerySet[ExpiryLot]:
    """Lots past their end with something left (through the `lot_account_due` index)."""
    return ExpiryLot.objects.filter(remaining__gt=0, expires_at__lte=now)


def wallets_inactive_due(now: datetime) -> QuerySet[Wallet]:
    """Wallets past their inactivity deadline (through the `wallet_inactivity_due` index)."""
    return Wallet.objects.filter(inactivity_expires_at__lte=now)


def _wallets_with_due_expiry(now: datetime) -> list[tuple[int, int, int]]:
    by_lots = lots_due(now).values_list("wallet_id", flat=True).distinct().order_by()
    by_inactivity = wallets_inactive_due(now).values_list("id", flat=True)
    return _with_customers({*by_lots, *by_inactivity})


def rewards_expire_due(*, now: datetime | None = None) -> int:
    """Expire what is left of lots past their end, and the rewards of customers inactive past
    their deadline (in accounts that expire by inactivity): one `expiry` ledger row per wallet
    and bucket, and one `rewards.expired` webhook event per wallet
    (`customers.services.wallet_expire_due`). Returns the wallets touched.

    Idempotent (an expired lot has nothing left; a passed inactivity deadline is cleared) and
    never takes a bucket below zero. A wallet that fails is logged and left for the next run.
    """
    now = now or timezone.now()
    by_inactivity = set(
        Account.objects.filter(expiry_inactivity_days__isnull=False).values_list("id", flat=True)
    )
    touched = 0
    for account_id, wallet_id, customer_id in _wallets_with_due_expiry(now):
        try:
            with transaction.atomic():
                wallet = wallet_lock(account_id=account_id, customer_id=customer_id)
                _, wrote = wallet_expire_due(
                    wallet=wallet, now=now, inactivity_on=account_id in by_inactivity
                )
                touched += wrote
        except Exception:
            logger.exception("Expiring the rewards of wallet %s failed; it is retried next run.", wallet_id)
    return touched


# --- reminders ---------------------------------------------------------------------------


def _expiring_by_wallet_and_day(
    account: Account, now: datetime, horizon: datetime
) -> dict[tuple[int, date], dict[str, Decimal]]:
    """What of each wallet expires on each local day from now to `horizon`, by bucket."""
    expiring: dict[tuple[int, date], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    zone = account.tzinfo
    lots = (
        ExpiryLot.objects.filter(
            account=account, remaining__gt=0, expires_at__gt=now, expires_at__lte=horizon
        )
        .values("wallet_id", "expires_at", "bucket")
        .annotate(left=Sum("remaining"))
    )
    for row in lots:
        ends = row["expires_at"]
        assert ends is not None, "bounded above, so never null"
        expiring[(row["wallet_id"], last_local_day(ends, zone))][row["bucket"]] += row["left"]
    if not account.expiry_inactivity_days:
        return expiring
    for wallet in Wallet.objects.filter(
        account=account, inactivity_expires_at__gt=now, inactivity_expires_at__lte=horizon
    ).only("id", "points", "balance", "inactivity_expires_at"):
        assert wallet.inactivity_expires_at is not None
        day = last_local_day(wallet.inactivity_expires_at, zone)
        # Inactivity takes everything that day: lots ending that day or later are part of it.
        for key in [key for key in expiring if key[0] == wallet.pk and key[1] >= day]:
            del expiring[key]
        for bucket in LOT_BUCKETS:
            expiring[(wallet.pk, day)][bucket] = max(getattr(wallet, bucket), ZERO)
    return expiring


def rewards_remind_due(*, now: datetime | None = None) -> int:
    """Queue `rewards_expiring` for each customer with rewards expiring within their account's
    `expiry_reminder_days`, once per customer and expiry date. Returns the reminders made."""
    now = now or timezone.now()
    made = 0
    for account in Account.objects.filter(is_active=True, expiry_reminder_days__gt=0).order_by("id"):
        horizon = local_day_end(
            local_date(now, account.tzinfo) + timedelta(days=account.expiry_reminder_days), account.tzinfo
        )
        expiring = _expiring_by_wallet_and_day(account, now, horizon)
        if not expiring:
            continue
        reminded = set(
            ExpiryReminder.objects.filter(
                account=account, expires_on__in={day for _, day in expiring}
            ).values_list("customer_id", "expires_on")
        )
        customers = _customers_of_wallets(account, {wallet_id for wallet_id, _ in expiring})
        for (wallet_id, day), amounts in sorted(expiring.items(), key=lambda item: (item[0][1], item[0][0])):
            customer = customers[wallet_id]
            if (customer.pk, day) in reminded or not any(amount > 0 for amount in amounts.values()):
                continue
            made += _remind(account, customer, day, amounts)
    return made


def _customers_of_wallets(account: Account, wallet_ids: Iterable[int]) -> dict[int, Customer]:
    wallets = Wallet.objects.filter(account=account, pk__in=list(wallet_ids)).select_related("customer")
    return {wallet.pk: wallet.customer for wallet in wallets}


def _remind(account: Account, customer: Customer, day: date, amounts: dict[str, Decimal]) -> int:
    points, balance = amounts.get("points", ZERO), amounts.get("balance", ZERO)
    try:
        with transaction.atomic():
            reminder = ExpiryReminder.objects.create(
                account=account, customer=customer, expires_on=day, points=points, balance=balance
            )
            reminder.messages = messages_queue_event(
                account=account,
                customer=customer,
                event=Event.REWARDS_EXPIRING,
                context={
                    "points": format_brl(points),
                    "balance": format_brl(balance),
                    "expiry_date": day.strftime("%d/%m/%Y"),
                },
                wallet_after={"points": points, "balance": balance},
            )
            reminder.save(update_fields=["messages"])
    except IntegrityError:
        return 0  # another run reminded this customer of this date a moment ago
    return 1
