"""The v2 vouchers API: lists, lookup by code, validation and use."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from tests.builders import V2
from vouchers.models import Voucher
from vouchers.services import reward_redeem, voucher_cancel, voucher_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def voucher(maria, reward):
    return reward_redeem(reward=reward, customer=maria)


def validate(tenant, code):
    return tenant.v2.post(f"{V2}/vouchers/{code}/validate")


def test_get_by_code_in_any_case(tenant, voucher):
    response = tenant.v2.get(f"{V2}/vouchers/{voucher.code.lower()}")

    assert response.status_code == 200
    assert response.json()["code"] == voucher.code
    assert response.json()["cpf"] == "53933515009"


def test_valid_voucher_validates_and_nothing_changes(tenant, voucher):
    response = validate(tenant, voucher.code.lower())

    assert response.status_code == 200
    assert response.json()["valid"] is True
    assert response.json()["reason"] is None
    assert response.json()["voucher"]["code"] == voucher.code
    voucher.refresh_from_db()
    assert voucher.status == "active"


@pytest.mark.parametrize("reason", ["used", "expired", "cancelled", "not_yet_valid"])
def test_validation_reasons(tenant, voucher, reason):
    now = timezone.now()
    if reason == "used":
        tenant.v2.post(f"{V2}/vouchers/{voucher.code}/use", {"reference": "S1"}, format="json")
    elif reason == "expired":
        Voucher.objects.filter(pk=voucher.pk).update(valid_until=now - timedelta(seconds=1))
    elif reason == "cancelled":
        voucher_cancel(voucher=voucher)
    else:
        Voucher.objects.filter(pk=voucher.pk).update(valid_from=now + timedelta(days=1))

    response = validate(tenant, voucher.code)

    assert response.json()["valid"] is False
    assert response.json()["reason"] == reason


def test_unknown_or_foreign_code_is_404(tenant, other_tenant, voucher):
    assert validate(tenant, "ZZZZZZZZZZZZ").status_code == 404
    assert validate(other_tenant, voucher.code).status_code == 404
    assert other_tenant.v2.get(f"{V2}/vouchers/{voucher.code}").status_code == 404
    assert (
        other_tenant.v2.post(
            f"{V2}/vouchers/{voucher.code}/use", {"reference": "X"}, format="json"
        ).status_code
        == 404
    )
    voucher.refresh_from_db()
    assert voucher.status == "active"


def test_use_once_then_409(tenant, voucher):
    first = tenant.v2.post(
        f"{V2}/vouchers/{voucher.code}/use", {"reference": "SALE-9", "store": tenant.store.pk}, format="json"
    )
    second = tenant.v2.post(f"{V2}/vouchers/{voucher.code}/use", {"reference": "SALE-10"}, format="json")

    assert first.status_code == 200
    assert (first.json()["status"], first.json()["used_reference"], first.json()["used_store"]) == (
        "used",
        "SALE-9",
        tenant.store.pk,
    )
    assert second.status_code == 409
    assert second.json()["code"] == "voucher_used"
    assert second.json()["reason"] == "used"


def test_an_expired_voucher_cannot_be_used(tenant, voucher):
    Voucher.objects.filter(pk=voucher.pk).update(valid_until=timezone.now() - timedelta(seconds=1))

    response = tenant.v2.post(f"{V2}/vouchers/{voucher.code}/use", {"reference": "S"}, format="json")

    assert response.status_code == 409
    assert response.json()["reason"] == "expired"


@pytest.mark.parametrize("body", [{}, {"reference": "S", "store": 999999}])
def test_use_needs_a_reference_and_an_own_store(tenant, voucher, body):
    assert tenant.v2.post(f"{V2}/vouchers/{voucher.code}/use", body, format="json").status_code == 400


def test_list_filters(tenant, maria, reward, voucher):
    used = voucher_issue(account=tenant.account, customer=maria, value=reward.value, reward=reward)
    tenant.v2.post(f"{V2}/vouchers/{used.code}/use", {"reference": "S"}, format="json")
    expired = voucher_issue(account=tenant.account, customer=maria, value=reward.value, reward=reward)
    Voucher.objects.filter(pk=expired.pk).update(valid_until=timezone.now() - timedelta(seconds=1))

    def codes(**params):
        response = tenant.v2.get(f"{V2}/vouchers", params)
        assert response.status_code == 200, response.content
        return {row["code"] for row in response.json()["results"]}

    assert codes() == {voucher.code, used.code, expired.code}
    assert codes(status="active") == {voucher.code}
    assert codes(status="used") == {used.code}
    assert codes(status="expired") == {expired.code}
    assert codes(customer_id=maria.pk, cpf="539.335.150-09", coupon=reward.pk) == codes()
    assert codes(coupon=999999) == set()
    assert tenant.v2.get(f"{V2}/vouchers", {"status": "lost"}).status_code == 400


@override_settings(API_THROTTLE_RATES={"auth_token": "100/min", "voucher_validate": "3/min"})
def test_validation_is_throttled_per_credential(tenant, other_tenant, voucher):
    statuses = [validate(tenant, "ZZZZZZZZZZZZ").status_code for _ in range(4)]

    assert statuses == [404, 404, 404, 429]
    assert int(validate(tenant, voucher.code)["Retry-After"]) > 0
    assert validate(other_tenant, "ZZZZZZZZZZZZ").status_code == 404  # another credential has its own budget
