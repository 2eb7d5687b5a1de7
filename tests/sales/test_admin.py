"""Sales, rules, templates and the outbox in the admin."""

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Wallet
from loyalty.engine.models import RewardRule, RuleStore
from loyalty.outbox.models import Message
from loyalty.outbox.services import message_template_create
from promotions.services import category_create
from sales.models import Sale
from tests.builders import POS
from tests.sales.builders import SEED_PURCHASE

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(tenant, program):
    message_template_create(
        account=tenant.account, name="SMS", event="sale_rewarded", channel="sms", body="Ganhou R$ {cashback}"
    )
    tenant.v2.post(
        "/api/v2/customers", {"name": "Maria", "cpf": "53933515009", "phone": "11987654321"}, format="json"
    )
    tenant.pos.put(f"{POS}/shops", SEED_PURCHASE, format="json")
    return Sale.objects.get()


@pytest.mark.parametrize(
    "name", ["sales_sale", "loyalty_rewardrule", "loyalty_messagetemplate", "loyalty_message"]
)
def test_changelists_load_and_are_scoped(client, staff_a, staff_b, superuser, recorded, name):
    for user, sees in ((staff_a, True), (staff_b, False), (superuser, True)):
        client.force_login(user)
        response = client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 200
        assert (response.context["cl"].result_count > 0) is sees, (user, name)


