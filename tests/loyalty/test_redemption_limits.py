"""The redemption limits as a pure function: what of a cashback balance a till may spend."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.tenancy.redemption_limits import Redeemable, RedeemLimit, RedeemLimits, redeemable_balance

D = Decimal


def allowed(balance, purchase_total=None, **limits):
    settings = RedeemLimits(**{name: D(str(value)) for name, value in limits.items()})
    return redeemable_balance(
        account_limits=settings,
        balance=D(str(balance)),
        purchase_total=None if purchase_total is None else D(str(purchase_total)),
    )


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        # No limit: the balance held, whatever the purchase (or none said).
        (allowed(100), Redeemable(D("100"))),
        (allowed(100, 5), Redeemable(D("100"))),
        # A debt allows nothing, and no limit is to blame for it.
        (allowed(-3), Redeemable(D("0"))),
        # The share of the purchase, to the cent, half up.
        (allowed(100, "33.33", max_share=10), Redeemable(D("3.33"), RedeemLimit.MAX_SHARE)),
        (allowed(100, "0.05", max_share=10), Redeemable(D("0.01"), RedeemLimit.MAX_SHARE)),
        (allowed(100, "0.10", max_share=15), Redeemable(D("0.02"), RedeemLimit.MAX_SHARE)),
        (allowed(100, "0.03", max_share=10), Redeemable(D("0.00"), RedeemLimit.MAX_SHARE)),
        # A share above the balance leaves the balance as the bound: a matter of funds.
        (allowed(4, 50, max_share=10), Redeemable(D("4"))),
        (allowed(5, 50, max_share=10), Redeemable(D("5"))),
        (allowed(100, 50, max_share=100), Redeemable(D("50.00"), RedeemLimit.MAX_SHARE)),
        # Minimum purchase: reached exactly is enough.
        (allowed(100, "19.99", min_purchase=20), Redeemable(D("0"), RedeemLimit.MIN_PURCHASE)),
        (allowed(100, 20, min_purchase=20), Redeemable(D("100"))),
        # Minimum balance, held before the redemption: held exactly is enough.
        (allowed("9.99", 50, min_balance=10), Redeemable(D("0"), RedeemLimit.MIN_BALANCE)),
        (allowed(10, None, min_balance=10), Redeemable(D("10"))),
        # A limit that needs the purchase's amount, with none: nothing.
        (allowed(100, None, max_share=50), Redeemable(D("0"), RedeemLimit.MAX_SHARE, True)),
        (allowed(100, None, min_purchase=1), Redeemable(D("0"), RedeemLimit.MIN_PURCHASE, True)),
        # The minimum balance is named before a missing purchase amount, the minimum purchase
        # before the share.
        (allowed(5, None, max_share=50, min_balance=10), Redeemable(D("0"), RedeemLimit.MIN_BALANCE)),
        (allowed(100, 10, max_share=50, min_purchase=20), Redeemable(D("0"), RedeemLimit.MIN_PURCHASE)),
        (allowed(100, 40, max_share=50, min_purchase=20), Redeemable(D("20.00"), RedeemLimit.MAX_SHARE)),
    ],
)
def test_what_each_limit_allows(case, expected):
    assert case == expected


def test_the_account_fields_are_the_limits(tenant):
    account = tenant.account
    account.redeem_max_share, account.redeem_min_purchase, account.redeem_min_balance = (
        D("12.5"),
        D("3"),
        D("4"),
    )

    limits = RedeemLimits.of(account)

    assert limits == RedeemLimits(max_share=D("12.5"), min_purchase=D("3"), min_balance=D("4"))
    assert RedeemLimits.of(type(account)()).needing_purchase_total is None


money = st.decimals(min_value=D("0"), max_value=D("10000"), places=2)
settings_ = st.builds(
    RedeemLimits,
    max_share=st.none() | st.decimals(min_value=D("0.01"), max_value=D("100"), places=2),
    min_purchase=st.just(D("0")) | money,
    min_balance=st.just(D("0")) | money,
)


@given(limits=settings_, balance=money, purchase_total=st.none() | money, more=money)
def test_never_more_than_the_balance_nor_the_share_and_a_bigger_purchase_never_allows_less(
    limits, balance, purchase_total, more
):
    result = redeemable_balance(account_limits=limits, balance=balance, purchase_total=purchase_total)

    assert D(0) <= result.balance <= balance
    assert result.balance == result.balance.quantize(D("0.01"))
    assert (result.limit is None) == (result.balance == balance) or result.balance == balance == 0
    if limits.max_share is not None and purchase_total is not None:
        assert result.balance <= purchase_total * limits.max_share / 100 + D("0.005")
    if purchase_total is not None:
        bigger = redeemable_balance(
            account_limits=limits, balance=balance, purchase_total=purchase_total + more
        )
        assert bigger.balance >= result.balance
