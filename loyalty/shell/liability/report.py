"""The liability report itself: its figures, from the slices its reads return."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from loyalty.core.dates import last_local_day
from loyalty.core.money import ZERO, round_money, round_points
from loyalty.shell.liability.sources import (
    BUCKETS,
    EXPIRING_BUCKETS,
    EXPIRY_WINDOWS,
    Slice,
    Tally,
    attributed_slices,
    lot_slices,
    new_tally,
    wallet_totals,
)
from loyalty.tenancy.models import Account, Store
from vouchers.selectors import PointsValuation, points_valuation


@dataclass(frozen=True)
class Amounts:
    """What is owed (or, for debts, due): each bucket, the points valued in R$, and the total."""

    balance: Decimal = ZERO
    digital_change: Decimal = ZERO
    points: Decimal = ZERO
    points_value: Decimal = ZERO

    @property
    def total_value(self) -> Decimal:
        """R$: cashback balance, digital change and the points' value."""
        return self.balance + self.digital_change + self.points_value

    @property
    def is_zero(self) -> bool:
        return not (self.balance or self.digital_change or self.points)


@dataclass(frozen=True)
class StoreLiability:
    """What is owed by store of origin (`store_id` None: no store)."""

    store_id: int | None
    store_name: str | None
    amounts: Amounts
    debts: Amounts


@dataclass(frozen=True)
class MonthLiability:
    """What expires in a local month (`month`: its first day; None: never expires)."""

    month: date | None
    amounts: Amounts

    @property
    def label(self) -> str | None:
        return self.month.strftime("%Y-%m") if self.month else None


@dataclass(frozen=True)
class ExpiringWithin:
    """What can no longer be spent `days` days from the report's `now` (at `until`)."""

    days: int
    until: datetime
    amounts: Amounts


@dataclass(frozen=True)
class LiabilityReport:
    account_id: int
    account_name: str
    time_zone: str
    generated_at: datetime
    store_id: int | None
    valuation: PointsValuation
    totals: Amounts
    debts: Amounts
    by_store: tuple[StoreLiability, ...]
    by_expiry_month: tuple[MonthLiability, ...]
    expiring: tuple[ExpiringWithin, ...]


def liability_report(
    *, account: Account, now: datetime | None = None, store_id: int | None = None
) -> LiabilityReport:
    """The account's liability at `now` (see the module's docstring); with `store_id`, only the
    part attributed to that store (a store that is not the account's owes nothing)."""
    now = now or timezone.now()
    stores = dict(Store.objects.filter(account=account).values_list("pk", "name"))
    valuation = points_valuation(account_id=account.pk)
    lots = lot_slices(account, store_id)
    outside, debt_parts = attributed_slices(account, store_id)

    owed: dict[int | None, Tally] = defaultdict(new_tally)
    for part in (*lots, *outside):
        owed[part.store_id][part.bucket] += part.amount
    due: dict[int | None, Tally] = defaultdict(new_tally)
    for part in debt_parts:
        due[part.store_id][part.bucket] += part.amount

    if store_id is None:
        # The whole account: totals straight from the wallets, and what lies outside lots by
        # deadline from them too, so that neither depends on the attribution. What the
        # ledger cannot attribute (nothing, in a consistent ledger) goes under no store.
        totals, debts, outside = wallet_totals(account)
        _add(owed[None], _minus(totals, _sum(owed.values())))
        _add(due[None], _minus(debts, _sum(due.values())))
    else:
        totals, debts = _sum(owed.values()), _sum(due.values())

    by_store = sorted(
        (
            StoreLiability(
                store_id=key,
                store_name=stores.get(key) if key is not None else None,
                amounts=_amounts(owed.get(key, new_tally()), valuation),
                debts=_amounts(due.get(key, new_tally()), valuation),
            )
            for key in {*owed, *due}
        ),
        key=lambda row: (row.store_id is None, row.store_name or "", row.store_id or 0),
    )
    # Outside lots, points and balance expire at the wallet's deadline; digital change never.
    timeline = [
        *lots,
        *(part if part.bucket in EXPIRING_BUCKETS else part._replace(ends_at=None) for part in outside),
    ]
    return LiabilityReport(
        account_id=account.pk,
        account_name=account.name,
        time_zone=account.time_zone,
        generated_at=now,
        store_id=store_id,
        valuation=valuation,
        totals=_amounts(totals, valuation),
        debts=_amounts(debts, valuation),
        by_store=tuple(row for row in by_store if not (row.amounts.is_zero and row.debts.is_zero)),
        by_expiry_month=_by_month(timeline, account, valuation),
        expiring=tuple(
            ExpiringWithin(
                days=days,
                until=now + timedelta(days=days),
                amounts=_amounts(
                    _sum_of(
                        part
                        for part in timeline
                        if part.ends_at is not None and part.ends_at <= now + timedelta(days=days)
                    ),
                    valuation,
                ),
            )
            for days in EXPIRY_WINDOWS
        ),
    )


# --- tallies -----------------------------------------------------------------------------


def _add(into: Tally, other: Tally) -> None:
    for bucket in BUCKETS:
        into[bucket] += other[bucket]


def _minus(first: Tally, second: Tally) -> Tally:
    return {bucket: first[bucket] - second[bucket] for bucket in BUCKETS}


def _sum(tallies: Iterable[Tally]) -> Tally:
    total = new_tally()
    for tally in tallies:
        _add(total, tally)
    return total


def _sum_of(parts: Iterable[Slice]) -> Tally:
    total = new_tally()
    for part in parts:
        total[part.bucket] += part.amount
    return total


def _amounts(tally: Tally, valuation: PointsValuation) -> Amounts:
    points = round_points(tally["points"])
    return Amounts(
        balance=round_money(tally["balance"]),
        digital_change=round_money(tally["digital_change"]),
        points=points,
        points_value=valuation.of(points),
    )


def _by_month(
    timeline: list[Slice], account: Account, valuation: PointsValuation
) -> tuple[MonthLiability, ...]:
    zone = account.tzinfo
    months: dict[date | None, Tally] = defaultdict(new_tally)
    for part in timeline:
        month = last_local_day(part.ends_at, zone).replace(day=1) if part.ends_at is not None else None
        months[month][part.bucket] += part.amount
    rows = (
        MonthLiability(month=month, amounts=_amounts(tally, valuation)) for month, tally in months.items()
    )
    return tuple(
        sorted(
            (row for row in rows if not row.amounts.is_zero),
            key=lambda row: (row.month is None, row.month or date.min),
        )
    )
