"""Returns against the ledger, property-based: random baskets over categories, random sets of
rules (cashback, points, scoped to a category, with digital change excluded, capped) and
random sequences of partial returns — never more taken back than granted, returning
everything undoes the purchase exactly as a cancel does, and `check_wallets` stays clean."""

from decimal import Decimal
from io import StringIO
from itertools import count

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import LedgerEntry
from customers.services import customer_create, wallet_credit
from loyalty.core.receipts import Receipt
from loyalty.engine.models import RewardRule
from loyalty.engine.program import rule_create
from promotions.models import Category
from sales.models import Sale
from sales.outcomes import ItemData, PaymentData, ReturnedUnits, SaleInput
from sales.services import sale_cancel, sale_record, sale_return

pytestmark = pytest.mark.django_db

BUCKETS = ("balance", "points", "pending_balance", "pending_points", "total_shoppings", "total_discounts")
CATEGORIES = ("Hortifruti", "Bebidas", "Padaria")

lines = st.lists(
    st.tuples(
        st.decimals(min_value=Decimal("0.50"), max_value=Decimal("80"), places=2),
        st.integers(min_value=1, max_value=5),
        st.sampled_from(CATEGORIES),
    ),
    min_size=1,
    max_size=4,
)


@pytest.fixture
def program(tenant):
    for name in CATEGORIES:
        assert tenant.v2.post("/api/v2/categories", {"name": name}, format="json").status_code == 201
    fruit = Category.objects.get(account=tenant.account, name="Hortifruti")
    rules = [
        rule_create(account=tenant.account, name="5%", kind="cashback", value=Decimal("5")),
        rule_create(account=tenant.account, name="1 pt/R$", kind="points", value=Decimal("1")),
        rule_create(
            account=tenant.account, name="10% fruit", kind="cashback", value=Decimal("10"), categories=[fruit]
        ),
        rule_create(
            account=tenant.account,
            name="capped",
            kind="points",
            value=Decimal("3"),
            maximum_reward=Decimal("40"),
        ),
        rule_create(
            account=tenant.account, name="later", kind="cashback", value=Decimal("2"), pending_days=3
        ),
    ]
    customer = customer_create(account=tenant.account, name="Ana", document="53933515009")
    wallet_credit(
        customer=customer, kind="adjustment", amounts={"digital_change": Decimal("10000")}, reason="Change"
    )
    return rules


receipts = count(1)


def record(tenant, basket, with_change: Decimal) -> Sale:
    number = str(next(receipts))
    items = tuple(
        ItemData(
            barcode=str(100 + position),
            name=f"Item {position}",
            unit_value=unit,
            quantity=Decimal(units),
            total=unit * units,
            category=category,
        )
        for position, (unit, units, category) in enumerate(basket)
    )
    total = sum((line.total for line in items), Decimal(0))
    change = min(with_change, total)
    payments = tuple(
        payment
        for payment in (PaymentData(method=9, total=change), PaymentData(method=1, total=total - change))
        if payment.total > 0
    )
    sent = SaleInput(
        source=Sale.Source.POS,
        store=tenant.store,
        occurred_at=timezone.now(),
        document="53933515009",
        type="CF",
        receipt=Receipt(reference=number, pdv="1", coupon=number),
        items=items,
        payments=payments,
    )
    return sale_record(account=tenant.account, sent=sent).sale


def effect(sale: Sale) -> dict[str, Decimal]:
    sums = LedgerEntry.objects.filter(account_id=sale.account_id, sale=sale).aggregate(
        **{name: Sum(name) for name in BUCKETS}
    )
    # Rounded to the cent: SQLite sums decimals as floating point.
    return {name: Decimal(value or 0).quantize(Decimal("0.01")) + 0 for name, value in sums.items()}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    basket=lines,
    active=st.lists(st.booleans(), min_size=5, max_size=5),
    with_change=st.decimals(min_value=Decimal("0"), max_value=Decimal("60"), places=2),
    data=st.data(),
)
def test_returning_everything_undoes_the_purchase_as_a_cancel_does(
    tenant, program, basket, active, with_change, data
):
    RewardRule.objects.filter(account=tenant.account).update(active=False)
    RewardRule.objects.filter(
        pk__in=[rule.pk for rule, on in zip(program, active, strict=True) if on]
    ).update(active=True)
    returned = record(tenant, basket, with_change)
    cancelled = record(tenant, basket, with_change)
    partly = record(tenant, basket, with_change)
    granted = effect(returned)
    assert effect(cancelled) == effect(partly) == granted  # identical purchases

    left = [units for _, units, _ in basket]
    step_number = count(1)
    while any(left):
        step = [data.draw(st.integers(min_value=0, max_value=units)) for units in left]
        if not any(step):
            step = list(left)
        sale_return(
            sale=returned,
            reference=f"DEV-{next(step_number)}",
            items=[
                ReturnedUnits(barcode=str(100 + position), quantity=Decimal(units))
                for position, units in enumerate(step)
                if units
            ],
        )
        left = [units - back for units, back in zip(left, step, strict=True)]
        now = effect(returned)
        for name in ("balance", "points", "pending_balance", "pending_points"):
            # Never more taken back than granted, nor given more.
            assert Decimal(0) <= now[name] <= granted[name], (name, now, granted)

    sale_cancel(sale=cancelled)
    some = [data.draw(st.integers(min_value=0, max_value=units)) for _, units, _ in basket]
    if any(some):
        sale_return(
            sale=partly,
            reference="PART",
            items=[
                ReturnedUnits(barcode=str(100 + position), quantity=Decimal(units))
                for position, units in enumerate(some)
                if units
            ],
        )
    sale_cancel(sale=partly)

    # Returned whole, cancelled, or returned in part then cancelled: nothing of it is left.
    nothing = {name: Decimal(0) for name in BUCKETS}
    assert effect(returned) == nothing
    assert effect(cancelled) == nothing
    assert effect(partly) == nothing
    call_command("check_wallets", stdout=StringIO())
