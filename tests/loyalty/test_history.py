"""Who changed a rule, a promotion, a reward or a template, when, and each field's before and
after: kept on every save, by the admin or the API, and shown on the object's page."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from loyalty.backoffice.history import change_rows
from loyalty.engine.program import rule_create
from loyalty.outbox.services import message_template_create
from promotions.services import PromotionTerms, product_upsert, promotion_create
from tests.builders import V2
from tests.factories import RewardFactory

pytestmark = pytest.mark.django_db


def rule_form(**changes):
    return {
        "name": "5% cashback",
        "kind": "cashback",
        "value": "5",
        "active": "on",
        "excluded_payment_methods": ["9"],
        "minimum_amount": "0",
        **changes,
    }


def test_a_rule_changed_in_the_admin_names_the_person_and_each_field(client, staff_a, tenant):
    rule = rule_create(account=tenant.account, name="5% cashback", kind="cashback", value=Decimal("5"))
    client.force_login(staff_a)

    response = client.post(
        reverse("admin:loyalty_rewardrule_change", args=[rule.pk]),
        rule_form(value="7,5", name="Cashback 7,5%"),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    newest, created = rule.history.order_by("-history_id")
    assert (newest.history_user, newest.account_id, created.history_type) == (staff_a, tenant.account.pk, "+")
    (_when, who, what), _ = change_rows(rule)
    assert who == "staff-a"
    assert "value: 5 → 7.5" in what
    assert "name: 5% cashback → Cashback 7,5%" in what
    page = client.get(reverse("admin:loyalty_rewardrule_change", args=[rule.pk])).content.decode()
    assert "Change history" in page
    assert "7.5" in page


def test_a_change_through_the_api_is_kept_without_a_person(tenant):
    rule = rule_create(account=tenant.account, name="Points", kind="points", value=Decimal("1"))

    assert tenant.v2.patch(f"{V2}/rules/{rule.pk}", {"active": False}, format="json").status_code == 200

    (_, who, what), _ = change_rows(rule)
    assert who == "API or system"
    assert what == "active: yes → no"


@pytest.mark.language("pt-br")
def test_the_history_reads_in_portuguese(client, staff_a, tenant):
    rule = rule_create(account=tenant.account, name="Pontos", kind="points", value=Decimal("1"))
    client.force_login(staff_a)
    client.post(
        reverse("admin:loyalty_rewardrule_change", args=[rule.pk]),
        rule_form(name="Pontos", kind="points", value="2", starts_at_0="30/11/2026", starts_at_1="10:00"),
    )

    page = client.get(reverse("admin:loyalty_rewardrule_change", args=[rule.pk])).content.decode()

    assert "Histórico de alterações" in page
    assert "staff-a" in page
    assert "valor: 1 → 2" in page
    assert "início: — → 30/11/2026 10:00" in page  # local time, as typed


def test_promotions_rewards_and_templates_keep_theirs(client, staff_a, tenant):
    product, _ = product_upsert(
        account=tenant.account, barcode="7891000100103", name="Leite", unit="un", price=Decimal("5.99")
    )
    promotion = promotion_create(
        account=tenant.account,
        terms=PromotionTerms(product=product, percent_off=Decimal("10"), starts_at=timezone.now()),
    )
    reward = RewardFactory(account=tenant.account)
    template = message_template_create(
        account=tenant.account, name="SMS", event="sale_rewarded", channel="sms", body="Olá {name}"
    )
    client.force_login(staff_a)
    for obj in (promotion, reward, template):
        page = client.get(
            reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        ).content.decode()
        assert "Change history" in page, obj
        assert [what for _, _, what in change_rows(obj)] == ["Created"], obj
