"""Expiry lots: which part of a points or cashback bucket expires when.

Lots move only with the ledger rows that move their bucket, inside `wallet_post`, on the
locked wallet. The rules (see the engine's spec, *Pending and expiry*):

- a credit that opens a lot (`Posting.lot`) puts what is left of it after paying off a
  negative bucket into a new lot;
- a debit spends lots soonest-expiry first (then oldest), lots without a date after those
  with one, and only then the amount that never expires; a reversal of a grant spends that
  grant's own lots first, then the part of the grant that never went into a lot; the debit
  records what it took from each lot (`lots_spent`), an expiry also on the lot (`expired`),
  so that a later cancel of the grant does not take the expired part twice;
- the reversal of such a debit gives it back into new lots with the spent lots' expiry, but
  never ending sooner than `GIVE_BACK_MIN_DAYS` after the give-back;
- what is past its end (`due_expiry`) leaves the wallet, as an `expiry` row, before any debit
  of its bucket: the expiry job does it for every wallet, a debit for its own.

So that every movement keeps the invariant that `check_wallets` proves — each lot holds
0..amount, and a wallet's lots hold together at most its bucket (nothing while the bucket is
negative) — a batch's debits are applied before its credits.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Case, DecimalField, F, Q, Value, When
from django.utils import timezone

from customers.models import ExpiryLot, LedgerEntry, Wallet
from customers.services.postings import Posting
from loyalty.core.dates import local_date, local_day_end
from loyalty.core.money import ZERO
from loyalty.tenancy.models import Account

LOT_BUCKETS = ("points", "balance")
GIVE_BACK_MIN_DAYS = 30


def lot_end(*, available_on_day: datetime | None = None, valid_days: int, account: Account) -> datetime:
    """When a grant that became available at `available_on_day` (now if None) stops being
    spendable: the end of the account's local day `valid_days` days later."""
    zone = account.tzinfo
    day = local_date(available_on_day or timezone.now(), zone)
    return local_day_end(day + timedelta(days=valid_days), zone)


@dataclass
class _NewLot:
    posting_index: int
    bucket: str
    amount: Decimal
    expires_at: datetime | None
    store_id: int | None
    given_back_from_id: int | None = None


@dataclass
class LotPlan:
    """What a batch of postings does to the wallet's lots, computed before anything is written."""

    spent: dict[int, dict[str, str]]  # posting index → {lot id: amount taken}
    new_lots: list[_NewLot]
    changed: list[ExpiryLot]
    moved: dict[str, Decimal]  # lot bucket field (`lot_points`, `lot_balance`) → delta

    def write(self, *, wallet: Wallet, entries: Sequence[LedgerEntry]) -> None:
        if self.changed:
            # One statement, scoped by the account like every query (`bulk_update` filters by
            # primary key alone).
            amount = DecimalField(max_digits=14, decimal_places=2)
            ExpiryLot.objects.filter(
                account_id=wallet.account_id, pk__in=[lot.pk for lot in self.changed]
            ).update(
                remaining=Case(
                    *(When(pk=lot.pk, then=Value(lot.remaining)) for lot in self.changed), output_field=amount
                ),
                expired=Case(
                    *(When(pk=lot.pk, then=Value(lot.expired)) for lot in self.changed), output_field=amount
                ),
            )
        if self.new_lots:
            ExpiryLot.objects.bulk_create(
                [
                    ExpiryLot(
                        account_id=wallet.account_id,
                        wallet=wallet,
                        bucket=lot.bucket,
                        amount=lot.amount,
                        remaining=lot.amount,
                        expires_at=lot.expires_at,
                        entry=entries[lot.posting_index],
                        store_id=lot.store_id,
                        given_back_from_id=lot.given_back_from_id,
                    )
                    for lot in self.new_lots
                ]
            )


def _deltas(posting: Posting, bucket: str) -> Decimal:
    return Decimal(posting.deltas.get(bucket, 0))


def _gives_back(posting: Posting) -> bool:
    return bool(posting.reverses is not None and posting.reverses.lots_spent)


def reversed_credits(postings: Sequence[Posting]) -> set[int]:
    """The ledger rows whose credit of points or balance these postings reverse."""
    return {
        credit.pk
        for posting in postings
        if (credit := _credit_taken_back(posting)) is not None
        and any(getattr(credit, bucket) > 0 and _deltas(posting, bucket) < 0 for bucket in LOT_BUCKETS)
    }


