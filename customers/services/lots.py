"""Expiry lots: which part of a points or cashback bucket expires when.

Lots move only with the ledger rows that move their bucket, inside `wallet_post`, on the
locked wallet. The rules (see the engine's spec, *Pending and expiry*):

- a credit that opens a lot (`Posting.lot`) puts what is left of it after paying off a
  negative bucket into a new lot;
- a debit spends lots soonest-expiry first (then oldest), lots without a date after those
  with one, and only then the amount that never expires; a reversal of a grant spends that
  grant's own lots first; the debit records what it took from each lot (`lots_spent`);
- the reversal of such a debit gives it back into new lots with the spent lots' expiry, but
  never ending sooner than `GIVE_BACK_MIN_DAYS` after the give-back.

So that every movement keeps the invariant that `check_wallets` proves — each lot holds
0..amount, and a wallet's lots hold together at most its bucket (nothing while the bucket is
negative) — a batch's debits are applied before its credits.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Case, DecimalField, F, Value, When
from django.utils import timezone

from customers.models import ExpiryLot, LedgerEntry, Wallet
from loyalty.core.dates import local_date, local_day_end
from loyalty.core.money import ZERO
from loyalty.tenancy.models import Account

if TYPE_CHECKING:
    from customers.services.wallets import Posting

LOT_BUCKETS = ("points", "balance")
GIVE_BACK_MIN_DAYS = 30


@dataclass(frozen=True)
class LotTerms:
    """A credit that opens an expiry lot: the first instant it can no longer be spent
    (`None`: only inactivity expires it)."""

    expires_at: datetime | None


def lot_end(*, available_on_day: "datetime | None" = None, valid_days: int, account: Account) -> datetime:
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
            ExpiryLot.objects.filter(
                account_id=wallet.account_id, pk__in=[lot.pk for lot in self.changed]
            ).update(
                remaining=Case(
                    *(When(pk=lot.pk, then=Value(lot.remaining)) for lot in self.changed),
                    output_field=DecimalField(max_digits=14, decimal_places=2),
                )
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


def _deltas(posting: "Posting", bucket: str) -> Decimal:
    return Decimal(posting.deltas.get(bucket, 0))


def _gives_back(posting: "Posting") -> bool:
    return bool(posting.reverses is not None and posting.reverses.lots_spent)


def lots_plan(*, wallet: Wallet, postings: Sequence["Posting"]) -> LotPlan:
    """How `postings` move the lots of the locked `wallet` (reads the lots only when needed)."""
    level = {bucket: Decimal(getattr(wallet, bucket)) for bucket in LOT_BUCKETS}
    in_lots = {bucket: Decimal(getattr(wallet, f"lot_{bucket}")) for bucket in LOT_BUCKETS}
    plan = LotPlan(spent={}, new_lots=[], changed=[], moved={})
    spendable: dict[str, list[ExpiryLot]] | None = None
    changed: dict[int, ExpiryLot] = {}

    for index, posting in enumerate(postings):
        for bucket in LOT_BUCKETS:
            debit = -_deltas(posting, bucket)
            if debit <= 0:
                continue
            from_lots = min(debit, in_lots[bucket])
            level[bucket] -= debit
            if from_lots <= 0:
                continue
            if spendable is None:
                spendable = _spendable_lots(wallet)
            own = posting.reverses.pk if posting.reverses is not None else None
            ordered = (
                sorted(spendable[bucket], key=lambda lot: lot.entry_id != own) if own else spendable[bucket]
            )
            left = from_lots
            for lot in ordered:
                if left <= 0:
                    break
                take = min(lot.remaining, left)
                if take <= 0:
                    continue
                lot.remaining -= take
                left -= take
                changed[lot.pk] = lot
                taken = plan.spent.setdefault(index, {})
                taken[str(lot.pk)] = str(Decimal(taken.get(str(lot.pk), "0")) + take)
            in_lots[bucket] -= from_lots

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
                plan.new_lots.append(
                    _NewLot(
                        index,
                        bucket,
                        into_lots,
                        posting.lot.expires_at,
                        posting.store.pk if posting.store else None,
                    )
                )
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


def _spendable_lots(wallet: Wallet) -> dict[str, list[ExpiryLot]]:
    """The wallet's lots with something left, in the order debits spend them."""
    lots: dict[str, list[ExpiryLot]] = {bucket: [] for bucket in LOT_BUCKETS}
    for lot in ExpiryLot.objects.filter(
        account_id=wallet.account_id, wallet=wallet, remaining__gt=0
    ).order_by("bucket", F("expires_at").asc(nulls_last=True), "id"):
        lots[lot.bucket].append(lot)
    return lots


def _origin_lots(postings: Sequence["Posting"]) -> dict[int, ExpiryLot]:
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
