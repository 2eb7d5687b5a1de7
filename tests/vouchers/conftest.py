"""Fixtures of the vouchers tests: a customer with points and balance, and a reward."""

from decimal import Decimal

import pytest

from customers.services import customer_create, wallet_credit
from tests.factories import RewardFactory


@pytest.fixture
def maria(tenant):
    customer = customer_create(
        account=tenant.account, name="Maria", document="53933515009", email="maria@x.com"
    )
    wallet_credit(
        customer=customer,
        kind="adjustment",
        amounts={
            "points": Decimal("250.00"),
            "balance": Decimal("100.00"),
            "digital_change": Decimal("5.00"),
        },
        reason="Opening balance",
    )
    return customer


@pytest.fixture
def reward(tenant):
    return RewardFactory(
        account=tenant.account, name="Vale R$ 20", points_cost=Decimal("100"), value=Decimal("20"), stock=5
    )
