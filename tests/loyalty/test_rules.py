"""The engine: each rule kind and condition, rules adding up, rounding, pending rewards."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from customers.models import LedgerEntry, Wallet
from customers.selectors import wallet_mismatches
from loyalty.engine.lifecycle import rewards_release_due
from loyalty.engine.program import rule_create, rule_scope_set
from loyalty.outbox.models import Message
from loyalty.outbox.services import message_template_create
from loyalty.tenancy.services import store_create
from promotions.models import Category
from tests.builders import POS, V2
from tests.sales.builders import item, purchase
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db


def sale(tenant, amount, reference, **extra):
    body = {
        "cpf": "53933515009",
        "sale_amount": amount,
        "reference": reference,
        "date": "2024-06-19 17:13",
        **extra,
    }
    response = tenant.v2.post(f"{V2}/sales", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def rule(tenant, **fields):
    defaults = {"name": fields.get("kind", "rule"), "value": Decimal("1")}
    return rule_create(account=tenant.account, **{**defaults, **fields})


@pytest.mark.parametrize(
    ("percent", "amount", "cashback"),
    [("5", 33.33, 1.67), ("5", 10.10, 0.51), ("5", 152.99, 7.65), ("3.5", 0.14, 0), ("12.5", 99.99, 12.5)],
)
def test_cashback_is_a_percent_rounded_half_up_to_the_cent(tenant, percent, amount, cashback):
    rule(tenant, kind="cashback", value=Decimal(percent))

    body = sale(tenant, amount, "R1")

    assert body["sale"]["rewards"]["cashback"] == cashback
    assert body["wallet"]["balance"] == cashback


@pytest.mark.parametrize(
    ("per_real", "amount", "points"), [("1", 152.99, 152.99), ("1.5", 33.33, 50), ("0.1", 0.04, 0)]
)
def test_points_per_currency_unit_rounded_to_two_places(tenant, per_real, amount, points):
    rule(tenant, kind="points", value=Decimal(per_real))

    assert sale(tenant, amount, "R1")["sale"]["rewards"]["points"] == points


def test_rules_add_up(tenant):
    rule(tenant, kind="points", value=Decimal("1"))
    rule(tenant, kind="points", value=Decimal("1"), weekdays=[2], name="Double points on Wednesdays")
    rule(tenant, kind="cashback", value=Decimal("2"))
    rule(tenant, kind="cashback", value=Decimal("3"))

    body = sale(tenant, 100, "R1")  # 2024-06-19 is a Wednesday

    assert body["sale"]["rewards"] == {"cashback": 5, "points": 200, "vouchers": [], "messages": 0}
    assert LedgerEntry.objects.filter(kind__in=["cashback", "points"]).count() == 4


def test_window(tenant):
    rule(tenant, kind="points", starts_at=datetime(2024, 6, 20, tzinfo=UTC))
    rule(tenant, kind="cashback", value=Decimal("10"), ends_at=datetime(2024, 6, 19, 20, 0, tzinfo=UTC))

    body = sale(tenant, 100, "R1")  # 20:13 UTC: after the cashback ended, before points started

    assert body["sale"]["rewards"]["points"] == 0
    assert body["sale"]["rewards"]["cashback"] == 0


def test_weekdays_are_read_in_the_accounts_time_zone(tenant):
    rule(tenant, kind="points", weekdays=[5])  # Saturday

    # Saturday 22:30 in São Paulo is Sunday 01:30 UTC.
    body = sale(tenant, 10, "R1", date="2024-06-22 22:30")

    assert body["sale"]["rewards"]["points"] == 10


def test_stores_condition(tenant, anonymous):
    other_store, token = store_create(account=tenant.account, name="Outlet")
    rule(tenant, kind="points", stores=[other_store])

    main = tenant.pos.put(f"{POS}/shops", purchase(), format="json").json()
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}", HTTP_X_STORE_TOKEN=token)
    outlet = anonymous.put(f"{POS}/shops", purchase(reference="12", coupon="16"), format="json").json()

    assert main["rewards"]["points"] == 0
    assert outlet["rewards"]["points"] == 24
    assert sale(tenant, 10, "R1")["sale"]["rewards"]["points"] == 0  # no store at all


def test_categories_condition_includes_children(tenant):
    food = Category.objects.create(account=tenant.account, name="Alimentos")
    Category.objects.create(account=tenant.account, name="Salgadinho", parent=food)
    Category.objects.create(account=tenant.account, name="Limpeza")
    rule(tenant, kind="points", categories=[food])

    body = tenant.pos.put(
        f"{POS}/shops",
        purchase(
            items=[
                item(unit_value=10, quantity=1, category="Alimentos", subcategory="Salgadinho"),
                item(barcode="2", unit_value=5, quantity=1, category="Alimentos"),
                item(barcode="3", unit_value=100, quantity=1, category="Limpeza"),
                item(barcode="4", unit_value=7, quantity=1),
            ]
        ),
        format="json",
    ).json()

    # 10 (child of Alimentos) + 5 (Alimentos); not Limpeza, not the item without a category.
    assert body["rewards"]["points"] == 15


def test_excluded_payment_methods_default_to_digital_change(tenant):
    rule(tenant, kind="points")
    rule(tenant, kind="cashback", value=Decimal("10"), excluded_payment_methods=[3])
    tenant.pos.put(
        f"{POS}/shops",
        purchase(reference="0", coupon="0", payments=[{"method": 1, "total": 60, "digital_change": 50}]),
        format="json",
    )

    body = tenant.pos.put(
        f"{POS}/shops",
        purchase(
            items=[item(unit_value=100, quantity=1)],
            payments=[{"method": 9, "total": 40}, {"method": 3, "total": 60}],
        ),
        format="json",
    ).json()

    assert body["rewards"]["points"] == 60  # 40 paid with digital change earn nothing
    assert body["rewards"]["cashback"] == 4  # credit card excluded from cashback: 40 × 10 %


def test_minimum_amount_and_maximum_reward(tenant):
    rule(tenant, kind="points", minimum_amount=Decimal("50"))
    rule(tenant, kind="cashback", value=Decimal("10"), maximum_reward=Decimal("3"))

    small = sale(tenant, 49.99, "R1")
    large = sale(tenant, 100, "R2")

    assert small["sale"]["rewards"] == {"cashback": 3, "points": 0, "vouchers": [], "messages": 0}
    assert large["sale"]["rewards"]["points"] == 100
    assert large["sale"]["rewards"]["cashback"] == 3


def test_sale_types_condition(tenant):
    rule(tenant, kind="points", sale_types=["CF", "NF"])

    fiscal = tenant.pos.put(f"{POS}/shops", purchase(type="NF"), format="json").json()
    pre_sale = tenant.pos.put(f"{POS}/shops", purchase(type="DAV"), format="json").json()

    assert fiscal["rewards"]["points"] == 24
    assert pre_sale["rewards"]["points"] == 0


def test_inactive_rules_do_not_apply(tenant):
    rule(tenant, kind="points", active=False)

    assert sale(tenant, 10, "R1")["sale"]["rewards"]["points"] == 0


def test_voucher_rule_issues_a_voucher_at_the_threshold(tenant):
    rule(tenant, kind="voucher", value=Decimal("20"), threshold=Decimal("100"), valid_days=15)

    below = sale(tenant, 99.99, "R1")
    reached = sale(tenant, 100, "R2")

    assert below["sale"]["rewards"]["vouchers"] == []
    voucher = reached["sale"]["rewards"]["vouchers"][0]
    assert voucher["value"] == 20
    assert voucher["status"] == "active"
    stored = Voucher.objects.get()
    assert len(stored.code) >= 10
    assert set(stored.code) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    assert stored.valid_until - stored.valid_from == timedelta(days=15)
    assert stored.sale.reference == "R2"


def test_cancel_cancels_unused_vouchers(tenant):
    rule(tenant, kind="voucher", value=Decimal("20"), threshold=Decimal("10"))
    body = sale(tenant, 50, "R1")

    cancelled = tenant.v2.post(f"{V2}/sales/{body['sale']['id']}/cancel").json()

    assert cancelled["reversed"]["vouchers_cancelled"] == [Voucher.objects.get().code]
    assert Voucher.objects.get().status == "cancelled"


def test_message_rule_and_reward_templates_queue_messages(tenant):
    thanks = message_template_create(
        account=tenant.account, name="Thanks", event="rule_message", channel="sms", body="Obrigado, {name}!"
    )
    message_template_create(
        account=tenant.account,
        name="Rewarded",
        event="sale_rewarded",
        channel="email",
        subject="Você ganhou R$ {cashback}",
        body="Olá {name}, seu saldo é R$ {balance}.",
    )
    rule(tenant, kind="message", template=thanks)
    rule(tenant, kind="cashback", value=Decimal("5"))
    customer_phone = {"cpf": "53933515009", "sale_amount": 100, "reference": "R1"}
    tenant.v2.post(
        f"{V2}/customers",
        {"name": "Maria", "cpf": "53933515009", "phone": "11987654321", "email": "m@x.com"},
        format="json",
    )

    body = tenant.v2.post(f"{V2}/sales", customer_phone, format="json").json()

    assert body["sale"]["rewards"]["messages"] == 2
    email = Message.objects.get(channel="email")
    assert (email.recipient, email.subject, email.body) == (
        "m@x.com",
        "Você ganhou R$ 5,00",
        "Olá Maria, seu saldo é R$ 5,00.",
    )
    sms = Message.objects.get(channel="sms")
    assert (sms.recipient, sms.body, sms.status) == ("+5511987654321", "Obrigado, Maria!", "queued")


def test_no_message_without_the_contact(tenant):
    message_template_create(
        account=tenant.account, name="R", event="sale_rewarded", channel="email", body="{name}"
    )
    rule(tenant, kind="cashback", value=Decimal("5"))

    assert sale(tenant, 100, "R1")["sale"]["rewards"]["messages"] == 0  # the CPF-only customer has no e-mail


def test_unidentified_sales_earn_nothing(tenant):
    rule(tenant, kind="points")

    body = tenant.pos.put(f"{POS}/shops", purchase(consumer=None), format="json").json()

    assert body["rewards"]["points"] == 0
    assert not LedgerEntry.objects.exists()


def test_pending_rewards_are_released_by_process_rewards(tenant):
    rule(tenant, kind="cashback", value=Decimal("10"), pending_days=7)

    body = sale(tenant, 100, "R1")
    wallet = Wallet.objects.get()
    assert (wallet.balance, wallet.pending_balance) == (Decimal("0"), Decimal("10.00"))
    assert body["wallet"]["pending_balance"] == 10

    assert rewards_release_due(now=timezone.now()) == 1  # 2024 + 7 days is long past
    out = StringIO()
    call_command("process_rewards", stdout=out)
    assert "Released 0" in out.getvalue()

    wallet.refresh_from_db()
    assert (wallet.balance, wallet.pending_balance) == (Decimal("10.00"), Decimal("0.00"))
    assert wallet_mismatches() == []

    tenant.v2.post(f"{V2}/sales/{body['sale']['id']}/cancel")
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.pending_balance) == (Decimal("0.00"), Decimal("0.00"))
    assert wallet_mismatches() == []


def test_a_pending_grant_of_a_cancelled_sale_is_never_released(tenant):
    rule(tenant, kind="points", pending_days=7)
    body = sale(tenant, 100, "R1")
    tenant.v2.post(f"{V2}/sales/{body['sale']['id']}/cancel")

    assert rewards_release_due(now=timezone.now()) == 0
    assert Wallet.objects.get().points == 0
    assert wallet_mismatches() == []


def test_pending_grants_wait_for_their_day(tenant):
    rule(tenant, kind="points", pending_days=7)
    sale(tenant, 100, "R1", date="2024-06-19 17:13")

    assert rewards_release_due(now=datetime(2024, 6, 25, tzinfo=UTC)) == 0
    assert rewards_release_due(now=datetime(2024, 6, 27, tzinfo=UTC)) == 1


def test_cancelling_a_sale_withdraws_its_undelivered_messages(tenant):
    message_template_create(
        account=tenant.account, name="R", event="sale_rewarded", channel="sms", body="{cashback}"
    )
    rule(tenant, kind="cashback", value=Decimal("5"))
    tenant.v2.post(
        f"{V2}/customers", {"name": "Maria", "cpf": "53933515009", "phone": "11987654321"}, format="json"
    )
    first = sale(tenant, 100, "R1")
    sale(tenant, 100, "R2")

    tenant.v2.post(f"{V2}/sales/{first['sale']['id']}/cancel")

    statuses = dict(Message.objects.values_list("sale__reference", "status"))
    assert statuses == {"R1": "withdrawn", "R2": "queued"}


def test_a_rule_is_never_linked_to_another_accounts_store(tenant, other_tenant):
    rule = rule_create(account=tenant.account, name="Here", kind="cashback", value=Decimal("1"))

    with pytest.raises(ValidationError) as refused, transaction.atomic():
        rule_scope_set(rule=rule, stores=[other_tenant.store], categories=[])

    assert list(refused.value.message_dict) == ["stores"]
    assert not rule.stores.exists()


@pytest.mark.parametrize(
    ("kind", "field", "extra"),
    [
        ("cashback", "threshold", {"threshold": Decimal("50")}),
        ("points", "threshold", {"threshold": Decimal("1")}),
    ],
)
def test_a_field_the_kind_does_not_use_is_refused_wherever_the_rule_is_written(tenant, kind, field, extra):
    """The admin form and the API both validate through the model: nothing is silently ignored."""
    with pytest.raises(ValidationError) as refused:
        rule(tenant, kind=kind, **extra)

    assert f"A {kind} rule takes no {field}" in refused.value.message_dict[field][0]
