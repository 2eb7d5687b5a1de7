"""Authentication of the POS dialect: bearer token AND the X-Store-Token of an active store."""

import pytest

from loyalty.tenancy.services import store_create, store_regenerate_token, store_set_active
from tests.builders import POS

pytestmark = pytest.mark.django_db


def test_both_headers_identify_the_store(tenant):
    response = tenant.pos.get(f"{POS}/store")

    assert response.status_code == 200
    assert response.json()["id"] == tenant.store.pk
    assert response.json()["account"]["id"] == tenant.account.pk


def test_any_store_of_the_account_may_sign(tenant, anonymous):
    second, token = store_create(account=tenant.account, name="Loja Norte")
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}", HTTP_X_STORE_TOKEN=token)

    assert anonymous.get(f"{POS}/store").json()["id"] == second.pk


def test_without_store_token_is_401_naming_the_header(tenant, anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}")

    response = anonymous.get(f"{POS}/store")

    assert response.status_code == 401
    assert response.json()["code"] == "store_token_missing"
    assert "X-Store-Token" in response.json()["detail"]


def test_without_bearer_is_401_naming_authorization(tenant, anonymous):
    anonymous.credentials(HTTP_X_STORE_TOKEN=tenant.merchant.store_token)

    response = anonymous.get(f"{POS}/store")

    assert response.status_code == 401
    assert response.json()["code"] == "authorization_missing"


def test_unknown_store_token_is_401(tenant, anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}", HTTP_X_STORE_TOKEN="st_nope")

    response = anonymous.get(f"{POS}/store")

    assert response.status_code == 401
    assert response.json()["code"] == "store_token_invalid"


def test_store_of_another_account_answers_like_an_unknown_token(tenant, other_merchant, anonymous):
    anonymous.credentials(
        HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}", HTTP_X_STORE_TOKEN=other_merchant.store_token
    )

    response = anonymous.get(f"{POS}/store")

    assert response.status_code == 401
    assert response.json()["code"] == "store_token_invalid"


def test_deactivated_store_is_refused_at_once(tenant):
    assert tenant.pos.get(f"{POS}/store").status_code == 200

    store_set_active(store=tenant.store, active=False)
    response = tenant.pos.get(f"{POS}/store")

    assert response.status_code == 401
    assert response.json()["code"] == "store_inactive"


def test_regenerated_store_token_replaces_the_old_one(tenant, anonymous):
    new_token = store_regenerate_token(store=tenant.store)

    assert tenant.pos.get(f"{POS}/store").status_code == 401
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}", HTTP_X_STORE_TOKEN=new_token)
    assert anonymous.get(f"{POS}/store").status_code == 200


def test_store_token_is_kept_only_as_a_digest(merchant):
    merchant.store.refresh_from_db()

    assert merchant.store_token not in merchant.store.token_digest
    assert merchant.api_secret not in merchant.credential.secret_hash
    assert merchant.credential.secret_hash.startswith(("pbkdf2_", "md5$", "argon2", "bcrypt"))


def test_pos_authentication_costs_one_query(tenant, django_assert_num_queries):
    # The credential, its account and the store of the X-Store-Token, together.
    with django_assert_num_queries(1):
        assert tenant.pos.get(f"{POS}/store").status_code == 200
