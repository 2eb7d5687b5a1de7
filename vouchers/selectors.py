"""Reads of the vouchers app: availability of rewards, validity of vouchers, and the category
tree with the catalogue's rewards counted."""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from loyalty.core.money import ZERO, round_money
from loyalty.tenancy.models import Account
from promotions.models import Category
from promotions.selectors import category_queryset
from vouchers.models import Reward, Voucher


@dataclass(frozen=True)
class Refusal:
    reason: str
    message: str
    code: str = ""


def reward_unavailable_reason(reward: Reward, now: datetime) -> Refusal | None:
    """Why the reward cannot be taken now, or None."""
    if not reward.active:
        return Refusal("inactive", gettext("This reward is not active."), "reward_inactive")
    if reward.starts_at and now < reward.starts_at:
        return Refusal("not_started", gettext("This reward is not available yet."), "reward_not_started")
    if reward.ends_at and now >= reward.ends_at:
        return Refusal("ended", gettext("This reward is no longer available."), "reward_ended")
    if reward.stock <= 0:
        return Refusal("out_of_stock", gettext("This reward is out of stock."), "out_of_stock")
    return None


def voucher_refusal(voucher: Voucher, now: datetime) -> Refusal | None:
    """Why the voucher cannot be used now (`used`, `cancelled`, `expired`, `not_yet_valid`), or None."""
    if voucher.status == Voucher.Status.USED:
        return Refusal("used", gettext("Voucher %(code)s was already used.") % {"code": voucher.code})
    if voucher.status == Voucher.Status.CANCELLED:
        return Refusal("cancelled", gettext("Voucher %(code)s was cancelled.") % {"code": voucher.code})
    if now >= voucher.valid_until:
        return Refusal("expired", gettext("Voucher %(code)s expired.") % {"code": voucher.code})
    if now < voucher.valid_from:
        return Refusal(
            "not_yet_valid", gettext("Voucher %(code)s is not valid yet.") % {"code": voucher.code}
        )
    return None


def voucher_status(voucher: Voucher, now: datetime) -> str:
    """The status an integrator sees: `active`, `used`, `expired` or `cancelled`."""
    if voucher.status == Voucher.Status.ACTIVE and now >= voucher.valid_until:
        return "expired"
    return voucher.status


def voucher_queryset(*, account: Account) -> QuerySet[Voucher]:
    return (
        Voucher.objects.filter(account=account)
        .select_related("customer", "reward")
        .order_by("-created_at", "-id")
    )


def vouchers_with_status(queryset: QuerySet[Voucher], status: str, now: datetime) -> QuerySet[Voucher]:
    if status == "expired":
        return queryset.filter(status=Voucher.Status.ACTIVE, valid_until__lte=now)
    if status == "active":
        return queryset.filter(status=Voucher.Status.ACTIVE, valid_until__gt=now)
    return queryset.filter(status=status)


def rewards_available(queryset: QuerySet[Reward], now: datetime) -> QuerySet[Reward]:
    """Active, in stock and inside their dates."""
    return queryset.filter(
        Q(starts_at__isnull=True) | Q(starts_at__lte=now),
        Q(ends_at__isnull=True) | Q(ends_at__gt=now),
        active=True,
        stock__gt=0,
    )


def categories_with_counts(*, account: Account) -> QuerySet[Category]:
    """The account's categories, alphabetically, with how many products and how many rewards of
    the catalogue ("coupons") each holds (one subquery each)."""
    coupons = (
        Reward.objects.filter(account=account, category=OuterRef("pk"))
        .order_by()
        .values("category")
        .annotate(total=Count("id"))
        .values("total")
    )
    return category_queryset(account=account).annotate(
        coupon_count=Coalesce(Subquery(coupons, output_field=IntegerField()), 0)
    )


#: R$ per point are shown to six places; values are computed with the exact ratio.
RATE_QUANTUM = Decimal("0.000001")


@dataclass(frozen=True)
class PointsValuation:
    """The catalogue's cheapest R$ per point: the active reward with a points cost that gives
    the fewest R$ for each point (`reward_id` None: no such reward, and points are valued 0)."""

    reward_id: int | None = None
    reward_name: str | None = None
    value: Decimal = ZERO
    points_cost: Decimal = ZERO

    @property
    def value_per_point(self) -> Decimal | None:
        if not self.points_cost:
            return None
        return (self.value / self.points_cost).quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)

    def of(self, points: Decimal) -> Decimal:
        """The R$ value of `points`, with the exact ratio, rounded once."""
        if not self.points_cost:
            return round_money(ZERO)
        return round_money(points * self.value / self.points_cost)


def points_valuation(*, account_id: int) -> PointsValuation:
    """How the account's points are valued in R$ (the liability report, the simulator)."""
    # Compared in Python with exact decimals: SQLite would divide integers as integers.
    # A catalogue is tens of rewards, not customers.
    offers = Reward.objects.filter(
        account_id=account_id, active=True, points_cost__gt=0, value__gt=0
    ).values_list("pk", "name", "value", "points_cost")
    cheapest = min(offers, key=lambda offer: (offer[2] / offer[3], offer[0]), default=None)
    if cheapest is None:
        return PointsValuation()
    pk, name, value, points_cost = cheapest
    return PointsValuation(reward_id=pk, reward_name=name, value=value, points_cost=points_cost)
