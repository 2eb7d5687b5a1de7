"""Reads of the engine core: the program's figures for the admin dashboard.

A period is a range of local days of the account (the last 7, 30 or 90, or chosen dates);
its figures stand beside those of the period of the same length just before it. With a
store chosen, only what happened at that store counts.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from customers.models import LedgerEntry
from loyalty.core.dates import local_day_end
from loyalty.core.money import ZERO
from loyalty.tenancy.models import Account
from promotions.models import Promotion
from sales.models import Sale, SaleReturn
from vouchers.models import Voucher

PERIOD_CHOICES = (7, 30, 90)
DEFAULT_PERIOD_DAYS = 30
#: The longest range of chosen dates: a year and a day, so "this day last year" fits.
MAX_PERIOD_DAYS = 366


@dataclass(frozen=True)
class Period:
    """Local days `first` to `last`, both included."""

    first: date
    last: date

    @classmethod
    def ending(cls, last: date, days: int) -> "Period":
        return cls(first=last - timedelta(days=days - 1), last=last)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def previous(self) -> "Period":
        """The period of the same length that ends the day before this one starts."""
        return Period.ending(self.first - timedelta(days=1), self.days)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The first instant of `first` and the first instant after `last`, local midnights."""
        return local_day_end(self.first - timedelta(days=1), zone), local_day_end(self.last, zone)

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=offset) for offset in range(self.days)]


@dataclass(frozen=True)
class DayFigure:
    day: date
    count: int
    amount: Decimal


@dataclass
class DashboardFigures:
    period: Period
    sales_count: int = 0
    sales_amount: Decimal = ZERO
    returns_count: int = 0
    returns_amount: Decimal = ZERO
    cashback_granted: Decimal = ZERO
    points_granted: Decimal = ZERO
    balance_redeemed: Decimal = ZERO
    vouchers_issued: int = 0
    vouchers_used: int = 0
    top_promotions: list[tuple[Promotion, int]] = field(default_factory=list)
    days: list[DayFigure] = field(default_factory=list)


def _accounts(account_ids: list[int] | None) -> QuerySet[Account]:
    return Account.objects.all() if account_ids is None else Account.objects.filter(pk__in=account_ids)


def period_figures(
    *, account_ids: list[int] | None, store_id: int | None, period: Period, zone: ZoneInfo, per_day: bool
) -> DashboardFigures:
    """The figures of `period` for the given accounts (None: every account) and store (None:
    all), with the sales of each day and the top promotions when `per_day`.

    Cancelled sales and what they granted (reversed in the ledger) count in nothing, nor do
    their returns; a return counts in the period it was recorded in, whenever its sale was.
    """
    start, end = period.bounds(zone)
    accounts = _accounts(account_ids)
    sales = Sale.objects.filter(
        account__in=accounts,
        local_date__gte=period.first,
        local_date__lte=period.last,
        status=Sale.Status.RECORDED,
    )
    ledger = LedgerEntry.objects.filter(account__in=accounts, created_at__gte=start, created_at__lt=end)
    returns = SaleReturn.objects.filter(
        account__in=accounts, created_at__gte=start, created_at__lt=end, sale__status=Sale.Status.RECORDED
    )
    vouchers = Voucher.objects.filter(account__in=accounts)
    issued_here = used_here = Q()
    uses = Q(uses__released=False, uses__created_at__gte=start, uses__created_at__lt=end)
    if store_id is not None:
        sales = sales.filter(store_id=store_id)
        ledger = ledger.filter(store_id=store_id)
        returns = returns.filter(sale__store_id=store_id)
        issued_here, used_here = Q(sale__store_id=store_id), Q(used_store_id=store_id)
        uses &= Q(uses__sale__store_id=store_id)
    rewards = ledger.filter(
        kind__in=[LedgerEntry.Kind.CASHBACK, LedgerEntry.Kind.POINTS], reversed_by__isnull=True
    )

    totals = sales.aggregate(count=Count("id"), amount=Coalesce(Sum("amount"), ZERO))
    returned = returns.aggregate(count=Count("id"), amount=Coalesce(Sum("amount"), ZERO))
    granted = rewards.aggregate(
        **{
            name: Coalesce(Sum(name), ZERO)
            for name in ("balance", "pending_balance", "points", "pending_points")
        }
    )
    redeemed = ledger.filter(kind=LedgerEntry.Kind.BALANCE_REDEEM, reversed_by__isnull=True).aggregate(
        total=Coalesce(Sum("balance"), ZERO)
    )
    voucher_counts = vouchers.aggregate(
        issued=Count("id", filter=Q(created_at__gte=start, created_at__lt=end) & issued_here),
        used=Count("id", filter=Q(used_at__gte=start, used_at__lt=end) & used_here),
    )
    figures = DashboardFigures(
        period=period,
        sales_count=totals["count"],
        sales_amount=totals["amount"],
        returns_count=returned["count"],
        returns_amount=returned["amount"],
        cashback_granted=granted["balance"] + granted["pending_balance"],
        points_granted=granted["points"] + granted["pending_points"],
        balance_redeemed=-redeemed["total"],
        vouchers_issued=voucher_counts["issued"],
        vouchers_used=voucher_counts["used"],
    )
    if not per_day:
        return figures
    figures.top_promotions = [
        (promotion, promotion.period_uses)
        for promotion in Promotion.objects.filter(account__in=accounts)
        .annotate(period_uses=Count("uses", filter=uses))
        .filter(period_uses__gt=0)
        .select_related("product")
        .order_by("-period_uses", "id")[:5]
    ]
    by_day = {
        row["local_date"]: row
        for row in sales.values("local_date").annotate(
            count=Count("id"), amount=Coalesce(Sum("amount"), ZERO)
        )
    }
    for day in period.each_day():
        row = by_day.get(day, {"count": 0, "amount": ZERO})
        figures.days.append(DayFigure(day=day, count=row["count"], amount=row["amount"]))
    return figures


@dataclass(frozen=True)
class Comparison:
    """One figure of the period beside the previous period's, and the change in percent
    (None where the previous one was zero: no percentage of nothing)."""

    current: Decimal | int
    previous: Decimal | int

    @property
    def change(self) -> Decimal | None:
        if not self.previous:
            return None
        return (Decimal(self.current) - Decimal(self.previous)) * 100 / Decimal(self.previous)


COMPARED = (
    "sales_count",
    "sales_amount",
    "returns_count",
    "returns_amount",
    "cashback_granted",
    "points_granted",
    "balance_redeemed",
    "vouchers_issued",
    "vouchers_used",
)


@dataclass
class Dashboard:
    figures: DashboardFigures
    previous: DashboardFigures

    def compared(self) -> dict[str, Comparison]:
        return {
            name: Comparison(current=getattr(self.figures, name), previous=getattr(self.previous, name))
            for name in COMPARED
        }


def dashboard_figures(
    *, account_ids: list[int] | None, period: Period, zone: ZoneInfo, store_id: int | None = None
) -> Dashboard:
    """The period's figures beside the previous period's."""
    current = period_figures(
        account_ids=account_ids, store_id=store_id, period=period, zone=zone, per_day=True
    )
    previous = period_figures(
        account_ids=account_ids, store_id=store_id, period=period.previous, zone=zone, per_day=False
    )
    return Dashboard(figures=current, previous=previous)
