"""The token endpoint and the bearer authentication of the server-to-server dialect."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import get_hasher
from django.test import override_settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from loyalty.tenancy.models import Account, ApiCredential
from loyalty.tenancy.services import credential_regenerate_secret, credential_set_active
from tests.builders import POS, V2, make_tenant

pytestmark = pytest.mark.django_db


def post_token(client, api_key, api_secret, prefix=V2):
    return client.post(f"{prefix}/auth/token", {"api_key": api_key, "api_secret": api_secret}, format="json")


def test_good_credentials_get_a_bearer_token(anonymous, merchant):
    response = post_token(anonymous, merchant.credential.api_key, merchant.api_secret)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    claims = AccessToken(body["access_token"])
    assert claims["account_id"] == merchant.account.pk
    assert claims["credential_id"] == merchant.credential.pk
    merchant.credential.refresh_from_db()
    assert merchant.credential.last_used_at is not None


def test_the_token_authenticates_the_v2_dialect(tenant):
    response = tenant.v2.get(f"{V2}/account")

    assert response.status_code == 200
    assert response.json()["id"] == tenant.account.pk
    assert response.json()["credential"]["api_key"] == tenant.merchant.credential.api_key


def test_pos_alias_answers_the_same_token(anonymous, merchant):
    response = post_token(anonymous, merchant.credential.api_key, merchant.api_secret, prefix=POS)

    assert response.status_code == 200
    assert AccessToken(response.json()["access_token"])["account_id"] == merchant.account.pk


INVALID = {"detail": "Invalid api_key or api_secret.", "code": "invalid_credentials"}


def test_unknown_key_and_wrong_secret_get_the_same_401(anonymous, merchant):
    wrong_secret = post_token(anonymous, merchant.credential.api_key, "sk_wrong")
    unknown_key = post_token(anonymous, "ak_unknown", merchant.api_secret)

    assert (wrong_secret.status_code, wrong_secret.json()) == (401, INVALID)
    assert (unknown_key.status_code, unknown_key.content) == (401, wrong_secret.content)
    assert dict(unknown_key.headers) == dict(wrong_secret.headers)


@pytest.mark.parametrize("switched_off", ["credential", "account"])
def test_a_deactivated_credential_is_not_revealed_to_a_wrong_secret(anonymous, merchant, switched_off):
    if switched_off == "credential":
        credential_set_active(credential=merchant.credential, active=False)
    else:
        Account.objects.filter(pk=merchant.account.pk).update(is_active=False)

    response = post_token(anonymous, merchant.credential.api_key, "sk_wrong")

    assert (response.status_code, response.json()) == (401, INVALID)


def test_an_unknown_key_costs_the_same_hash_as_a_wrong_secret(anonymous, merchant, monkeypatch):
    hasher = type(get_hasher())
    hashed = []
    encode = hasher.encode
    monkeypatch.setattr(
        hasher, "encode", lambda self, *args, **kwargs: hashed.append(1) or encode(self, *args, **kwargs)
    )

    post_token(anonymous, merchant.credential.api_key, "sk_wrong")
    wrong_secret_hashes = len(hashed)
    post_token(anonymous, "ak_unknown", "sk_wrong")

    assert wrong_secret_hashes == 1
    assert len(hashed) - wrong_secret_hashes == 1


def test_missing_fields_are_400_per_field(anonymous):
    response = anonymous.post(f"{V2}/auth/token", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"api_key", "api_secret"}


def test_deactivated_credential_gets_no_token(anonymous, merchant):
    credential_set_active(credential=merchant.credential, active=False)

    response = post_token(anonymous, merchant.credential.api_key, merchant.api_secret)

    assert response.status_code == 401
    assert response.json() == {"detail": "This API credential is deactivated.", "code": "credential_inactive"}


def test_deactivated_account_gets_no_token(anonymous, merchant):
    Account.objects.filter(pk=merchant.account.pk).update(is_active=False)

    response = post_token(anonymous, merchant.credential.api_key, merchant.api_secret)

    assert response.status_code == 401
    assert response.json()["code"] == "account_inactive"


def test_deactivation_refuses_tokens_issued_before(tenant):
    assert tenant.v2.get(f"{V2}/account").status_code == 200

    credential_set_active(credential=tenant.merchant.credential, active=False)
    response = tenant.v2.get(f"{V2}/account")

    assert response.status_code == 401
    assert response.json()["code"] == "credential_inactive"


def test_regenerating_the_secret_revokes_earlier_tokens(tenant, anonymous):
    new_secret = credential_regenerate_secret(credential=tenant.merchant.credential)

    assert tenant.v2.get(f"{V2}/account").status_code == 401
    assert (
        post_token(anonymous, tenant.merchant.credential.api_key, tenant.merchant.api_secret).status_code
        == 401
    )
    assert post_token(anonymous, tenant.merchant.credential.api_key, new_secret).status_code == 200


def test_expired_token_is_401(merchant, anonymous):
    token = AccessToken()
    token["account_id"] = merchant.account.pk
    token["credential_id"] = merchant.credential.pk
    token["generation"] = merchant.credential.secret_generation
    token.set_exp(from_time=timezone.now() - timedelta(hours=2))
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = anonymous.get(f"{V2}/account")

    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_tampered_token_is_401(tenant, anonymous):
    header, payload, signature = tenant.access_token.split(".")
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {header}.{payload}.{signature[::-1]}")

    response = anonymous.get(f"{V2}/account")

    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_token_of_a_deleted_credential_is_refused(tenant):
    ApiCredential.objects.filter(pk=tenant.merchant.credential.pk).update(secret_generation=99)

    response = tenant.v2.get(f"{V2}/account")

    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "authorization_missing"),
        ("Token abc", "authorization_malformed"),
        ("Bearer", "authorization_malformed"),
    ],
)
def test_missing_or_malformed_authorization_header(anonymous, merchant, header, code):
    if header:
        anonymous.credentials(HTTP_AUTHORIZATION=header)

    response = anonymous.get(f"{V2}/account")

    assert response.status_code == 401
    assert response.json()["code"] == code
    assert "Authorization" in response.json()["detail"]


def test_token_endpoint_is_throttled(anonymous, merchant):
    rates = {"auth_token": "3/min", "auth_token_api_key": "10/min", "voucher_validate": "10/min"}
    with override_settings(API_THROTTLE_RATES=rates):
        statuses = [
            post_token(anonymous, merchant.credential.api_key, "sk_guess").status_code for _ in range(4)
        ]
        response = post_token(anonymous, merchant.credential.api_key, merchant.api_secret)

    assert statuses == [401, 401, 401, 429]
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"


def test_the_v2_account_endpoint_answers_in_one_query_per_auth_step(tenant, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert tenant.v2.get(f"{V2}/account").status_code == 200


def test_another_merchant_token_sees_its_own_account(tenant, other_merchant):
    other = make_tenant(other_merchant)

    assert other.v2.get(f"{V2}/account").json()["id"] == other_merchant.account.pk
