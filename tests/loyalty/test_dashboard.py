"""The admin index is the program's dashboard: a period (the last 30 days unless chosen) and a
store, beside the previous period, scoped to the user's accounts."""

from datetime import timedelta
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
        # 7 for the period's figures (5 sums, the top promotions, the days), 5 for the previous
        # period's sums, 1 for the store choice, 5 for the liability tile
        # (`loyalty.shell.liability`), the rest the admin's own (session, user, accounts and zone,
        # permissions for the app list).
        with django_assert_num_queries(25):
            client.get(reverse("admin:index"))


def test_a_period_and_a_store_are_chosen_and_compared_with_the_period_before(
    client, staff_a, tenant, activity
):
    from loyalty.tenancy.services import store_create

    other_store = store_create(account=tenant.account, name="Filial Centro")[0]
    client.force_login(staff_a)

    week = client.get(reverse("admin:index"), {"days": "7"}).context
    elsewhere = client.get(reverse("admin:index"), {"days": "30", "store": other_store.pk}).context
    here = client.get(reverse("admin:index"), {"days": "30", "store": tenant.store.pk}).context

    assert week["period"].days == 7
    assert len(week["figures"].days) == 7
    assert week["previous"].period.last == week["period"].first - timedelta(days=1)
    assert (week["figures"].sales_count, week["previous"].sales_count) == (2, 0)
    assert week["compared"]["sales_amount"].change is None  # nothing to compare with
    assert (elsewhere["figures"].sales_count, elsewhere["figures"].cashback_granted) == (0, 0)
    # The POS purchase was rung at the store; the v2 sale named none.
    assert (here["figures"].sales_count, here["figures"].sales_amount) == (1, Decimal("24.00"))


def test_chosen_dates_are_checked_and_an_invalid_choice_falls_back_to_30_days(client, staff_a, activity):
    client.force_login(staff_a)
    today = timezone.localdate(timezone.now(), staff_a.memberships.get().account.tzinfo)

    chosen = client.get(
        reverse("admin:index"),
        {"date_from": (today - timedelta(days=2)).isoformat(), "date_to": today.isoformat()},
    ).context
    backwards = client.get(
        reverse("admin:index"),
        {"date_from": today.isoformat(), "date_to": (today - timedelta(days=2)).isoformat()},
    )

    assert (chosen["period"].days, chosen["figures"].sales_count) == (3, 2)
    assert backwards.context["period"].days == 30
    assert "The first date is after the last one." in backwards.content.decode()


@pytest.mark.language("pt-br")
def test_the_chart_has_axes_day_labels_values_and_empty_days(client, staff_a, activity):
    client.force_login(staff_a)

    response = client.get(reverse("admin:index"), {"days": "7"})

    html = response.content.decode()
    chart = response.context["chart"]
    assert len(chart.bars) == 7
    assert [bar.empty for bar in chart.bars] == [True] * 6 + [False]
    assert all(float(bar.height) > 0 for bar in chart.bars)  # an empty day still shows
    today = timezone.localdate(timezone.now(), staff_a.memberships.get().account.tzinfo)
    assert f">{today:%d/%m}</text>" in html
    assert ">124</text>" in html  # the day's amount over its bar, whole reais
    assert [tick.label for tick in chart.ticks] == ["0", "50", "100", "150", "200"]
    assert "Vendas por dia (R$)" in html
    assert "2 · R$ 124,00" in html


def test_a_superuser_choosing_another_accounts_store_sees_that_accounts_liability(
    client, superuser, tenant, other_tenant, activity
):
    client.force_login(superuser)

    context = client.get(reverse("admin:index"), {"store": other_tenant.store.pk}).context

    assert context["liability"].account_id == other_tenant.account.pk
    assert context["chosen_store"] == other_tenant.store


def test_staff_cannot_choose_another_accounts_store(client, staff_a, tenant, other_tenant, activity):
    client.force_login(staff_a)

    response = client.get(reverse("admin:index"), {"store": other_tenant.store.pk})

    assert response.context["chosen_store"] is None  # refused: the whole account is shown
    assert response.context["figures"].sales_count == 2
    assert list(response.context["filter"].fields["store"].queryset) == [tenant.store]
