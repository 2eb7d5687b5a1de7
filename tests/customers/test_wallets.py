"""Wallet services: the ledger is the only way a bucket moves, and it always adds up."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from customers.models import LedgerEntry, Wallet
from customers.selectors import wallet_mismatches
from customers.services import (
    InsufficientFunds,
    Posting,
    wallet_adjust,
    wallet_credit,
    wallet_debit,
    wallet_post,
)
from loyalty.core.errors import BusinessRuleError
from tests.concurrency import run_concurrently
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(merchant):
    return CustomerFactory(account=merchant.account, document="53933515009")


def test_credit_writes_one_row_and_moves_the_wallet(customer):
    wallet = wallet_credit(
        customer=customer, kind=LedgerEntry.Kind.CASHBACK, amounts={"balance": Decimal("7.65")}, reason="sale"
    )

    assert wallet.balance == Decimal("7.65")
    assert Wallet.objects.get(pk=wallet.pk).balance == Decimal("7.65")
    entry = LedgerEntry.objects.get(wallet=wallet)
    assert entry.kind == "cashback"
    assert entry.balance == Decimal("7.65")
    assert wallet_mismatches() == []


def test_debit_beyond_the_balance_is_refused_and_writes_nothing(customer):
    wallet_credit(customer=customer, kind="cashback", amounts={"balance": Decimal("5.00")})

    with pytest.raises(InsufficientFunds) as refused, transaction.atomic():
        wallet_debit(customer=customer, kind="balance_redeem", amounts={"balance": Decimal("5.01")})

    assert refused.value.code == "insufficient_balance"
    assert refused.value.extra["available"]["balance"] == 5.0
    assert "5.01" in refused.value.detail
    assert LedgerEntry.objects.count() == 1
    assert Wallet.objects.get(customer=customer).balance == Decimal("5.00")


def test_debits_of_two_buckets_are_all_or_nothing(customer):
    wallet_credit(
        customer=customer, kind="cashback", amounts={"balance": Decimal("10"), "digital_change": Decimal("1")}
    )

    with pytest.raises(InsufficientFunds, match="digital change"), transaction.atomic():
        wallet_debit(
            customer=customer,
            kind="balance_redeem",
            amounts={"balance": Decimal("10"), "digital_change": Decimal("2")},
        )

    wallet = Wallet.objects.get(customer=customer)
    assert (wallet.balance, wallet.digital_change) == (Decimal("10.00"), Decimal("1.00"))


def test_overdraw_is_allowed_for_reversals_and_visible(customer):
    wallet = wallet_post(
        customer=customer,
        postings=[Posting(kind=LedgerEntry.Kind.REVERSAL, deltas={"balance": Decimal("-3.00")})],
        overdraw=True,
    )

    assert wallet.balance == Decimal("-3.00")
    assert wallet_mismatches() == []


def test_unrounded_amounts_are_a_programming_error(customer):
    with pytest.raises(ValueError, match="not rounded"):
        wallet_credit(customer=customer, kind="cashback", amounts={"balance": Decimal("1.005")})


def test_adjustment_needs_a_reason_and_is_signed(customer, make_staff, merchant):
    staff = make_staff(merchant.account)

    with pytest.raises(BusinessRuleError, match="reason"), transaction.atomic():
        wallet_adjust(customer=customer, bucket="points", amount=Decimal("10"), reason=" ", staff_user=staff)
    wallet = wallet_adjust(
        customer=customer, bucket="points", amount=Decimal("10"), reason="Goodwill", staff_user=staff
    )

    assert wallet.points == Decimal("10.00")
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.staff_user, entry.reason) == ("adjustment", staff, "Goodwill")


def test_negative_adjustment_cannot_go_below_zero(customer, make_staff, merchant):
    staff = make_staff(merchant.account)

    with pytest.raises(InsufficientFunds), transaction.atomic():
        wallet_adjust(customer=customer, bucket="balance", amount=Decimal("-1"), reason="x", staff_user=staff)


def test_totals_cannot_be_adjusted(customer, make_staff, merchant):
    with pytest.raises(BusinessRuleError, match="can be adjusted"), transaction.atomic():
        wallet_adjust(
            customer=customer,
            bucket="total_shoppings",
            amount=Decimal("1"),
            reason="x",
            staff_user=make_staff(merchant.account),
        )


def test_check_wallets_is_clean_and_names_each_mismatch(customer):
    wallet_credit(customer=customer, kind="points", amounts={"points": Decimal("12.50")})
    out = StringIO()
    call_command("check_wallets", stdout=out)
    assert "OK: 1 wallet(s)" in out.getvalue()

    Wallet.objects.filter(customer=customer).update(points=Decimal("13.50"), count_shoppings=2)
    err = StringIO()
    with pytest.raises(CommandError, match="2 wallet field"):
        call_command("check_wallets", stdout=StringIO(), stderr=err)

    assert "points is 13.50 but its ledger rows sum to 12.50" in err.getvalue()
    assert "count_shoppings is 2 but its ledger rows sum to 0" in err.getvalue()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_debits_never_overdraw(postgres_only, merchant):
    customer = CustomerFactory(account=merchant.account, document="53933515009")
    wallet_credit(customer=customer, kind="cashback", amounts={"balance": Decimal("100.00")})

    def debit(_):
        return wallet_debit(customer=customer, kind="balance_redeem", amounts={"balance": Decimal("10.00")})

    results = run_concurrently(20, debit)

    succeeded = [result for result in results if isinstance(result, Wallet)]
    refused = [result for result in results if isinstance(result, InsufficientFunds)]
    assert (len(succeeded), len(refused)) == (10, 10)
    assert Wallet.objects.get(customer=customer).balance == Decimal("0.00")
    assert LedgerEntry.objects.filter(kind="balance_redeem").count() == 10
    call_command("check_wallets", stdout=StringIO())
