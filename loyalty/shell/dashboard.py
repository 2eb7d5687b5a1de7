"""Reads of the engine core: the program's figures for the admin dashboard."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from customers.models import LedgerEntry
from loyalty.core.money import ZERO
from loyalty.tenancy.models import Account
from promotions.models import Promotion
from sales.models import Sale, SaleReturn
from vouchers.models import Voucher

DASHBOARD_DAYS = 30


@dataclass(frozen=True)
class DayFigure:
    day: date
    count: int
    amount: Decimal


@dataclass
class DashboardFigures:
    since: datetime
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


def dashboard_figures(*, account_ids: list[int] | None, now: datetime, zone) -> DashboardFigures:
    """The last `DASHBOARD_DAYS` days of the given accounts (None: every account).

    Cancelled sales and what they granted (reversed in the ledger) count in nothing, nor do
    their returns; a return counts in the period it was recorded in, whenever its sale was.
    """
    since = now - timedelta(days=DASHBOARD_DAYS)
    accounts = Account.objects.all() if account_ids is None else Account.objects.filter(pk__in=account_ids)
    sales = Sale.objects.filter(account__in=accounts, occurred_at__gte=since, status=Sale.Status.RECORDED)
    ledger = LedgerEntry.objects.filter(wallet__customer__account__in=accounts, created_at__gte=since)
    rewards = ledger.filter(
        kind__in=[LedgerEntry.Kind.CASHBACK, LedgerEntry.Kind.POINTS], reversed_by__isnull=True
    )
    vouchers = Voucher.objects.filter(account__in=accounts)

    totals = sales.aggregate(count=Count("id"), amount=Coalesce(Sum("amount"), ZERO))
    returned = SaleReturn.objects.filter(
        account__in=accounts, created_at__gte=since, sale__status=Sale.Status.RECORDED
    ).aggregate(count=Count("id"), amount=Coalesce(Sum("amount"), ZERO))
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
        issued=Count("id", filter=Q(created_at__gte=since)), used=Count("id", filter=Q(used_at__gte=since))
    )
    figures = DashboardFigures(
        since=since,
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
    figures.top_promotions = [
        (promotion, promotion.recent_uses)
        for promotion in Promotion.objects.filter(account__in=accounts)
        .annotate(recent_uses=Count("uses", filter=Q(uses__released=False, uses__created_at__gte=since)))
        .filter(recent_uses__gt=0)
        .select_related("product")
        .order_by("-recent_uses", "id")[:5]
    ]
    per_day = {
        row["local_date"]: row
        for row in sales.values("local_date").annotate(
            count=Count("id"), amount=Coalesce(Sum("amount"), ZERO)
        )
    }
    today = now.astimezone(zone).date()
    for offset in range(DASHBOARD_DAYS - 1, -1, -1):
        day = today - timedelta(days=offset)
        row = per_day.get(day, {"count": 0, "amount": ZERO})
        figures.days.append(DayFigure(day=day, count=row["count"], amount=row["amount"]))
    return figures
