"""Every event type is queued by the service that does the thing, through the real API, in its
transaction: one delivery per active endpoint of the account subscribed to it, none for other
accounts, unsubscribed endpoints or a replay."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.services import customer_create, wallet_credit
from loyalty.engine.lifecycle import rewards_expire_due
from loyalty.engine.program import rule_create
from loyalty.outbox.webhooks.models import WebhookDelivery, WebhookEventType
from loyalty.outbox.webhooks.services import webhook_endpoint_create, webhook_endpoint_update
from tests.builders import POS, V2
from tests.factories import RewardFactory
from tests.sales.builders import cancel, item, purchase, put
from vouchers.services import voucher_issue

pytestmark = pytest.mark.django_db

CPF = "53933515009"
ALL = list(WebhookEventType.values)


@pytest.fixture
def hooks(tenant, other_tenant):
    """Account A: one endpoint for everything, one for sales recorded only, one switched off;
    account B: one endpoint for everything."""
    every = webhook_endpoint_create(account=tenant.account, url="https://a.example/all", events=ALL)
    sales = webhook_endpoint_create(
        account=tenant.account, url="https://a.example/sales", events=["sale.recorded"]
    )
    off = webhook_endpoint_create(account=tenant.account, url="https://a.example/off", events=ALL)
    webhook_endpoint_update(endpoint=off.endpoint, active=False)
    webhook_endpoint_create(account=other_tenant.account, url="https://b.example/all", events=ALL)
    return {"every": every.endpoint, "sales": sales.endpoint, "off": off.endpoint}


@pytest.fixture
def maria(tenant):
    customer = customer_create(account=tenant.account, name="Maria", document=CPF)
    wallet_credit(customer=customer, kind="adjustment", amounts={"balance": Decimal("100")}, reason="Opening")
    return customer


@pytest.fixture
def cashback(tenant):
    rule_create(account=tenant.account, name="5%", kind="cashback", value=Decimal("5"))
    rule_create(account=tenant.account, name="1 pt", kind="points", value=Decimal("1"))


def queued(**filters) -> list[tuple[str, str]]:
    """(event type, endpoint URL) of the deliveries queued, oldest first."""
    return list(
        WebhookDelivery.objects.filter(**filters).order_by("id").values_list("event_type", "endpoint__url")
    )


def data_of(event_type: str) -> dict:
    delivery = WebhookDelivery.objects.filter(event_type=event_type).order_by("id").first()
    body = json.loads(delivery.payload)
    assert body["type"] == event_type
    return body["data"]


def test_a_pos_purchase_is_posted_to_each_subscribed_endpoint_once(tenant, hooks, maria, cashback):
    response = put(tenant, purchase())
    assert response.status_code == 201, response.content
    sale_id = response.json()["purchase"]["id"]

    assert queued() == [
        ("sale.recorded", "https://a.example/all"),
        ("sale.recorded", "https://a.example/sales"),
    ]
    first, second = WebhookDelivery.objects.order_by("id")
    assert first.event_id == second.event_id  # one event, one id, whatever the endpoint
    assert first.payload == second.payload
    body = json.loads(first.payload)
    assert body["timestamp"] == "2024-05-24T18:10:00.000000Z"  # 15:10 in São Paulo
    assert body["data"] == {
        "sale_id": sale_id,
        "source": "pos",
        "type": "CF",
        "reference": "11",
        "pdv": "1",
        "coupon": "15",
        "store_id": tenant.store.pk,
        "customer_id": maria.pk,
        "amount": 24,
        "cashback": 1.2,
        "points": 24,
        "vouchers": [],
    }


def test_a_replayed_purchase_is_posted_nothing_more(tenant, hooks, maria):
    put(tenant, purchase())

    assert put(tenant, purchase()).status_code == 200

    assert len(queued(event_type="sale.recorded")) == 2


def test_a_v2_sale_is_posted_too(tenant, hooks, maria):
    response = tenant.v2.post(
        f"{V2}/sales", {"cpf": CPF, "sale_amount": 50, "reference": "ERP-1"}, format="json"
    )
    assert response.status_code == 201, response.content

    data = data_of("sale.recorded")
    assert (data["source"], data["reference"], data["customer_id"], data["amount"]) == (
        "api",
        "ERP-1",
        maria.pk,
        50,
    )
    assert (data["store_id"], data["pdv"], data["coupon"]) == (None, "", "")
    assert len(queued()) == 2


def test_an_unidentified_purchase_is_posted_too(tenant, hooks):
    body = {key: value for key, value in purchase().items() if key != "consumer"}

    assert put(tenant, body).status_code == 201

    data = data_of("sale.recorded")
    assert (data["customer_id"], data["cashback"], data["points"]) == (None, 0, 0)


def test_a_sale_that_earns_a_voucher_posts_it_with_the_sale(tenant, hooks, maria):
    rule_create(
        account=tenant.account, name="R$ 5", kind="voucher", value=Decimal("5"), threshold=Decimal("10")
    )

    response = put(tenant, purchase())
    assert response.status_code == 201, response.content

    [code] = [voucher["code"] for voucher in response.json()["rewards"]["vouchers"]]
    assert queued() == [
        ("sale.recorded", "https://a.example/all"),
        ("sale.recorded", "https://a.example/sales"),
        ("voucher.issued", "https://a.example/all"),
    ]
    assert data_of("sale.recorded")["vouchers"] == [code]
    issued = data_of("voucher.issued")
    assert (issued["voucher_code"], issued["value"], issued["customer_id"]) == (code, 5, maria.pk)
    assert issued["sale_id"] == response.json()["purchase"]["id"]
    assert issued["coupon_id"] is None


def test_a_sale_with_vouchers_reads_the_endpoints_once(tenant, maria):
    """No endpoint: one statement for the sale and its vouchers alike; nothing is written."""
    rule_create(
        account=tenant.account, name="R$ 5", kind="voucher", value=Decimal("5"), threshold=Decimal("10")
    )
    rule_create(
        account=tenant.account, name="R$ 1", kind="voucher", value=Decimal("1"), threshold=Decimal("1")
    )

    with CaptureQueriesContext(connection) as ran:
        assert put(tenant, purchase()).status_code == 201

    reads = [query["sql"] for query in ran.captured_queries if "loyalty_webhookendpoint" in query["sql"]]
    assert len(reads) == 1
    assert not WebhookDelivery.objects.exists()


def test_a_cancel_is_posted_once(tenant, hooks, maria, cashback):
    sale_id = put(tenant, purchase()).json()["purchase"]["id"]
    keys = {"date": "2024-05-24", "pdv": "1", "coupon": "15", "type": "CF"}

    assert cancel(tenant, keys).status_code == 200
    assert cancel(tenant, keys).status_code == 200  # already cancelled: nothing more

    assert queued(event_type="sale.cancelled") == [("sale.cancelled", "https://a.example/all")]
    data = data_of("sale.cancelled")
    assert (data["sale_id"], data["customer_id"], data["amount"]) == (sale_id, maria.pk, 24)
    assert data["reversed"] == {"balance": -1.2, "points": -24, "total_shoppings": -24, "count_shoppings": -1}
    assert data["vouchers_cancelled"] == []


def test_a_v2_cancel_is_posted_once(tenant, hooks, maria):
    body = {"cpf": CPF, "sale_amount": 50, "reference": "ERP-1"}
    sale_id = tenant.v2.post(f"{V2}/sales", body, format="json").json()["sale"]["id"]

    assert tenant.v2.post(f"{V2}/sales/{sale_id}/cancel").status_code == 200
    assert tenant.v2.post(f"{V2}/sales/{sale_id}/cancel").status_code == 200

    assert len(queued(event_type="sale.cancelled")) == 1


def test_a_return_is_posted_once(tenant, hooks, maria, cashback):
    sale_id = put(tenant, purchase()).json()["purchase"]["id"]
    body = {
        "date": "2024-05-24",
        "type": "CF",
        "pdv": "1",
        "coupon": "15",
        "return_reference": "DEV-1",
        "items": [{"barcode": "13456789", "quantity": 1}],
    }

    first = tenant.pos.post(f"{POS}/shops/returns", body, format="json")
    assert first.status_code == 201, first.content
    assert tenant.pos.post(f"{POS}/shops/returns", body, format="json").status_code == 200  # a replay

    assert queued(event_type="sale.returned") == [("sale.returned", "https://a.example/all")]
    data = data_of("sale.returned")
    assert (data["sale_id"], data["return_id"], data["return_reference"]) == (
        sale_id,
        first.json()["return"]["id"],
        "DEV-1",
    )
    assert (data["amount"], data["completes"], data["customer_id"]) == (12, False, maria.pk)
    assert data["reversed"] == {"total_shoppings": -12, "balance": -0.6, "points": -12}


def test_a_voucher_used_is_posted(tenant, hooks, maria):
    voucher = voucher_issue(account=tenant.account, customer=maria, value=Decimal("20"))
    assert queued(event_type="voucher.issued") == [("voucher.issued", "https://a.example/all")]

    response = tenant.v2.post(
        f"{V2}/vouchers/{voucher.code}/use", {"reference": "SALE-9", "store": tenant.store.pk}, format="json"
    )
    assert response.status_code == 200, response.content

    assert queued(event_type="voucher.used") == [("voucher.used", "https://a.example/all")]
    assert data_of("voucher.used") == {
        "voucher_code": voucher.code,
        "value": 20,
        "customer_id": maria.pk,
        "coupon_id": None,
        "reference": "SALE-9",
        "store_id": tenant.store.pk,
    }


def test_a_reward_redeemed_for_points_posts_its_voucher(tenant, hooks, maria):
    wallet_credit(customer=maria, kind="adjustment", amounts={"points": Decimal("100")}, reason="Opening")
    reward = RewardFactory(account=tenant.account, points_cost=Decimal("50"), value=Decimal("15"))

    response = tenant.v2.post(f"{V2}/coupons/{reward.pk}/redeem", {"cpf": CPF}, format="json")
    assert response.status_code == 201, response.content

    data = data_of("voucher.issued")
    assert (data["coupon_id"], data["value"], data["sale_id"], data["customer_id"]) == (
        reward.pk,
        15,
        None,
        maria.pk,
    )
    assert len(queued(event_type="voucher.issued")) == 1


def test_a_balance_redemption_is_posted_once(tenant, hooks, maria):
    body = {
        "date": "2024-06-19 17:13",
        "value": 10,
        "digital_change": 0,
        "pdv": "2",
        "coupon": "2",
        "type": "NF",
    }

    first = tenant.pos.post(f"{POS}/consumers/{CPF}/balance/redeem", body, format="json")
    assert first.status_code == 201, first.content
    assert tenant.pos.post(f"{POS}/consumers/{CPF}/balance/redeem", body, format="json").status_code == 200

    assert queued(event_type="balance.redeemed") == [("balance.redeemed", "https://a.example/all")]
    data = data_of("balance.redeemed")
    assert (data["customer_id"], data["store_id"], data["balance"], data["digital_change"]) == (
        maria.pk,
        tenant.store.pk,
        10,
        0,
    )
    assert (data["type"], data["pdv"], data["coupon"]) == ("NF", "2", "2")


def test_rewards_expired_by_the_expiry_job_are_posted_once_per_wallet(tenant, hooks, maria):
    rule_create(account=tenant.account, name="10%", kind="cashback", value=Decimal("10"), valid_days=30)
    body = {"cpf": CPF, "sale_amount": 100, "reference": "R1", "date": "2024-05-24 10:00"}
    assert tenant.v2.post(f"{V2}/sales", body, format="json").status_code == 201  # its lot ended long ago

    with time_machine.travel(datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC), tick=False):
        assert rewards_expire_due() == 1
        assert rewards_expire_due() == 0

    assert queued(event_type="rewards.expired") == [("rewards.expired", "https://a.example/all")]
    data = data_of("rewards.expired")
    assert data == {"customer_id": maria.pk, "reason": "validity", "points": 0, "balance": 10}
    body = json.loads(WebhookDelivery.objects.get(event_type="rewards.expired").payload)
    assert body["timestamp"] == "2030-01-02T03:04:05.000000Z"


def test_no_other_account_gets_a_delivery(tenant, other_tenant, hooks, maria, cashback):
    put(tenant, purchase(items=[item()]))
    cancel(tenant, {"date": "2024-05-24", "pdv": "1", "coupon": "15", "type": "CF"})

    assert not WebhookDelivery.objects.filter(account=other_tenant.account).exists()
    assert not WebhookDelivery.objects.filter(endpoint=hooks["off"]).exists()
    assert WebhookDelivery.objects.filter(account=tenant.account).count() == 3


def test_rewards_expired_by_inactivity_say_so(tenant, hooks, maria):
    tenant.account.expiry_inactivity_days = 30
    tenant.account.save(update_fields=["expiry_inactivity_days"])
    rule_create(account=tenant.account, name="10%", kind="cashback", value=Decimal("10"))
    body = {"cpf": CPF, "sale_amount": 100, "reference": "R1", "date": "2024-05-24 10:00"}
    assert tenant.v2.post(f"{V2}/sales", body, format="json").status_code == 201

    assert rewards_expire_due() == 1

    data = data_of("rewards.expired")
    assert (data["reason"], data["balance"], data["customer_id"]) == ("inactivity", 110, maria.pk)
