"""Expiry lots against the ledger: whatever the sequence of grants, debits, give-backs,
reversals and expiries, each wallet's lots add up to its buckets (`check_wallets`)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import ExpiryLot, LedgerEntry, Wallet
from customers.selectors import lot_mismatches, wallet_mismatches
from customers.services import LotTerms, Posting, entries_reversal, wallet_post
from loyalty.engine.lifecycle import rewards_expire_due
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

# Lots end after the test runs: a debit would expire what is past its end first.
START = datetime.now(tz=UTC)

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50"), places=2)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), amounts, st.sampled_from([None, 1, 5, 20])),
        st.tuples(st.just("credit"), amounts, st.none()),
        st.tuples(st.just("debit"), amounts, st.none()),
        st.tuples(st.just("give_back"), st.integers(0, 10), st.none()),
        st.tuples(st.just("reverse_grant"), st.integers(0, 10), st.none()),
        st.tuples(st.just("expire"), st.integers(0, 30), st.none()),
    ),
    max_size=25,
)


def post(customer, posting, overdraw=False):
    return wallet_post(customer=customer, postings=[posting], overdraw=overdraw)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_lots_always_add_up_to_the_buckets(tenant, steps):
    customer = CustomerFactory(account=tenant.account)
    grants: list[LedgerEntry] = []
    debits: list[LedgerEntry] = []
    for operation, value, days in steps:
        wallet = Wallet.objects.get(account=tenant.account, customer=customer)
        if operation == "grant":
            expires_at = START + timedelta(days=days) if days else None
            post(
                customer,
                Posting(kind="cashback", deltas={"balance": value}, lot=LotTerms(expires_at=expires_at)),
            )
            grants.append(LedgerEntry.objects.filter(wallet=wallet).latest("id"))
        elif operation == "credit":
            post(customer, Posting(kind="adjustment", deltas={"balance": value}, reason="x"))
        elif operation == "debit" and wallet.balance >= value:
            post(customer, Posting(kind="balance_redeem", deltas={"balance": -value}))
            debits.append(LedgerEntry.objects.filter(wallet=wallet).latest("id"))
        elif operation == "give_back" and debits:
            entry = debits.pop(value % len(debits))
            wallet_post(
                customer=customer, postings=entries_reversal([entry], reason="given back"), overdraw=True
            )
        elif operation == "reverse_grant" and grants:
            entry = grants.pop(value % len(grants))
            wallet_post(customer=customer, postings=entries_reversal([entry], reason="cancel"), overdraw=True)
        elif operation == "expire":
            before = Wallet.objects.get(pk=wallet.pk).balance
            rewards_expire_due(now=START + timedelta(days=value))
            after = Wallet.objects.get(pk=wallet.pk).balance
            assert after <= before
            assert after >= min(before, Decimal(0))  # expiry never creates or deepens a debt

        assert lot_mismatches(account=tenant.account) == []
        assert wallet_mismatches(account=tenant.account) == []


def test_check_wallets_names_lots_that_do_not_add_up(tenant):
    customer = CustomerFactory(account=tenant.account)
    post(customer, Posting(kind="cashback", deltas={"balance": Decimal("10")}, lot=LotTerms(expires_at=None)))
    # A lot edited behind the services' back: it now claims more than the wallet records.
    ExpiryLot.objects.filter(account=tenant.account).update(remaining=Decimal("10"), amount=Decimal("12"))
    ExpiryLot.objects.filter(account=tenant.account).update(remaining=Decimal("12"))

    found = lot_mismatches(account=tenant.account)

    assert [(mismatch.bucket, mismatch.customer_id) for mismatch in found] == [("balance", customer.pk)]
    assert "lots hold 12.00 but the wallet says 10.00" in str(found[0])


def test_lots_holding_more_than_the_bucket_are_a_mismatch(tenant):
    customer = CustomerFactory(account=tenant.account)
    post(customer, Posting(kind="cashback", deltas={"balance": Decimal("10")}, lot=LotTerms(expires_at=None)))
    # The bucket moved without its lots (as a raw UPDATE would): the lot is worth more than it.
    Wallet.objects.filter(customer=customer).update(balance=Decimal("4"))

    found = lot_mismatches(account=tenant.account)

    assert len(found) == 1
    assert "outside 0..4.00" in str(found[0])


def test_a_credit_into_a_debt_pays_it_before_opening_a_lot(tenant):
    customer = CustomerFactory(account=tenant.account)
    post(customer, Posting(kind="reversal", deltas={"balance": Decimal("-6")}), overdraw=True)

    post(
        customer, Posting(kind="cashback", deltas={"balance": Decimal("10")}, lot=LotTerms(expires_at=START))
    )

    lot = ExpiryLot.objects.get(account=tenant.account)
    assert (lot.amount, lot.remaining) == (Decimal("4.00"), Decimal("4.00"))
    assert Wallet.objects.get(customer=customer).lot_balance == Decimal("4.00")
