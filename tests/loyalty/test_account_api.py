"""`/api/v2/account`: the caller's account and its program settings, read and changed by API."""

from decimal import Decimal

import pytest

from loyalty.tenancy.models import Account
from tests.builders import V2
from tests.openapi import api_schema, assert_documented

pytestmark = pytest.mark.django_db

ACCOUNT = f"{V2}/account"
SETTINGS = (
    "time_zone",
    "expiry_inactivity_days",
    "expiry_reminder_days",
    "redeem_max_share",
    "redeem_min_purchase",
    "redeem_min_balance",
)


def patch(tenant, body, **headers):
    return tenant.v2.patch(ACCOUNT, body, format="json", **headers)


def stored(account) -> dict:
    return {
        field.attname: getattr(Account.objects.get(pk=account.pk), field.attname)
        for field in Account._meta.concrete_fields
    }


def test_the_account_answers_its_settings_and_keeps_what_it_answered_before(tenant):
    response = tenant.v2.get(ACCOUNT)

    assert response.status_code == 200
    body = response.json()
    account, credential = tenant.account, tenant.merchant.credential
    # What the endpoint answered before the settings: unchanged.
    assert {name: body[name] for name in ("id", "name", "time_zone", "credential")} == {
        "id": account.pk,
        "name": "Mercado Alfa",
        "time_zone": "America/Sao_Paulo",
        "credential": {"name": credential.name, "api_key": credential.api_key},
    }
    assert body["created_at"].endswith("Z")
    assert {name: body[name] for name in (*SETTINGS[1:], "is_active")} == {
        "expiry_inactivity_days": None,
        "expiry_reminder_days": 7,
        "redeem_max_share": None,
        "redeem_min_purchase": 0,
        "redeem_min_balance": 0,
        "is_active": True,
    }
    assert_documented(response, "GET", ACCOUNT)


def test_every_setting_is_changed(tenant):
    response = patch(
        tenant,
        {
            "time_zone": "America/Manaus",
            "expiry_inactivity_days": 365,
            "expiry_reminder_days": 0,
            "redeem_max_share": "50.5",
            "redeem_min_purchase": 20,
            "redeem_min_balance": "5.25",
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert {name: body[name] for name in SETTINGS} == {
        "time_zone": "America/Manaus",
        "expiry_inactivity_days": 365,
        "expiry_reminder_days": 0,
        "redeem_max_share": 50.5,
        "redeem_min_purchase": 20,
        "redeem_min_balance": 5.25,
    }
    assert body["credential"]["api_key"] == tenant.merchant.credential.api_key
    account = Account.objects.get(pk=tenant.account.pk)
    assert (account.redeem_max_share, account.redeem_min_balance) == (Decimal("50.5"), Decimal("5.25"))
    assert account.expiry_inactivity_days == 365
    assert tenant.v2.get(ACCOUNT).json() == body
    assert_documented(response, "PATCH", ACCOUNT)


def test_a_patch_changes_only_what_it_sends_and_null_switches_off(tenant):
    patch(tenant, {"expiry_inactivity_days": 180, "redeem_max_share": 30})

    body = patch(tenant, {"expiry_inactivity_days": None}).json()

    assert body["expiry_inactivity_days"] is None
    assert body["redeem_max_share"] == 30
    assert body["time_zone"] == "America/Sao_Paulo"
    assert patch(tenant, {"redeem_max_share": None}).json()["redeem_max_share"] is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("expiry_inactivity_days", 29, "greater than or equal to 30"),
        ("expiry_inactivity_days", 0, "greater than or equal to 30"),
        ("expiry_inactivity_days", 3651, "less than or equal to 3650"),
        ("expiry_inactivity_days", "um ano", "valid integer"),
        ("expiry_reminder_days", -1, "greater than or equal to 0"),
        ("expiry_reminder_days", 366, "less than or equal to 365"),
        ("expiry_reminder_days", None, "may not be null"),
        ("time_zone", "Mars/Olympus_Mons", "Unknown time zone"),
        ("time_zone", "", "may not be blank"),
        ("time_zone", "x" * 65, "64"),
        ("redeem_max_share", 0, "greater than or equal to 0.01"),
        ("redeem_max_share", "100.01", "less than or equal to 100"),
        ("redeem_max_share", "0.001", "decimal places"),
        ("redeem_min_purchase", -0.01, "greater than or equal to 0"),
        ("redeem_min_purchase", None, "may not be null"),
        ("redeem_min_balance", -1, "greater than or equal to 0"),
        ("redeem_min_balance", "cinco", "valid number"),
    ],
)
def test_a_bad_setting_is_a_400_naming_it_and_changes_nothing(tenant, field, value, message):
    before = stored(tenant.account)

    response = patch(tenant, {"expiry_reminder_days": 3, field: value})

    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert message in str(response.json()[field])
    assert stored(tenant.account) == before
    assert_documented(response, "PATCH", ACCOUNT)


