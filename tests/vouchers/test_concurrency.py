"""Twenty tills at the same instant: stock, voucher and balance never go wrong (PostgreSQL)."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from customers.models import Wallet
from customers.services import InsufficientFunds, customer_create, wallet_credit
from loyalty.core.errors import ConflictError
from tests.concurrency import run_concurrently
from tests.factories import RewardFactory
from vouchers.models import BalanceRedemption, Reward, Voucher
from vouchers.services import balance_redeem, reward_redeem, voucher_issue, voucher_use

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rich_customer(postgres_only, merchant):
    customer = customer_create(account=merchant.account, name="Maria", document="53933515009")
    wallet_credit(
        customer=customer,
        kind="adjustment",
        amounts={"points": Decimal("10000"), "balance": Decimal("100.00")},
    )
    return customer


def outcomes(results, *kinds):
    return [sum(isinstance(result, kind) for result in results) for kind in kinds]


def wallets_are_consistent():
    call_command("check_wallets", stdout=StringIO())


def test_twenty_redemptions_of_a_reward_with_stock_5_issue_exactly_5_vouchers(merchant, rich_customer):
    reward = RewardFactory(account=merchant.account, points_cost=Decimal("10"), stock=5)

    results = run_concurrently(20, lambda _: reward_redeem(reward=reward, customer=rich_customer))

    assert outcomes(results, Voucher, ConflictError) == [5, 15]
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert Voucher.objects.count() == 5
    assert Wallet.objects.get(customer=rich_customer).points == Decimal("9950.00")
    wallets_are_consistent()


def test_twenty_uses_of_one_voucher_succeed_exactly_once(merchant, rich_customer):
    voucher = voucher_issue(account=merchant.account, customer=rich_customer, value=Decimal("20"))

    results = run_concurrently(
        20,
        lambda index: voucher_use(account=merchant.account, code=voucher.code.lower(), reference=f"S{index}"),
    )

    assert outcomes(results, Voucher, ConflictError) == [1, 19]
    assert Voucher.objects.get().status == "used"
    wallets_are_consistent()


def test_twenty_balance_redemptions_of_10_from_100_succeed_exactly_10_times(merchant, rich_customer):
    def spend(index):
        return balance_redeem(
            account=merchant.account,
            store=merchant.store,
            customer=rich_customer,
            value=Decimal("10.00"),
            digital_change=Decimal("0"),
            occurred_at=timezone.now(),
            type="NF",
            reference=f"R{index}",
        )

    results = run_concurrently(20, spend)

    assert sum(not isinstance(result, Exception) for result in results) == 10
    assert outcomes(results, InsufficientFunds) == [10]
    assert Wallet.objects.get(customer=rich_customer).balance == Decimal("0.00")
    assert BalanceRedemption.objects.count() == 10
    wallets_are_consistent()


def test_the_same_redemption_from_ten_tills_debits_once(merchant, rich_customer):
    def spend(_):
        return balance_redeem(
            account=merchant.account,
            store=merchant.store,
            customer=rich_customer,
            value=Decimal("10.00"),
            digital_change=Decimal("0"),
            occurred_at=timezone.now().replace(hour=12),
            type="NF",
            reference="SAME",
        ).created

    results = run_concurrently(10, spend)

    assert sorted(results) == [False] * 9 + [True]
    assert Wallet.objects.get(customer=rich_customer).balance == Decimal("90.00")
    wallets_are_consistent()
