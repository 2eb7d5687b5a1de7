"""A voucher rule may hand out a reward of the catalogue: it takes the reward's stock."""

from decimal import Decimal

import pytest

from loyalty.engine.program import rule_create
from tests.builders import V2
from tests.factories import RewardFactory
from vouchers.models import Reward, StockChange, Voucher

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule(tenant):
    reward = RewardFactory(account=tenant.account, name="Caneca", value=Decimal("35"), stock=1)
    return rule_create(
        account=tenant.account,
        name="Caneca a partir de R$ 100",
        kind="voucher",
        threshold=Decimal("100"),
        reward=reward,
    )


def sale(tenant, reference):
    return tenant.v2.post(
        f"{V2}/sales", {"cpf": "53933515009", "sale_amount": 120, "reference": reference}, format="json"
    ).json()


def test_the_rule_hands_out_the_reward_and_takes_its_stock(tenant, rule):
    body = sale(tenant, "R1")

    voucher = Voucher.objects.get()
    assert body["sale"]["rewards"]["vouchers"][0]["code"] == voucher.code
    assert (voucher.reward, voucher.value, voucher.rule) == (rule.reward, Decimal("35.00"), rule)
    assert Reward.objects.get().stock == 0
    assert StockChange.objects.filter(reward=rule.reward, to_stock=0).exists()


def test_out_of_stock_issues_nothing_and_warns(tenant, rule):
    sale(tenant, "R1")

    body = sale(tenant, "R2")

    assert body["sale"]["rewards"]["vouchers"] == []
    assert "Caneca" in body["warnings"][0]
    assert Voucher.objects.count() == 1


def test_cancelling_the_sale_cancels_the_voucher(tenant, rule):
    body = sale(tenant, "R1")

    tenant.v2.post(f"{V2}/sales/{body['sale']['id']}/cancel")

    assert Voucher.objects.get().status == "cancelled"
