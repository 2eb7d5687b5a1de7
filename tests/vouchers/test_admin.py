"""Rewards, vouchers and redemptions in the admin."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from vouchers.models import Reward, StockChange, Voucher
from vouchers.services import reward_redeem

pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher(maria, reward):
    return reward_redeem(reward=reward, customer=maria)


@pytest.mark.parametrize("model", ["reward", "voucher", "balanceredemption"])
def test_changelists_load_and_are_scoped(client, staff_a, staff_b, superuser, voucher, model):
    for user, sees in ((staff_a, True), (staff_b, False), (superuser, True)):
        client.force_login(user)
        response = client.get(reverse(f"admin:vouchers_{model}_changelist"))
        assert response.status_code == 200
        if model != "balanceredemption":
            assert (response.context["cl"].result_count > 0) is sees


def test_stock_edited_from_the_list_goes_through_the_service(client, staff_a, reward):
    client.force_login(staff_a)

    response = client.post(
        reverse("admin:vouchers_reward_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(reward.pk),
            "form-0-stock": "12",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    reward.refresh_from_db()
    assert reward.stock == 12
    change = StockChange.objects.filter(reward=reward).latest("id")
    assert (change.from_stock, change.to_stock, change.staff_user, change.reason) == (
        5,
        12,
        staff_a,
        "Changed in the admin",
    )


def test_adding_a_reward_records_its_initial_stock(client, staff_a, merchant):
    client.force_login(staff_a)

    response = client.post(
        reverse("admin:vouchers_reward_add"),
        {
            "name": "Sacola",
            "points_cost": "50",
            "value": "10",
            "stock": "7",
            "voucher_valid_days": "30",
            "active": "on",
            "stock_changes-TOTAL_FORMS": "0",
            "stock_changes-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    reward = Reward.objects.get(name="Sacola")
    assert reward.account == merchant.account
    assert StockChange.objects.get(reward=reward).staff_user == staff_a


def test_vouchers_are_searched_by_code_in_any_case_and_filtered_by_status(client, staff_a, voucher):
    client.force_login(staff_a)
    url = reverse("admin:vouchers_voucher_changelist")

    assert list(client.get(url, {"q": voucher.code.lower()}).context["cl"].result_list) == [voucher]
    Voucher.objects.filter(pk=voucher.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    assert list(client.get(url, {"status": "expired"}).context["cl"].result_list) == [voucher]
    assert list(client.get(url, {"status": "active"}).context["cl"].result_list) == []


def test_cancel_action(client, staff_a, staff_b, voucher):
    url = reverse("admin:vouchers_voucher_changelist")
    client.force_login(staff_b)
    client.post(url, {"action": "cancel_selected", "_selected_action": [voucher.pk]})
    voucher.refresh_from_db()
    assert voucher.status == "active"

    client.force_login(staff_a)
    client.post(url, {"action": "cancel_selected", "_selected_action": [voucher.pk]})

    voucher.refresh_from_db()
    assert voucher.status == "cancelled"
