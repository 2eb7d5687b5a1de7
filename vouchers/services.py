"""Writes of the vouchers app: stock, reward redemption, vouchers and balance redemption.

Locks are always taken in the same order — wallet, then stock (the reward row), then
voucher — so that concurrent flows queue instead of deadlocking. Every check that a
concurrent request could invalidate is made again on the locked row.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer, LedgerEntry, Wallet
from customers.services import InsufficientFunds, Posting, entries_reversal, wallet_lock, wallet_post
from loyalty.dates import local_date
from loyalty.exceptions import ConflictError, NotFoundError
from loyalty.models import Account, ApiCredential, Event, Store
from loyalty.services.messaging import format_brl, messages_queue_event
from sales.selectors import purchase_keys
from vouchers.models import CODE_ALPHABET, CODE_LENGTH, BalanceRedemption, Reward, StockChange, Voucher
from vouchers.selectors import reward_unavailable_reason, voucher_refusal

DEFAULT_VALID_DAYS = 30


def new_voucher_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# --- vouchers --------------------------------------------------------------------------


@transaction.atomic
def voucher_issue(
    *,
    account: Account,
    customer: Customer,
    value: Decimal,
    valid_days: int | None = None,
    sale=None,
    rule=None,
    reward: Reward | None = None,
) -> Voucher:
    """A new active voucher with an unguessable code, valid from now for `valid_days`."""
    now = timezone.now()
    for _ in range(5):
        voucher = Voucher(
            account=account,
            customer=customer,
            reward=reward,
            code=new_voucher_code(),
            value=value,
            valid_from=now,
            valid_until=now + timedelta(days=valid_days or DEFAULT_VALID_DAYS),
            sale=sale,
            rule=rule,
        )
        try:
            with transaction.atomic():
                voucher.save()
        except IntegrityError:
            continue  # a code collision: 31^12 codes make this vanishingly rare
        return voucher
    raise RuntimeError("Could not generate a unique voucher code.")


def voucher_lock(*, account: Account, code: str) -> Voucher:
    """The account's voucher with this code (any case), locked (voucher lock: last)."""
    voucher = Voucher.objects.select_for_update().filter(account=account, code=code.strip().upper()).first()
    if voucher is None:
        raise NotFoundError("No voucher with this code in this account.")
    return voucher


@transaction.atomic
def voucher_use(*, account: Account, code: str, reference: str = "", store: Store | None = None) -> Voucher:
    """Mark a voucher used at a sale; it can be used once."""
    voucher = voucher_lock(account=account, code=code)
    refusal = voucher_refusal(voucher, timezone.now())
    if refusal is not None:
        raise ConflictError(refusal.message, code=f"voucher_{refusal.reason}", reason=refusal.reason)
    voucher.status = Voucher.Status.USED
    voucher.used_at = timezone.now()
    voucher.used_reference = reference
    voucher.used_store = store
    voucher.save(update_fields=["status", "used_at", "used_reference", "used_store"])
    return voucher


@transaction.atomic
def voucher_cancel(*, voucher: Voucher) -> Voucher:
    """Cancel an unused voucher; a used one stays used."""
    voucher = Voucher.objects.select_for_update().get(pk=voucher.pk)
    if voucher.status == Voucher.Status.USED:
        raise ConflictError("A used voucher cannot be cancelled.", code="voucher_used", reason="used")
    if voucher.status != Voucher.Status.CANCELLED:
        voucher.status = Voucher.Status.CANCELLED
        voucher.cancelled_at = timezone.now()
        voucher.save(update_fields=["status", "cancelled_at"])
    return voucher


@transaction.atomic
def vouchers_cancel_for_sale(*, sale) -> list[Voucher]:
    """Cancel the still-unused vouchers a sale issued; used ones stay used."""
    vouchers = list(Voucher.objects.select_for_update().filter(sale=sale, status=Voucher.Status.ACTIVE))
    now = timezone.now()
    Voucher.objects.filter(pk__in=[voucher.pk for voucher in vouchers]).update(
        status=Voucher.Status.CANCELLED, cancelled_at=now
    )
    for voucher in vouchers:
        voucher.status, voucher.cancelled_at = Voucher.Status.CANCELLED, now
    return vouchers


# --- rewards and stock -----------------------------------------------------------------


@transaction.atomic
def reward_create(
    *,
    account: Account,
    name: str,
    points_cost: Decimal,
    value: Decimal,
    stock: int = 0,
    description: str = "",
    category=None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    voucher_valid_days: int = DEFAULT_VALID_DAYS,
    active: bool = True,
    staff_user=None,
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
        reward=reward,
        from_stock=0,
        to_stock=stock,
        reason="Created",
        staff_user=staff_user,
        credential=credential,
    )
    return reward


def reward_lock(*, reward: Reward | int) -> Reward:
    """The reward row, locked (stock lock: after the wallet, before any voucher)."""
    return Reward.objects.select_for_update().get(pk=reward.pk if isinstance(reward, Reward) else reward)


def _move_stock(reward: Reward, to_stock: int, reason: str, **who) -> Reward:
    StockChange.objects.create(
        reward=reward, from_stock=reward.stock, to_stock=to_stock, reason=reason, **who
    )
    Reward.objects.filter(pk=reward.pk).update(stock=to_stock, updated_at=timezone.now())
    reward.stock = to_stock
    return reward