def _credit_taken_back(posting: Posting) -> LedgerEntry | None:
    return posting.reverses if posting.reverses is not None else posting.takes_back


class LotBook:
    """The wallet's lots as debits spend them, read once per batch and only when needed."""

    def __init__(self, wallet: Wallet, own_entries: set[int]) -> None:
        self.wallet = wallet
        self.own_entries = own_entries
        self._lots: dict[str, list[ExpiryLot]] | None = None

    def lots(self, bucket: str) -> list[ExpiryLot]:
        if self._lots is None:
            self._lots = spendable_lots(self.wallet, also_of_entries=self.own_entries)
        return self._lots[bucket]


def lots_plan(*, wallet: Wallet, postings: Sequence[Posting], book: LotBook | None = None) -> LotPlan:
    """How `postings` move the lots of the locked `wallet` (reads the lots only when needed).

    A debit spends, in this order: the lots of the credit it reverses; then, for a reversal,
    the part of that credit that never went into a lot (it was not expiring, or it paid a
    debt); then the other lots, soonest end first; then what never expires, down to a debt.
    """
    book = book or LotBook(wallet, reversed_credits(postings))
    level = {bucket: Decimal(getattr(wallet, bucket)) for bucket in LOT_BUCKETS}
    in_lots = {bucket: Decimal(getattr(wallet, f"lot_{bucket}")) for bucket in LOT_BUCKETS}
    plan = LotPlan(spent={}, new_lots=[], changed=[], moved={})
    changed: dict[int, ExpiryLot] = {}

    def take(index: int, posting: Posting, lots: Sequence[ExpiryLot], wanted: Decimal) -> Decimal:
        taken_total = ZERO
        for lot in lots:
            if wanted - taken_total <= 0:
                break
            portion = min(lot.remaining, wanted - taken_total)
            if portion <= 0:
                continue
            lot.remaining -= portion
            if posting.kind == LedgerEntry.Kind.EXPIRY:
                lot.expired += portion
            taken_total += portion
            changed[lot.pk] = lot
            taken = plan.spent.setdefault(index, {})
            taken[str(lot.pk)] = str(Decimal(taken.get(str(lot.pk), "0")) + portion)
        return taken_total

    for index, posting in enumerate(postings):
        for bucket in LOT_BUCKETS:
            debit = -_deltas(posting, bucket)
            if debit <= 0:
                continue
            unexpiring = max(level[bucket] - in_lots[bucket], ZERO)
            level[bucket] -= debit
            if in_lots[bucket] <= 0:
                continue
            lots = book.lots(bucket)
            reversed_entry = _credit_taken_back(posting)
            own = [lot for lot in lots if reversed_entry is not None and lot.entry_id == reversed_entry.pk]
            left = debit - take(index, posting, own, debit)
            if reversed_entry is not None and reversed_entry.pk in book.own_entries:
                never_in_lots = Decimal(getattr(reversed_entry, bucket)) - sum(
                    (lot.amount for lot in own), ZERO
                )
                left -= min(left, max(never_in_lots, ZERO), unexpiring)
            others = [lot for lot in lots if lot not in own]
            take(index, posting, others, left)
            in_lots[bucket] = sum((lot.remaining for lot in lots), ZERO)

    origins = _origin_lots(postings)
    floor: datetime | None = None
    for index, posting in enumerate(postings):
        for bucket in LOT_BUCKETS:
            credit = _deltas(posting, bucket)
            if credit <= 0:
                continue
            debt = max(-level[bucket], ZERO)
            level[bucket] += credit
            into_lots = credit - min(credit, debt)
            if into_lots <= 0:
                continue
            if posting.lot is not None:
                store_id = posting.store.pk if posting.store else None
                plan.new_lots.append(_NewLot(index, bucket, into_lots, posting.lot.expires_at, store_id))
                in_lots[bucket] += into_lots
            elif _gives_back(posting):
                if floor is None:
                    floor = _give_back_floor(wallet)
                assert posting.reverses is not None
                assert posting.reverses.lots_spent is not None
                for lot_id, amount in posting.reverses.lots_spent.items():
                    origin = origins[int(lot_id)]
                    if origin.bucket != bucket or into_lots <= 0:
                        continue
                    back = min(Decimal(amount), into_lots)
                    into_lots -= back
                    in_lots[bucket] += back
                    expires_at = max(origin.expires_at, floor) if origin.expires_at is not None else None
                    plan.new_lots.append(_NewLot(index, bucket, back, expires_at, origin.store_id, origin.pk))

    plan.changed = list(changed.values())
    plan.moved = {
        f"lot_{bucket}": in_lots[bucket] - Decimal(getattr(wallet, f"lot_{bucket}"))
        for bucket in LOT_BUCKETS
        if in_lots[bucket] != getattr(wallet, f"lot_{bucket}")
    }
    return plan


