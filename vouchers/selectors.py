"""Reads of the vouchers app: availability of rewards, validity of vouchers, and the category
tree with the catalogue's rewards counted."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

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
