"""The admin of accounts, stores and credentials: scoping and secrets shown once."""

import re

import pytest
from django.urls import reverse

from loyalty.tenancy.models import ApiCredential, Store
from tests.builders import POS, obtain_token

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("model", "attribute"), [("account", "account"), ("store", "store"), ("apicredential", "credential")]
)
def test_staff_of_b_sees_none_of_a(client, staff_b, merchant, other_merchant, model, attribute):
    client.force_login(staff_b)

    response = client.get(reverse(f"admin:loyalty_{model}_changelist"))

    assert response.status_code == 200
    html = response.content.decode()
    own = getattr(other_merchant, attribute)
    foreign = getattr(merchant, attribute)
    assert reverse(f"admin:loyalty_{model}_change", args=[own.pk]) in html
    assert reverse(f"admin:loyalty_{model}_change", args=[foreign.pk]) not in html
    assert merchant.account.name not in html
    assert merchant.credential.api_key not in html


def test_staff_of_b_cannot_open_a_store_of_a(client, staff_b, merchant):
    client.force_login(staff_b)

    response = client.get(reverse("admin:loyalty_store_change", args=[merchant.store.pk]))

    assert response.status_code == 302  # the admin's answer for an object outside the queryset
    assert response.url == reverse("admin:index")


def test_superuser_sees_every_account(client, superuser, merchant, other_merchant):
    client.force_login(superuser)

    html = client.get(reverse("admin:loyalty_account_changelist")).content.decode()

    assert merchant.account.name in html
    assert other_merchant.account.name in html


def test_store_filter_offers_only_own_accounts(client, staff_b, merchant, other_merchant):
    client.force_login(staff_b)

    html = client.get(reverse("admin:loyalty_store_changelist")).content.decode()

    assert f"account__id__exact={merchant.account.pk}" not in html


def test_adding_a_store_shows_its_token_once_and_the_token_works(client, staff_a, merchant):
    client.force_login(staff_a)

    response = client.post(reverse("admin:loyalty_store_add"), {"name": "Loja Sul"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = re.search(r'class="revealed-secret">([^<]+)<', response.content.decode()).group(1)
    store = Store.objects.get(name="Loja Sul")
    assert store.account == merchant.account
    assert token not in store.token_digest
    bearer = obtain_token(merchant.credential.api_key, merchant.api_secret)
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer}", HTTP_X_STORE_TOKEN=token)
    assert api.get(f"{POS}/store").json()["id"] == store.pk
    change_page = client.get(reverse("admin:loyalty_store_change", args=[store.pk])).content.decode()
    assert token not in change_page
    assert store.token_prefix in change_page


def test_adding_a_credential_shows_key_and_secret_once(client, staff_a, merchant):
    client.force_login(staff_a)

    response = client.post(reverse("admin:loyalty_apicredential_add"), {"name": "E-commerce"})

    values = re.findall(r'class="revealed-secret">([^<]+)<', response.content.decode())
    credential = ApiCredential.objects.get(name="E-commerce")
    assert values[0] == credential.api_key
    assert obtain_token(values[0], values[1])


def test_deactivate_action_refuses_the_store_at_once(client, staff_a, tenant):
    client.force_login(staff_a)

    client.post(
        reverse("admin:loyalty_store_changelist"),
        {"action": "deactivate", "_selected_action": [tenant.store.pk]},
    )

    assert tenant.pos.get(f"{POS}/store").status_code == 401


def test_regenerate_secret_action_reveals_a_working_secret(client, staff_a, tenant):
    client.force_login(staff_a)

    response = client.post(
        reverse("admin:loyalty_apicredential_changelist"),
        {"action": "regenerate_secret", "_selected_action": [tenant.merchant.credential.pk]},
    )

    secret = re.search(r'class="revealed-secret">([^<]+)<', response.content.decode()).group(1)
    assert tenant.v2.get("/api/v2/account").status_code == 401
    assert obtain_token(tenant.merchant.credential.api_key, secret)


def test_staff_cannot_act_on_another_accounts_store(client, staff_b, tenant):
    client.force_login(staff_b)

    client.post(
        reverse("admin:loyalty_store_changelist"),
        {"action": "deactivate", "_selected_action": [tenant.store.pk]},
    )

    assert tenant.pos.get(f"{POS}/store").status_code == 200


def test_memberships_are_for_superusers_only(client, staff_a):
    client.force_login(staff_a)

    assert client.get(reverse("admin:loyalty_membership_changelist")).status_code == 403
