"""The *Simulate* button of a reward rule in the admin: the rule as its form holds it — new or
being changed, never saved — replayed over the account's sales, with the same numbers as the
API, in Portuguese; a long period on the background job with a progress bar; each account's own."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from loyalty.engine.models import RewardRule
from loyalty.engine.program import rule_create
from loyalty.engine.simulation.models import Simulation
from loyalty.engine.simulation.runs import simulations_run_due
from loyalty.shell.demo import seed_demo
from tests.builders import obtain_token
from tests.loyalty.test_simulation import SIMULATE, sale

pytestmark = pytest.mark.django_db

SIMULATE_PAGE = reverse("admin:loyalty_rewardrule_simulate")
DOUBLE_SATURDAYS = {"name": "Double points on Saturdays", "kind": "points", "value": 1, "weekdays": [5]}
FORM_OF_DOUBLE_SATURDAYS = {
    "name": "Double points on Saturdays",
    "kind": "points",
    "value": "1",
    "active": "on",
    "weekdays": ["5"],
    "excluded_payment_methods": ["9"],
    "minimum_amount": "0",
}


def recent(weekday: int, weeks_back: int = 1) -> str:
    """A local day of the last weeks with this weekday (0 = Monday), as the API takes it."""
    today = timezone.localdate()
    day = today - timedelta(days=(today.weekday() - weekday) % 7 + 7 * weeks_back)
    return day.isoformat()


@pytest.fixture
def history(tenant):
    rule_create(account=tenant.account, name="1 point per R$", kind="points", value=Decimal("1"))
    sale(tenant, 1, "100.00", recent(5), store=tenant.store)
    sale(tenant, 2, "50.50", recent(5), store=tenant.store)
    sale(tenant, 1, "20.25", recent(5, 2))
    sale(tenant, 3, "80.00", recent(0))


def answered(v2: APIClient, body: dict) -> dict:
    response = v2.post(SIMULATE, body, format="json")
    assert response.status_code == 200, response.content
    return {name: value for name, value in response.json().items() if name != "id"}


@pytest.mark.language("pt-br")
def test_a_new_rule_is_simulated_from_its_form_with_the_apis_numbers_in_portuguese(
    client, staff_a, tenant, history
):
    client.force_login(staff_a)

    page = client.post(SIMULATE_PAGE, FORM_OF_DOUBLE_SATURDAYS)

    assert page.status_code == 200
    simulation = Simulation.objects.get()
    assert simulation.status == "done"
    assert simulation.result == answered(tenant.v2, {"add": [DOUBLE_SATURDAYS]})
    assert simulation.result["difference"]["points"] == 170.75
    html = page.content.decode()
    assert "O que custaria" in html
    assert "+170,75" in html  # the points' difference, written as a Brazilian reads it
    assert 'class="draft" points="' in html
    assert not RewardRule.objects.filter(name="Double points on Saturdays").exists()


def test_a_rule_being_changed_is_simulated_without_touching_it(client, staff_a, tenant, history):
    rule = RewardRule.objects.get(account=tenant.account)
    client.force_login(staff_a)
    url = f"{SIMULATE_PAGE}?rule={rule.pk}"

    page = client.post(
        url, {**FORM_OF_DOUBLE_SATURDAYS, "name": "1 point per R$", "value": "3", "weekdays": []}
    )

    assert page.status_code == 200
    result = Simulation.objects.get().result
    assert result == answered(tenant.v2, {"change": [{"id": rule.pk, "value": 3, "weekdays": []}]})
    assert result["difference"]["points"] == 2 * 250.75
    rule.refresh_from_db()
    assert (rule.value, rule.weekdays) == (Decimal("1"), [])


def test_the_rule_page_has_the_button(client, staff_a, tenant, history):
    rule = RewardRule.objects.get(account=tenant.account)
    client.force_login(staff_a)

    change = client.get(reverse("admin:loyalty_rewardrule_change", args=[rule.pk])).content.decode()
    add = client.get(reverse("admin:loyalty_rewardrule_add")).content.decode()

    assert f'formaction="{SIMULATE_PAGE}?rule={rule.pk}"' in change
    assert f'formaction="{SIMULATE_PAGE}"' in add


def test_a_rule_that_would_not_save_shows_why_and_simulates_nothing(client, staff_a, tenant, history):
    client.force_login(staff_a)

    page = client.post(SIMULATE_PAGE, {**FORM_OF_DOUBLE_SATURDAYS, "kind": "voucher", "value": "10"})

    assert page.status_code == 200
    assert 'id="rule-errors"' in page.content.decode()
    assert not Simulation.objects.exists()


@pytest.mark.language("pt-br")
def test_the_period_and_stores_are_chosen_on_the_page(client, staff_a, tenant, history):
    client.force_login(staff_a)
    saturday = timezone.datetime.fromisoformat(recent(5)).date()

    page = client.post(
        SIMULATE_PAGE,
        {
            **FORM_OF_DOUBLE_SATURDAYS,
            "sim-date_from": saturday.strftime("%d/%m/%Y"),
            "sim-date_to": saturday.strftime("%d/%m/%Y"),
            "sim-stores": [tenant.store.pk],
        },
    )

    assert page.status_code == 200
    result = Simulation.objects.get().result
    assert (result["date_from"], result["date_to"], result["store_ids"]) == (
        saturday.isoformat(),
        saturday.isoformat(),
        [tenant.store.pk],
    )
    assert (result["sales"], result["difference"]["points"]) == (2, 150.5)
    backwards = client.post(
        SIMULATE_PAGE,
        {**FORM_OF_DOUBLE_SATURDAYS, "sim-date_from": "02/06/2024", "sim-date_to": "01/06/2024"},
    )
    assert "sim-date_to" in backwards.content.decode()
    assert Simulation.objects.count() == 1


def test_a_long_period_runs_in_the_background_with_a_progress_bar(client, staff_a, tenant, history, settings):
    settings.SIMULATION_INLINE_MAX_SALES = 1
    client.force_login(staff_a)

    page = client.post(SIMULATE_PAGE, FORM_OF_DOUBLE_SATURDAYS)

    simulation = Simulation.objects.get()
    html = page.content.decode()
    assert '<progress max="1" value="0.0">' in html
    progress_url = reverse("admin:loyalty_rewardrule_simulation_progress", args=[simulation.pk])
    assert json.loads(client.get(progress_url).content) == {"status": "queued", "progress": 0.0, "error": ""}

    simulations_run_due()

    assert json.loads(client.get(progress_url).content)["status"] == "done"
    answer = client.get(f"{SIMULATE_PAGE}?simulation={simulation.pk}")
    assert 'id="simulation-totals"' in answer.content.decode()


def test_a_simulation_is_its_accounts_own_in_the_admin(client, staff_a, staff_b, tenant, history):
    client.force_login(staff_a)
    client.post(SIMULATE_PAGE, FORM_OF_DOUBLE_SATURDAYS)
    simulation = Simulation.objects.get()
    rule = RewardRule.objects.get(account=tenant.account)
    client.force_login(staff_b)

    assert client.get(f"{SIMULATE_PAGE}?simulation={simulation.pk}").status_code == 404
    progress_url = reverse("admin:loyalty_rewardrule_simulation_progress", args=[simulation.pk])
    assert client.get(progress_url).status_code == 404
    assert client.post(f"{SIMULATE_PAGE}?rule={rule.pk}", FORM_OF_DOUBLE_SATURDAYS).status_code == 404
    assert Simulation.objects.count() == 1


def test_on_the_demo_data_the_admin_and_the_api_show_the_same_numbers(client):
    demo = seed_demo()
    v2 = APIClient()
    v2.credentials(HTTP_AUTHORIZATION=f"Bearer {obtain_token(demo.api_key, demo.api_secret)}")
    client.login(username=demo.staff_username, password=demo.staff_password)

    page = client.post(SIMULATE_PAGE, FORM_OF_DOUBLE_SATURDAYS)

    assert page.status_code == 200
    admin_result = Simulation.objects.get().result
    assert admin_result == answered(v2, {"add": [DOUBLE_SATURDAYS]})
    assert admin_result["sales"] == 3