@transaction.atomic
def reward_stock_set(
    *,
    reward: Reward,
    stock: int | None = None,
    delta: int | None = None,
    reason: str = "",
    staff_user=None,
    credential: ApiCredential | None = None,
) -> Reward:
    """Set the stock (`stock`) or move it (`delta`); it never goes below zero (409)."""
    if (stock is None) == (delta is None):
        raise ValueError("Give exactly one of stock and delta.")
    locked = reward_lock(reward=reward)
    target = stock if stock is not None else locked.stock + delta
    if target < 0:
        raise ConflictError(
            f"Stock cannot go below zero: it is {locked.stock}, the change asks for {target}.",
            code="stock_below_zero",
            stock=locked.stock,
        )
    if target == locked.stock:
        return locked
    default_reason = "Set" if stock is not None else f"Moved by {delta:+d}"
    return _move_stock(locked, target, reason or default_reason, staff_user=staff_user, credential=credential)


def reward_take_one(*, reward: Reward | int, reason: str) -> Reward | None:
    """Take one unit of a reward on its locked row; None when it is not available now.

    The caller holds the wallet lock already (lock order: wallet, then stock).
    """
    locked = reward_lock(reward=reward)
    if reward_unavailable_reason(locked, timezone.now()) is not None:
        return None
    return _move_stock(locked, locked.stock - 1, reason)


@transaction.atomic
def reward_redeem(*, reward: Reward, customer: Customer) -> Voucher:
    """Exchange the reward's points for a voucher: debit the points, take one unit of
    stock and issue the voucher — all or nothing."""
    wallet = wallet_lock(customer=customer)
    locked = reward_lock(reward=reward)
    unavailable = reward_unavailable_reason(locked, timezone.now())
    if unavailable is not None:
        raise ConflictError(unavailable.message, code=unavailable.code)
    if wallet.points < locked.points_cost:
        raise InsufficientFunds(
            f"Insufficient points: the reward costs {locked.points_cost}; the customer has {wallet.points}.",
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


# --- balance redemption ----------------------------------------------------------------


@dataclass
class RedemptionOutcome:
    redemption: BalanceRedemption
    created: bool
    wallet: Wallet


def _redemption_keys(store: Store, type: str, day, reference: str, pdv: str, coupon: str) -> dict:
    return {
        "store": store,
        "type": type,
        "local_date": day,
        "reference": reference,
        "pdv": pdv,
        "coupon": coupon,
    }


@transaction.atomic
def balance_redeem(
    *,
    account: Account,
    store: Store,
    customer: Customer,
    value: Decimal,
    digital_change: Decimal,
    occurred_at: datetime,
    type: str = "",
    reference: str = "",
    pdv: str = "",
    coupon: str = "",
) -> RedemptionOutcome:
    """Spend cashback balance and digital change at a till, both or neither.

    The same redemption sent again (same store, type, day, keys and amounts) answers the
    first result and debits nothing more.
    """
    keys = _redemption_keys(store, type, local_date(occurred_at, account.tzinfo), reference, pdv, coupon)
    existing = BalanceRedemption.objects.filter(**keys, value=value, digital_change=digital_change).first()
    if existing is not None:
        return RedemptionOutcome(
            redemption=existing, created=False, wallet=Wallet.objects.get(customer=customer)
        )
    redemption = BalanceRedemption(
        account=account,
        customer=customer,
        occurred_at=occurred_at,
        value=value,
        digital_change=digital_change,
        **keys,
    )
    try:
        with transaction.atomic():
            redemption.save()
    except IntegrityError:
        existing = BalanceRedemption.objects.get(**keys, value=value, digital_change=digital_change)
        return RedemptionOutcome(
            redemption=existing, created=False, wallet=Wallet.objects.get(customer=customer)
        )
    of_this_redemption = partial(
        Posting, reason="Redeemed at the till", store=store, links={"redemption": redemption}
    )
    postings = [
        of_this_redemption(kind=kind, deltas={bucket: -amount})
        for kind, bucket, amount in (
            (LedgerEntry.Kind.BALANCE_REDEEM, "balance", value),
            (LedgerEntry.Kind.DIGITAL_CHANGE_DEBIT, "digital_change", digital_change),
        )
        if amount
    ]
    wallet = wallet_post(customer=customer, postings=postings, locked_wallet=wallet_lock(customer=customer))
    messages_queue_event(
        account=account,
        customer=customer,
        event=Event.BALANCE_REDEEMED,
        context={"redeemed": format_brl(value), "redeemed_digital_change": format_brl(digital_change)},
        wallet_after={
            "balance": wallet.balance,
            "points": wallet.points,
            "digital_change": wallet.digital_change,
        },
        store=store,
    )
    return RedemptionOutcome(redemption=redemption, created=True, wallet=wallet)


def redemptions_give_back(*, cancellation) -> None:
    """On a purchase's cancellation, give back the balance redeemed under the same store,
    type, day and reference or pdv + coupon (a `sale_cancelled` receiver)."""
    sale = cancellation.sale
    if cancellation.customer is None or sale.store_id is None:
        return
    keys = purchase_keys(reference=sale.reference, pdv=sale.pdv, coupon=sale.coupon)
    if keys is None:
        return
    redemptions = list(
        BalanceRedemption.objects.select_for_update()
        .filter(
            keys,
            store_id=sale.store_id,
            type=sale.type,
            local_date=sale.local_date,
            customer=cancellation.customer,
            status=BalanceRedemption.Status.REDEEMED,
        )
        .order_by("id")
    )
    if not redemptions:
        return
    entries = list(
        LedgerEntry.objects.filter(redemption__in=redemptions, reversed_by__isnull=True)
        .select_related("store")
        .order_by("id")
    )
    cancellation.postings.extend(
        entries_reversal(
            entries, reason=f"Purchase {sale.pk} cancelled: redemption given back", links={"sale_id": sale.pk}
        )
    )
    now = timezone.now()
    BalanceRedemption.objects.filter(pk__in=[redemption.pk for redemption in redemptions]).update(
        status=BalanceRedemption.Status.RETURNED, returned_at=now
    )
    cancellation.redemptions_returned.extend(redemptions)
