"""What of a customer's cashback balance a till may spend under the account's redemption
limits (`redeem_max_share`, `redeem_min_purchase`, `redeem_min_balance`), as one pure function.

The POS redeem (`vouchers.services.redemptions`) refuses a cashback `value` above what
`redeemable_balance` allows, and the discount quote (`promotions.api.pos.discounts`) answers
it as `max_redeemable.balance`: both call this one function, so a quote's figure is always
accepted by the redeem that follows, and one cent more always refused.

It lives with the account, below promotions and vouchers, because both read it and the
import contracts (`pyproject.toml`) forbid promotions to import vouchers.

Digital change is the customer's own money (change the till kept for them): no limit
applies to it, and a redemption of digital change alone needs no `purchase_total`.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from loyalty.core.money import ZERO, round_money

if TYPE_CHECKING:
    from loyalty.tenancy.models import Account

HUNDRED = Decimal(100)


class RedeemLimit(StrEnum):
    """The account setting that holds a redemption back, by the name the API gives it."""

    MAX_SHARE = "redeem_max_share"
    MIN_PURCHASE = "redeem_min_purchase"
    MIN_BALANCE = "redeem_min_balance"


@dataclass(frozen=True)
class RedeemLimits:
    """An account's limits: `max_share` percent (None: no limit), minimums in R$ (0: none)."""

    max_share: Decimal | None = None
    min_purchase: Decimal = ZERO
    min_balance: Decimal = ZERO

    @classmethod
    def of(cls, account: "Account") -> "RedeemLimits":
        return cls(
            max_share=account.redeem_max_share,
            min_purchase=account.redeem_min_purchase,
            min_balance=account.redeem_min_balance,
        )

    @property
    def needing_purchase_total(self) -> RedeemLimit | None:
        """The limit that cannot be applied without the purchase's amount, or None."""
        if self.max_share is not None:
            return RedeemLimit.MAX_SHARE
        if self.min_purchase > 0:
            return RedeemLimit.MIN_PURCHASE
        return None


@dataclass(frozen=True)
class Redeemable:
    """The most cashback balance that may be spent now, and the limit that holds it below the
    balance held (None when only the balance bounds it: asking more is then a matter of funds,
    not of limits). `purchase_total_missing`: a limit needs the purchase's amount and none was
    given, so no cashback may be spent."""

    balance: Decimal
    limit: RedeemLimit | None = None
    purchase_total_missing: bool = False


def redeemable_balance(
    *, account_limits: RedeemLimits, balance: Decimal, purchase_total: Decimal | None
) -> Redeemable:
    """The most of `balance` (the cashback held before the redemption) that may be spent on a
    purchase of `purchase_total` (None: not known).

    In this order: below `min_balance` nothing may be spent; a share or a minimum purchase
    with no `purchase_total` allows nothing; a purchase below `min_purchase` allows nothing;
    `max_share` allows `purchase_total × share / 100` rounded to the cent (ROUND_HALF_UP).
    A balance in debt allows nothing.
    """
    held = max(balance, ZERO)
    if account_limits.min_balance > 0 and balance < account_limits.min_balance:
        return Redeemable(balance=ZERO, limit=RedeemLimit.MIN_BALANCE)
    needing = account_limits.needing_purchase_total
    if needing is None:
        return Redeemable(balance=held)
    if purchase_total is None:
        return Redeemable(balance=ZERO, limit=needing, purchase_total_missing=True)
    if account_limits.min_purchase > 0 and purchase_total < account_limits.min_purchase:
        return Redeemable(balance=ZERO, limit=RedeemLimit.MIN_PURCHASE)
    if account_limits.max_share is not None:
        share = max(round_money(purchase_total * account_limits.max_share / HUNDRED), ZERO)
        if share < held:
            return Redeemable(balance=share, limit=RedeemLimit.MAX_SHARE)
    return Redeemable(balance=held)