def test_sale_page_shows_items_payments_and_rewards_read_only(client, staff_a, recorded):
    client.force_login(staff_a)

    response = client.get(reverse("admin:sales_sale_change", args=[recorded.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Batata Pringles Cheddar Bacon 105g" in html
    assert "Cashback +R$ 1.20" in html
    assert 'name="amount"' not in html
    assert (
        client.post(reverse("admin:sales_sale_change", args=[recorded.pk]), {"amount": "1"}).status_code
        == 403
    )


def test_cancel_action_asks_first_then_reverses_like_the_api(client, staff_a, recorded):
    client.force_login(staff_a)
    chosen = {"action": "cancel_selected", "_selected_action": [recorded.pk]}

    asked = client.post(reverse("admin:sales_sale_changelist"), chosen)

    assert asked.status_code == 200
    assert "cannot be undone" in asked.content.decode()
    recorded.refresh_from_db()
    assert recorded.status == "recorded"  # nothing happens before "Yes"

    client.post(reverse("admin:sales_sale_changelist"), {**chosen, "post": "yes"})

    recorded.refresh_from_db()
    assert recorded.status == "cancelled"
    wallet = Wallet.objects.get()
    assert (wallet.balance, wallet.points, wallet.count_shoppings) == (0, 0, 0)


def test_a_sale_is_cancelled_from_its_page_through_the_same_confirmation(client, staff_a, recorded):
    client.force_login(staff_a)
    page = client.get(reverse("admin:sales_sale_change", args=[recorded.pk])).content.decode()
    url = reverse("admin:sales_sale_cancel", args=[recorded.pk])
    assert url in page

    asked = client.get(url)
    assert asked.status_code == 200
    assert str(recorded) in asked.content.decode()
    recorded.refresh_from_db()
    assert recorded.status == "recorded"

    response = client.post(url, {"post": "yes"})

    assert response.status_code == 302
    recorded.refresh_from_db()
    assert recorded.status == "cancelled"
    assert url not in client.get(reverse("admin:sales_sale_change", args=[recorded.pk])).content.decode()


def test_staff_of_another_account_cannot_cancel(client, staff_b, recorded):
    client.force_login(staff_b)

    client.post(
        reverse("admin:sales_sale_changelist"),
        {"action": "cancel_selected", "_selected_action": [recorded.pk], "post": "yes"},
    )
    assert (
        client.post(reverse("admin:sales_sale_cancel", args=[recorded.pk]), {"post": "yes"}).status_code
        == 404
    )

    recorded.refresh_from_db()
    assert recorded.status == "recorded"


def test_rule_form_explains_and_saves_conditions(client, staff_a, merchant):
    client.force_login(staff_a)
    page = client.get(reverse("admin:loyalty_rewardrule_add")).content.decode()
    assert "Rules add up" in page

    response = client.post(
        reverse("admin:loyalty_rewardrule_add"),
        {
            "name": "Weekend double points",
            "kind": "points",
            "value": "1",
            "active": "on",
            "weekdays": ["5", "6"],
            "sale_types": ["CF"],
            "excluded_payment_methods": ["9"],
            "minimum_amount": "0",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    rule = RewardRule.objects.get(name="Weekend double points")
    assert (rule.account, rule.weekdays, rule.sale_types, rule.excluded_payment_methods) == (
        merchant.account,
        [5, 6],
        ["CF"],
        [9],
    )


def test_rule_form_limits_a_rule_to_the_accounts_own_stores_and_categories(
    client, staff_a, merchant, other_merchant
):
    mine = category_create(account=merchant.account, name="Hortifruti")
    theirs = category_create(account=other_merchant.account, name="Bebidas")
    client.force_login(staff_a)
    form = client.get(reverse("admin:loyalty_rewardrule_add")).context["adminform"].form
    assert list(form.fields["rule_stores"].queryset) == [merchant.store]
    assert list(form.fields["rule_categories"].queryset) == [mine]
    body = {"name": "Fruit", "kind": "cashback", "value": "3", "minimum_amount": "0", "active": "on"}

    refused = client.post(reverse("admin:loyalty_rewardrule_add"), {**body, "rule_categories": [theirs.pk]})
    saved = client.post(
        reverse("admin:loyalty_rewardrule_add"),
        {**body, "rule_stores": [merchant.store.pk], "rule_categories": [mine.pk]},
    )

    assert "rule_categories" in refused.context["adminform"].form.errors
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    rule = RewardRule.objects.get(name="Fruit")
    assert list(rule.stores.all()) == [merchant.store]
    assert list(rule.categories.all()) == [mine]
    links = RuleStore.objects.filter(rewardrule=rule).values_list("account_id", flat=True)
    assert list(links) == [merchant.account.pk]
    edit = client.get(reverse("admin:loyalty_rewardrule_change", args=[rule.pk])).content.decode()
    assert f'value="{mine.pk}" selected' in edit


def test_a_rule_cannot_name_another_accounts_store_or_category(client, make_staff, merchant, other_merchant):
    staff = make_staff(merchant.account, other_merchant.account, username="both")
    theirs = category_create(account=other_merchant.account, name="Bebidas")
    client.force_login(staff)
    body = {
        "account": merchant.account.pk,
        "name": "Fruit",
        "kind": "cashback",
        "value": "3",
        "minimum_amount": "0",
        "active": "on",
        "rule_stores": [other_merchant.store.pk],
        "rule_categories": [theirs.pk],
    }

    response = client.post(reverse("admin:loyalty_rewardrule_add"), body)

    errors = response.context["adminform"].form.errors
    assert set(errors) == {"rule_stores", "rule_categories"}
    assert "is not of the rule's account" in errors["rule_stores"][0]
    assert not RewardRule.objects.filter(name="Fruit").exists()


def test_a_voucher_rule_without_threshold_is_refused(client, staff_a):
    client.force_login(staff_a)

    response = client.post(
        reverse("admin:loyalty_rewardrule_add"),
        {"name": "V", "kind": "voucher", "value": "20", "minimum_amount": "0", "active": "on"},
    )

    assert response.status_code == 200
    assert "threshold" in response.context["adminform"].form.errors


def test_template_preview_uses_sample_data(client, staff_a, recorded):
    client.force_login(staff_a)
    template = recorded.account.message_templates.get()

    html = client.get(reverse("admin:loyalty_messagetemplate_change", args=[template.pk])).content.decode()

    assert "Ganhou R$ 7,65" in html


def test_outbox_retry_action_requeues_failed_messages(client, staff_a, recorded):
    Message.objects.update(status="failed", attempts=5, last_error="provider down")
    client.force_login(staff_a)

    page = client.get(reverse("admin:loyalty_message_changelist")).content.decode()
    assert "provider down" in page
    client.post(
        reverse("admin:loyalty_message_changelist"),
        {"action": "retry", "_selected_action": list(Message.objects.values_list("pk", flat=True))},
    )

    assert set(Message.objects.values_list("status", "attempts")) == {("queued", 0)}


def test_sales_export_is_the_filtered_list_with_receipts_rewards_and_local_time(
    client, staff_a, staff_b, recorded
):
    import csv
    import io

    client.force_login(staff_a)
    url = reverse("admin:sales_sale_export")

    response = client.get(url, {"status__exact": "recorded"})
    header, row = csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    cancelled_only = b"".join(client.get(url, {"status__exact": "cancelled"}).streaming_content)

    assert response["Content-Disposition"].startswith('attachment; filename="sales-')
    assert dict(zip(header, row, strict=True)) | {"id": "-"} == {
        "id": "-",
        "occurred at": "2024-05-24 15:10:00",  # as the till sent it, in São Paulo time
        "store": recorded.store.name,
        "type": "CF",
        "PDV": "1",
        "receipt number": "15",
        "reference": "11",
        "customer": "Maria",
        "CPF/CNPJ": "539.335.150-09",
        "amount": "24.00",
        "total discount": "0.00",
        "cashback": "1.20",
        "points": "24.00",
        "status": "Recorded",
        "cancelled at": "",
        "cancelled by": "",
    }
    assert cancelled_only.decode("utf-8-sig").count("\n") == 1  # the header alone
    client.force_login(staff_b)
    other = b"".join(client.get(url).streaming_content).decode("utf-8-sig")
    assert other.count("\n") == 1


def test_a_voucher_rule_switched_to_cashback_drops_its_hidden_threshold(client, staff_a, merchant):
    from loyalty.engine.program import rule_create

    rule = rule_create(
        account=merchant.account, name="Vale", kind="voucher", value=Decimal("10"), threshold=Decimal("100")
    )
    client.force_login(staff_a)

    response = client.post(
        reverse("admin:loyalty_rewardrule_change", args=[rule.pk]),
        {
            "name": "Cashback 5",
            "kind": "cashback",
            "value": "5",
            "threshold": "100,00",  # still in the page, hidden by its script
            "active": "on",
            "excluded_payment_methods": ["9"],
            "minimum_amount": "0",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    rule.refresh_from_db()
    assert (rule.kind, rule.value, rule.threshold) == ("cashback", Decimal("5"), None)


@pytest.mark.language("pt-br")
def test_the_ledger_reads_in_merchant_words(client, staff_a, recorded):
    client.force_login(staff_a)
    client.post(reverse("admin:sales_sale_cancel", args=[recorded.pk]), {"post": "yes"})

    ledger = client.get(reverse("admin:customers_ledgerentry_changelist")).content.decode()
    customer = client.get(
        reverse("admin:customers_customer_change", args=[recorded.customer_id])
    ).content.decode()

    for html in (ledger, customer):
        assert "Cashback +R$ 1,20 — compra cupom 15, PDV 1" in html
        assert "Cashback -R$ 1,20 — cancelamento da compra cupom 15, PDV 1" in html
        assert "total_shoppings" not in html
    assert "Compras +R$ 24,00 · +1 compra — compra cupom 15, PDV 1" in ledger
