"""The rewards catalogue ("coupons"): stock that moves only here, and redemption of points
for a voucher.

Locks are always taken in the same order — wallet, then stock (the reward row), then
voucher — so that concurrent flows queue instead of deadlocking. Every check that a
concurrent request could invalidate is made again on the locked row.
"""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from customers.models import Customer, LedgerEntry
from customers.services import InsufficientFunds, Posting, wallet_lock, wallet_post
from loyalty.core.errors import ConflictError
from loyalty.outbox.models import Event
from loyalty.outbox.services import format_brl, messages_queue_event
from loyalty.tenancy.models import Account, ApiCredential
from promotions.models import Category
from vouchers.models import Reward, StockChange, Voucher
from vouchers.selectors import reward_unavailable_reason
from vouchers.services.vouchers import DEFAULT_VALID_DAYS, voucher_issue

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the project's AUTH_USER_MODEL


@transaction.atomic(savepoint=False)
def reward_create(
    *,
    account: Account,
    name: str,
    points_cost: Decimal,
    value: Decimal,
    stock: int = 0,
    description: str = "",
    category: Category | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    voucher_valid_days: int = DEFAULT_VALID_DAYS,
    active: bool = True,
    staff_user: "User | None" = None,
    credential: ApiCredential | None = None,
) -> Reward:
    reward = Reward(
        account=account,
        name=name,
        description=description,
        category=category,
        points_cost=points_cost,
        value=value,
        stock=stock,
        starts_at=starts_at,
        ends_at=ends_at,
        voucher_valid_days=voucher_valid_days,
        active=active,
    )
    reward.full_clean()
    reward.save()
    StockChange.objects.create(
        account_id=reward.account_id,
        reward=reward,
        from_stock=0,
        to_stock=stock,
        reason="Created",
        staff_user=staff_user,
        credential=credential,
    )
    return reward


def reward_lock(*, account_id: int, reward_id: int) -> Reward:
    """The reward row, locked (stock lock: after the wallet, before any voucher)."""
    return Reward.objects.select_for_update().get(account_id=account_id, pk=reward_id)


def _move_stock(reward: Reward, to_stock: int, reason: str, **who: object) -> Reward:
    StockChange.objects.create(
        account_id=reward.account_id,
        reward=reward,
        from_stock=reward.stock,
        to_stock=to_stock,
        reason=reason,
        **who,
    )
    Reward.objects.filter(account_id=reward.account_id, pk=reward.pk).update(
        stock=to_stock, updated_at=timezone.now()
    )
    reward.stock = to_stock
    return reward


@transaction.atomic(savepoint=False)
def reward_stock_set(
    *,
    reward: Reward,
    stock: int | None = None,
    delta: int | None = None,
    reason: str = "",
    staff_user: "User | None" = None,
    credential: ApiCredential | None = None,
) -> Reward:
    """Set the stock (`stock`) or move it (`delta`); it never goes below zero (409)."""
    if (stock is None) == (delta is None):
        raise ValueError("Give exactly one of stock and delta.")
    locked = reward_lock(account_id=reward.account_id, reward_id=reward.pk)
    target = stock if stock is not None else locked.stock + (delta or 0)
    if target < 0:
        raise ConflictError(
            gettext("Stock cannot go below zero: it is %(stock)s, the change asks for %(target)s.")
            % {"stock": locked.stock, "target": target},
            code="stock_below_zero",
            stock=locked.stock,
        )
    if target == locked.stock:
        return locked
    default_reason = "Set" if stock is not None else f"Moved by {delta:+d}"
    return _move_stock(locked, target, reason or default_reason, staff_user=staff_user, credential=credential)


def reward_take_one(*, account_id: int, reward_id: int, reason: str) -> Reward | None:
    """Take one unit of a reward on its locked row; None when it is not available now.

    The caller holds the wallet lock already (lock order: wallet, then stock).
    """
    locked = reward_lock(account_id=account_id, reward_id=reward_id)
    if reward_unavailable_reason(locked, timezone.now()) is not None:
        return None
    return _move_stock(locked, locked.stock - 1, reason)


@transaction.atomic(savepoint=False)
def reward_redeem(*, reward: Reward, customer: Customer) -> Voucher:
    """Exchange the reward's points for a voucher: debit the points, take one unit of
    stock and issue the voucher — all or nothing."""
    wallet = wallet_lock(account_id=customer.account_id, customer_id=customer.pk)
    locked = reward_lock(account_id=reward.account_id, reward_id=reward.pk)
    unavailable = reward_unavailable_reason(locked, timezone.now())
    if unavailable is not None:
        raise ConflictError(unavailable.message, code=unavailable.code)
    if wallet.points < locked.points_cost:
        raise InsufficientFunds(
            gettext("Insufficient points: the reward costs %(cost)s; the customer has %(points)s.")
            % {"cost": locked.points_cost, "points": wallet.points},
            code="insufficient_points",
            available={"points": wallet.points},
        )
    voucher = voucher_issue(
        account=locked.account,
        customer=customer,
        value=locked.value,
        valid_days=locked.voucher_valid_days,
        reward=locked,
    )
    _move_stock(locked, locked.stock - 1, f"Redeemed for voucher {voucher.code}", voucher=voucher)
    wallet = wallet_post(
        customer=customer,
        postings=[
            Posting(
                kind=LedgerEntry.Kind.POINTS_REDEEM,
                deltas={"points": -locked.points_cost},
                reason=f"Redeemed: {locked.name}",
                links={"voucher": voucher},
            )
        ]
        if locked.points_cost
        else [],
        locked_wallet=wallet,
    )
    messages_queue_event(
        account=locked.account,
        customer=customer,
        event=Event.VOUCHER_ISSUED,
        context={
            "voucher_code": voucher.code,
            "voucher_value": format_brl(voucher.value),
            "voucher_valid_until": voucher.valid_until.astimezone(locked.account.tzinfo).date().isoformat(),
        },
        wallet_after={
            "balance": wallet.balance,
            "points": wallet.points,
            "digital_change": wallet.digital_change,
        },
    )
    return voucher