def spendable_lots(wallet: Wallet, *, also_of_entries: Collection[int] = ()) -> dict[str, list[ExpiryLot]]:
    """The wallet's lots with something left, in the order debits spend them (and the lots of
    `also_of_entries`, spent or not: a reversal needs to know what they were)."""
    lots: dict[str, list[ExpiryLot]] = {bucket: [] for bucket in LOT_BUCKETS}
    wanted = Q(remaining__gt=0) | Q(entry_id__in=also_of_entries) if also_of_entries else Q(remaining__gt=0)
    for lot in ExpiryLot.objects.filter(wanted, account_id=wallet.account_id, wallet=wallet).order_by(
        "bucket", F("expires_at").asc(nulls_last=True), "id"
    ):
        lots[lot.bucket].append(lot)
    return lots


EXPIRED_BY_DATE = "Expired: validity ended"
EXPIRED_BY_INACTIVITY = "Expired: no purchase within the account's inactivity period"


@dataclass(frozen=True)
class DueExpiry:
    """What of a wallet has expired by `now` and is still in it, by bucket."""

    amounts: dict[str, Decimal]
    reason: str
    #: The wallet's inactivity deadline is spent (or no longer applies): clear it.
    clear_deadline: bool


def due_expiry(
    *, wallet: Wallet, now: datetime, book: LotBook, inactivity_on: bool | None = None
) -> DueExpiry | None:
    """What of the locked wallet is past its end: everything, once its inactivity deadline
    has passed in an account that expires by inactivity; otherwise what is left of its lots
    past their end. Never more than a bucket holds: a debt never expires."""
    deadline = wallet.inactivity_expires_at
    clear = deadline is not None and deadline <= now
    if clear:
        if inactivity_on is None:
            inactivity_on = Account.objects.filter(
                pk=wallet.account_id, expiry_inactivity_days__isnull=False
            ).exists()
        if inactivity_on:
            everything = {bucket: max(Decimal(getattr(wallet, bucket)), ZERO) for bucket in LOT_BUCKETS}
            return DueExpiry(everything, EXPIRED_BY_INACTIVITY, clear_deadline=True)
    amounts = {}
    for bucket in LOT_BUCKETS:
        if getattr(wallet, f"lot_{bucket}") <= 0:
            continue
        past = sum(
            (
                lot.remaining
                for lot in book.lots(bucket)
                if lot.expires_at is not None and lot.expires_at <= now
            ),
            ZERO,
        )
        amounts[bucket] = min(past, max(Decimal(getattr(wallet, bucket)), ZERO))
    if not clear and not any(amount > 0 for amount in amounts.values()):
        return None
    return DueExpiry(amounts, EXPIRED_BY_DATE, clear_deadline=clear)


def _origin_lots(postings: Sequence[Posting]) -> dict[int, ExpiryLot]:
    ids = {
        int(lot_id)
        for posting in postings
        if _gives_back(posting) and posting.reverses is not None and posting.reverses.lots_spent
        for lot_id in posting.reverses.lots_spent
    }
    if not ids:
        return {}
    account_id = next(posting.reverses.account_id for posting in postings if posting.reverses is not None)
    return {lot.pk: lot for lot in ExpiryLot.objects.filter(account_id=account_id, pk__in=ids)}


def _give_back_floor(wallet: Wallet) -> datetime:
    account = Account.objects.only("time_zone").get(pk=wallet.account_id)
    return lot_end(valid_days=GIVE_BACK_MIN_DAYS, account=account)