def test_the_name_the_state_and_the_credential_are_read_only(tenant, other_tenant):
    before = stored(tenant.account)
    clean = patch(tenant, {"expiry_reminder_days": 3}).json()

    tampered = patch(
        tenant,
        {
            "expiry_reminder_days": 3,
            "name": "Hacked",
            "is_active": False,
            "id": other_tenant.account.pk,
            "account": other_tenant.account.pk,
            "credential": {"name": "x", "api_key": "y"},
            "created_at": "2000-01-01T00:00:00Z",
        },
    )

    assert tampered.status_code == 200
    body = tampered.json()
    assert {key: value for key, value in body.items() if key != "updated_at"} == {
        key: value for key, value in clean.items() if key != "updated_at"
    }
    after = stored(tenant.account)
    assert (after["name"], after["is_active"], after["created_at"]) == (
        before["name"],
        True,
        before["created_at"],
    )
    assert stored(other_tenant.account)["expiry_reminder_days"] == 7
    assert tenant.v2.get(ACCOUNT).status_code == 200  # still active


def test_each_account_changes_only_its_own_settings(tenant, other_tenant):
    patch(other_tenant, {"expiry_inactivity_days": 90, "time_zone": "Europe/Lisbon"})

    assert Account.objects.get(pk=tenant.account.pk).expiry_inactivity_days is None
    assert tenant.v2.get(ACCOUNT).json()["time_zone"] == "America/Sao_Paulo"


def test_a_new_time_zone_reads_the_next_local_times(tenant):
    patch(tenant, {"time_zone": "Asia/Tokyo"})

    rule = tenant.v2.post(
        f"{V2}/rules",
        {"name": "R", "kind": "points", "value": 1, "starts_at": "2024-06-01 09:00"},
        format="json",
    ).json()

    assert rule["starts_at"] == "2024-06-01T00:00:00.000000Z"


def test_a_retried_patch_with_its_key_is_answered_as_first(tenant):
    first = patch(tenant, {"expiry_reminder_days": 3}, HTTP_IDEMPOTENCY_KEY="s-1")
    patch(tenant, {"expiry_reminder_days": 10})
    again = patch(tenant, {"expiry_reminder_days": 3}, HTTP_IDEMPOTENCY_KEY="s-1")
    reused = patch(tenant, {"expiry_reminder_days": 4}, HTTP_IDEMPOTENCY_KEY="s-1")

    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert reused.status_code == 422
    assert Account.objects.get(pk=tenant.account.pk).expiry_reminder_days == 10


def test_the_docs_say_new_settings_apply_to_new_grants():
    operation = api_schema()["paths"][ACCOUNT]["patch"]

    assert "New settings apply to new grants" in operation["description"]
    assert "lots already granted keep their expiry" in operation["description"]
    request = api_schema()["components"]["schemas"]["PatchedAccountSettingsRequest"]["properties"]
    assert set(request) == set(SETTINGS)


def test_get_and_patch_cost_few_queries(tenant, django_assert_num_queries):
    with django_assert_num_queries(1):  # the credential, with its account
        assert tenant.v2.get(ACCOUNT).status_code == 200
    # The savepoint, the update, the release (the credential is in memory since the GET).
    with django_assert_num_queries(3):
        assert patch(tenant, {"expiry_reminder_days": 3, "redeem_min_balance": 10}).status_code == 200
