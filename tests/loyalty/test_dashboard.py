"""The admin index is the program's dashboard for the last 30 days, scoped to the user's accounts."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.services import customer_create, wallet_credit
from loyalty.engine.program import rule_create
from tests.builders import POS, V2
from tests.factories import RewardFactory
from tests.sales.builders import purchase
from vouchers.services import balance_redeem, reward_redeem, voucher_use

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(tenant):
    rule_create(account=tenant.account, name="5%", kind="cashback", value=Decimal("5"))
    rule_create(account=tenant.account, name="1pt", kind="points", value=Decimal("1"))
    maria = customer_create(account=tenant.account, name="Maria", document="53933515009")
    wallet_credit(
        customer=maria, kind="adjustment", amounts={"points": Decimal("500"), "balance": Decimal("50")}
    )
    now = timezone.localtime(timezone.now(), tenant.account.tzinfo).strftime("%Y-%m-%d %H:%M")
    tenant.v2.post(
        f"{V2}/sales",
        {"cpf": "53933515009", "sale_amount": 100, "reference": "A", "date": now},
        format="json",
    )
    tenant.pos.put(f"{POS}/shops", purchase(date=now), format="json")
    cancelled = tenant.v2.post(
        f"{V2}/sales",
        {"cpf": "53933515009", "sale_amount": 1000, "reference": "B", "date": now},
        format="json",
    ).json()
    tenant.v2.post(f"{V2}/sales/{cancelled['sale']['id']}/cancel")
    voucher = reward_redeem(reward=RewardFactory(account=tenant.account), customer=maria)
    voucher_use(account=tenant.account, code=voucher.code, reference="X")
    balance_redeem(
        account=tenant.account,
        store=tenant.store,
        customer=maria,
        value=Decimal("7.50"),
        digital_change=Decimal("0"),
        occurred_at=timezone.now(),
        reference="R",
    )


def test_dashboard_shows_the_last_30_days(client, staff_a, activity):
    client.force_login(staff_a)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    figures = response.context["figures"]
    assert (figures.sales_count, figures.sales_amount) == (2, Decimal("124.00"))
    assert figures.cashback_granted == Decimal("6.20")
    assert figures.points_granted == Decimal("124.00")
    assert figures.balance_redeemed == Decimal("7.50")
    assert (figures.vouchers_issued, figures.vouchers_used) == (1, 1)
    assert len(figures.days) == 30
    assert figures.days[-1].amount == Decimal("124.00")
    html = response.content.decode()
    assert "<svg" in html
    assert "2 · R$ 124.00" in html


def test_staff_of_another_account_sees_nothing_of_it(client, staff_b, activity):
    client.force_login(staff_b)

    figures = client.get(reverse("admin:index")).context["figures"]

    assert (figures.sales_count, figures.cashback_granted, figures.vouchers_issued) == (0, 0, 0)


def test_the_dashboard_costs_the_same_queries_with_or_without_activity(
    client, staff_a, staff_b, django_assert_num_queries, activity
):
    for user in (staff_a, staff_b):
        client.force_login(user)
        client.get(reverse("admin:index"))
        # 14 for the figures (one of them the returns), 5 for the liability tile
        # (`loyalty.shell.liability`).
        with django_assert_num_queries(19):
            client.get(reverse("admin:index"))
