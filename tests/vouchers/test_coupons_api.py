"""The v2 coupons API: the rewards catalogue, its stock, and redeeming points for vouchers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import LedgerEntry, Wallet
from customers.selectors import wallet_mismatches
from promotions.models import Category
from tests.builders import V2
from tests.factories import RewardFactory
from vouchers.models import Reward, StockChange, Voucher

pytestmark = pytest.mark.django_db

COUPON = {
    "name": "Vale R$ 20",
    "description": "Um vale de R$ 20 em compras",
    "points_cost": 100,
    "value": 20,
    "stock": 40,
    "starts_at": "2024-01-01",
    "voucher_valid_days": 30,
    "active": True,
}


def test_create_a_coupon(tenant):
    category = Category.objects.create(account=tenant.account, name="Vales")

    response = tenant.v2.post(f"{V2}/coupons", {**COUPON, "category": category.pk}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["points_cost"], body["value"], body["stock"], body["available"]) == (100, 20, 40, True)
    assert body["starts_at"] == "2024-01-01T03:00:00.000000Z"
    reward = Reward.objects.get()
    assert (reward.account, reward.category) == (tenant.account, category)
    change = StockChange.objects.get()
    assert (change.from_stock, change.to_stock, change.credential) == (0, 40, tenant.merchant.credential)
    categories = tenant.v2.get(f"{V2}/categories").json()["results"]
    assert categories[0]["coupon_count"] == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("points_cost", -1),
        ("value", -5),
        ("stock", -1),
        ("name", ""),
        ("ends_at", "2023-12-31"),
        ("category", 999999),
    ],
)
def test_invalid_coupons_are_400(tenant, field, value):
    response = tenant.v2.post(f"{V2}/coupons", {**COUPON, field: value}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Reward.objects.exists()


def test_a_category_of_another_account_is_refused(tenant, other_tenant):
    foreign = Category.objects.create(account=other_tenant.account, name="Vales")

    response = tenant.v2.post(f"{V2}/coupons", {**COUPON, "category": foreign.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["category"] == [f"No category with id {foreign.pk} in this account."]


def test_list_filters(tenant, other_tenant):
    RewardFactory(account=tenant.account, name="Cheap", points_cost=Decimal("50"))
    dear = RewardFactory(account=tenant.account, name="Dear", points_cost=Decimal("500"))
    RewardFactory(account=tenant.account, name="Empty", stock=0)
    RewardFactory(
        account=tenant.account,
        name="Ended",
        ends_at=timezone.now() - timedelta(days=1),
        starts_at=timezone.now() - timedelta(days=9),
    )
    RewardFactory(account=other_tenant.account, name="Foreign")

    def names(**params):
        response = tenant.v2.get(f"{V2}/coupons", params)
        assert response.status_code == 200, response.content
        return [row["name"] for row in response.json()["results"]]

    assert names() == ["Cheap", "Dear", "Empty", "Ended"]
    assert names(available="true") == ["Cheap", "Dear"]
    assert names(available="false") == ["Empty", "Ended"]
    assert names(max_points=100) == ["Cheap", "Empty", "Ended"]
    assert tenant.v2.get(f"{V2}/coupons/{dear.pk}").json()["name"] == "Dear"
    assert tenant.v2.get(f"{V2}/coupons", {"max_points": "lots"}).status_code == 400


def test_foreign_or_unknown_coupon_is_404(tenant, other_tenant):
    foreign = RewardFactory(account=other_tenant.account)

    for path in (f"{V2}/coupons/{foreign.pk}", f"{V2}/coupons/999999"):
        assert tenant.v2.get(path).status_code == 404
        assert tenant.v2.patch(f"{path}/stock", {"stock": 1}, format="json").status_code == 404
    assert Reward.objects.get().stock == 10


def test_stock_is_set_or_moved_and_every_change_recorded(tenant, reward):
    set_response = tenant.v2.patch(f"{V2}/coupons/{reward.pk}/stock", {"stock": 40}, format="json")
    moved = tenant.v2.patch(
        f"{V2}/coupons/{reward.pk}/stock", {"delta": -3, "reason": "Damaged"}, format="json"
    )

    assert set_response.json()["stock"] == 40
    assert moved.json()["stock"] == 37
    history = list(
        StockChange.objects.filter(reward=reward)
        .order_by("id")
        .values_list("from_stock", "to_stock", "reason")
    )
    assert history == [(0, 5, "Created"), (5, 40, "Set"), (40, 37, "Damaged")]


def test_stock_never_goes_below_zero(tenant, reward):
    response = tenant.v2.patch(f"{V2}/coupons/{reward.pk}/stock", {"delta": -6}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "stock_below_zero"
    assert response.json()["stock"] == 5
    reward.refresh_from_db()
    assert reward.stock == 5


@pytest.mark.parametrize("body", [{}, {"stock": 1, "delta": 1}, {"stock": -1}, {"delta": "x"}])
def test_stock_change_needs_exactly_one_valid_value(tenant, reward, body):
    assert tenant.v2.patch(f"{V2}/coupons/{reward.pk}/stock", body, format="json").status_code == 400


def test_redeem_debits_points_takes_stock_and_issues_a_voucher(tenant, maria, reward):
    response = tenant.v2.post(f"{V2}/coupons/{reward.pk}/redeem", {"cpf": "539.335.150-09"}, format="json")

    assert response.status_code == 201, response.content
    voucher = response.json()
    assert (voucher["value"], voucher["status"], voucher["customer_id"], voucher["coupon"]) == (
        20,
        "active",
        maria.pk,
        reward.pk,
    )
    assert Wallet.objects.get(customer=maria).points == Decimal("150.00")
    reward.refresh_from_db()
    assert reward.stock == 4
    entry = LedgerEntry.objects.get(kind="points_redeem")
    assert (entry.points, entry.voucher.code) == (Decimal("-100.00"), voucher["code"])
    assert StockChange.objects.filter(reward=reward, voucher__code=voucher["code"]).exists()
    assert wallet_mismatches() == []


def test_redeem_by_customer_id(tenant, maria, reward):
    response = tenant.v2.post(f"{V2}/coupons/{reward.pk}/redeem", {"customer_id": maria.pk}, format="json")

    assert response.status_code == 201


def test_redeem_without_stock_is_409_and_changes_nothing(tenant, maria, reward):
    tenant.v2.patch(f"{V2}/coupons/{reward.pk}/stock", {"stock": 0}, format="json")

    response = tenant.v2.post(f"{V2}/coupons/{reward.pk}/redeem", {"customer_id": maria.pk}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert Wallet.objects.get(customer=maria).points == Decimal("250.00")
    assert not Voucher.objects.exists()


def test_redeem_with_too_few_points_is_422_and_changes_nothing(tenant, maria, reward):
    reward.points_cost = Decimal("300")
    reward.save()

    response = tenant.v2.post(f"{V2}/coupons/{reward.pk}/redeem", {"customer_id": maria.pk}, format="json")

    assert response.status_code == 422
    assert response.json()["code"] == "insufficient_points"
    assert response.json()["available"]["points"] == 250
    reward.refresh_from_db()
    assert reward.stock == 5
    assert not Voucher.objects.exists()


def test_an_inactive_reward_cannot_be_redeemed(tenant, maria):
    inactive = RewardFactory(account=tenant.account, active=False)

    response = tenant.v2.post(f"{V2}/coupons/{inactive.pk}/redeem", {"customer_id": maria.pk}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "reward_inactive"


@pytest.mark.parametrize("body", [{}, {"customer_id": 999999}, {"cpf": "11144477735"}, {"cpf": "123"}])
def test_redeem_needs_a_customer_of_the_account(tenant, maria, reward, body):
    assert tenant.v2.post(f"{V2}/coupons/{reward.pk}/redeem", body, format="json").status_code == 400
