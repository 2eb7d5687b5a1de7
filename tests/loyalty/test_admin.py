"""The admin of accounts, stores and credentials: scoping and secrets shown once."""

import re
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from loyalty.tenancy.models import Account, ApiCredential, Store
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

    posted = client.post(reverse("admin:loyalty_store_add"), {"name": "Loja Sul"})

    # Post, redirect, get: reloading the page that shows the token never posts again.
    assert posted.status_code == 302
    assert posted["Location"].startswith(reverse("admin:loyalty_store_reveal") + "?shown=")
    response = client.get(posted["Location"])
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = re.search(r'class="revealed-secret">([^<]+)<', response.content.decode()).group(1)
    reloaded = client.get(posted["Location"]).content.decode()
    assert token not in reloaded
    assert "already shown" in reloaded
    assert Store.objects.filter(name="Loja Sul").count() == 1
    assert "loyalty_issued_secrets" not in client.session  # nothing left waiting
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

    response = client.post(reverse("admin:loyalty_apicredential_add"), {"name": "E-commerce"}, follow=True)

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


def test_regenerate_secret_action_asks_first_then_reveals_a_working_secret(client, staff_a, tenant):
    client.force_login(staff_a)
    chosen = {"action": "regenerate_secret", "_selected_action": [tenant.merchant.credential.pk]}

    asked = client.post(reverse("admin:loyalty_apicredential_changelist"), chosen)

    assert asked.status_code == 200
    assert "stops working at once" in asked.content.decode()
    assert reverse("admin:loyalty_apicredential_changelist") in asked.content.decode()  # the way back
    assert tenant.v2.get("/api/v2/account").status_code == 200  # nothing changed yet

    response = client.post(
        reverse("admin:loyalty_apicredential_changelist"), {**chosen, "post": "yes"}, follow=True
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


# --- the account's program settings ----------------------------------------------------------

SETTINGS_FORM = {
    "name": "Mercado Alfa",
    "time_zone": "America/Manaus",
    "expiry_inactivity_days": "365",
    "expiry_reminder_days": "10",
    "redeem_max_share": "50",
    "redeem_min_purchase": "20.00",
    "redeem_min_balance": "5.00",
}


def change_form(client, account, **fields):
    """POST the account's change form: the settings, and the store inline's empty formset."""
    store_count = account.stores.count()
    return client.post(
        reverse("admin:loyalty_account_change", args=[account.pk]),
        {
            **SETTINGS_FORM,
            **fields,
            "stores-TOTAL_FORMS": str(store_count),
            "stores-INITIAL_FORMS": str(store_count),
            **{f"stores-{index}-id": str(store.pk) for index, store in enumerate(account.stores.all())},
            **{f"stores-{index}-account": str(account.pk) for index in range(store_count)},
        },
    )


def test_the_account_page_shows_the_program_settings_with_their_help(client, staff_a, merchant):
    client.force_login(staff_a)

    response = client.get(reverse("admin:loyalty_account_change", args=[merchant.account.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Program settings" in html
    assert "New settings apply to new grants" in html
    for name in (
        "time_zone",
        "expiry_inactivity_days",
        "expiry_reminder_days",
        "redeem_max_share",
        "redeem_min_purchase",
        "redeem_min_balance",
    ):
        assert f'name="{name}"' in html, name
    assert "each purchase pushes it back" in html  # the help of expiry_inactivity_days
    assert "0: no reminder" in html
    assert 'name="is_active"' not in html  # staff do not switch accounts off


def test_staff_change_the_settings_of_their_own_account(client, staff_a, merchant):
    client.force_login(staff_a)

    response = change_form(client, merchant.account)

    assert response.status_code == 302, response.context["adminform"].form.errors
    account = Account.objects.get(pk=merchant.account.pk)
    assert (account.time_zone, account.expiry_inactivity_days, account.expiry_reminder_days) == (
        "America/Manaus",
        365,
        10,
    )
    assert (account.redeem_max_share, account.redeem_min_purchase) == (Decimal("50"), Decimal("20"))
    assert account.is_active


@pytest.mark.parametrize(
    ("field", "value"),
    [("expiry_inactivity_days", "29"), ("expiry_reminder_days", "400"), ("redeem_max_share", "0")],
)
def test_the_admin_refuses_the_settings_the_api_refuses(client, staff_a, merchant, field, value):
    client.force_login(staff_a)

    response = change_form(client, merchant.account, **{field: value})

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert Account.objects.get(pk=merchant.account.pk).expiry_reminder_days == 7


def test_staff_cannot_change_another_accounts_settings(client, staff_b, merchant):
    client.force_login(staff_b)

    change_form(client, merchant.account)

    assert Account.objects.get(pk=merchant.account.pk).expiry_inactivity_days is None


def test_values_left_unshown_are_forgotten_after_a_few_minutes(client, staff_a, merchant):
    client.force_login(staff_a)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        posted = client.post(reverse("admin:loyalty_store_add"), {"name": "Loja Norte"})
        traveller.shift(301)
        late = client.get(posted["Location"]).content.decode()

    assert "already shown" in late
    assert "revealed-secret" not in late
    assert "loyalty_issued_secrets" not in client.session


def test_a_reveal_page_shows_only_its_own_models_values(client, staff_a, merchant):
    client.force_login(staff_a)
    posted = client.post(reverse("admin:loyalty_store_add"), {"name": "Loja Leste"})
    key = posted["Location"].split("?", 1)[1]

    other = client.get(f"{reverse('admin:loyalty_apicredential_reveal')}?{key}").content.decode()

    assert "revealed-secret" not in other


def test_a_view_only_user_cannot_retire_rules_or_regenerate_secrets(client, tenant):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from loyalty.engine.program import rule_create
    from loyalty.tenancy.models import Membership

    rule = rule_create(account=tenant.account, name="5%", kind="cashback", value=Decimal("5"))
    viewer = get_user_model().objects.create_user(username="viewer", password="pw", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    Membership.objects.create(user=viewer, account=tenant.account)
    client.force_login(viewer)

    client.post(
        reverse("admin:loyalty_rewardrule_changelist"),
        {"action": "retire_selected", "_selected_action": [rule.pk]},
    )
    client.post(
        reverse("admin:loyalty_store_changelist"),
        {"action": "regenerate_token", "_selected_action": [tenant.store.pk], "post": "yes"},
    )

    rule.refresh_from_db()
    assert rule.active
    assert tenant.pos.get(f"{POS}/store").status_code == 200  # the token still works


@pytest.mark.language("pt-br")
def test_ids_of_a_thousand_and_more_are_never_grouped_in_forms(client, staff_a, tenant):
    Store.objects.filter(pk=tenant.store.pk).update(id=1234)  # nothing points at it yet
    client.force_login(staff_a)

    asked = client.post(
        reverse("admin:loyalty_store_changelist"), {"action": "regenerate_token", "_selected_action": [1234]}
    ).content.decode()

    assert 'value="1234"' in asked
    assert "1.234" not in asked
