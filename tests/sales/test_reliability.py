"""A sale and its rewards commit or roll back together; a purchase sent by ten tills is one sale.

Failures are injected at the named steps of recording a purchase (after its items, inside
a rule, issuing a rule's voucher, recording promotion uses, queuing a message, posting to
the wallet), then the database fails at every statement of the request in turn: each
leaves the database exactly as it was, and `check_wallets` clean.
"""

import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import OperationalError, connections
from rest_framework.test import APIClient

from customers.models import Customer, LedgerEntry, Wallet
from customers.services import customer_create, wallet_credit
from loyalty.engine.program import rule_create
from loyalty.outbox.services import message_template_create
from sales.models import Sale
from tests.builders import POS
from tests.concurrency import run_concurrently
from tests.factories import ProductFactory, PromotionFactory
from tests.faults import statements_of, with_fault_at
from tests.sales.builders import SEED_PURCHASE, purchase
from tests.snapshots import database_rows

pytestmark = pytest.mark.django_db


def check_wallets_is_clean() -> bool:
    call_command("check_wallets", stdout=StringIO())  # exits non-zero on any mismatch
    return True


@pytest.fixture
def busy_program(tenant, program):
    """Every step of a recording has work to do: a known consumer with a ledger, a voucher
    rule, a cashback rule whose grants expire, a message template and a promotion on the
    purchased product."""
    customer = customer_create(
        account=tenant.account, name="Ana", document="53933515009", email="ana@example.com"
    )
    wallet_credit(customer=customer, kind="adjustment", amounts={"points": Decimal("7")}, reason="Opening")
    rule_create(
        account=tenant.account,
        name="R$ 5 voucher",
        kind="voucher",
        value=Decimal("5"),
        threshold=Decimal("1"),
    )
    rule_create(account=tenant.account, name="5 %", kind="cashback", value=Decimal("5"), valid_days=30)
    message_template_create(
        account=tenant.account, name="R", event="sale_rewarded", channel="email", body="{name}"
    )
    product = ProductFactory(account=tenant.account, barcode="13456789")
    promotion = PromotionFactory(product=product)
    items = [{**SEED_PURCHASE["items"][0], "promotion_id": str(promotion.pk)}]
    return purchase(items=items)


def broken(*args, **kwargs):
    raise RuntimeError("injected failure")


STEPS = {
    "after the items are saved": ("sales.services.recording", "_own_postings"),
    "recording promotion uses": ("sales.services.recording", "promotion_uses_record"),
    "posting the sale's own movements": ("sales.services.recording", "wallet_post"),
    "inside a rule": ("loyalty.engine.rules", "eligible_amount"),
    "posting the rules' grants": ("loyalty.engine.services", "wallet_post_entries"),
    "opening expiry lots": ("customers.services.lots", "_NewLot"),
    "issuing a rule's voucher": ("loyalty.engine.services", "voucher_issue"),
    "while queueing a message": ("loyalty.outbox.services", "_message"),
}


@pytest.mark.parametrize("step", list(STEPS))
def test_a_failure_at_a_step_of_recording_leaves_nothing(tenant, busy_program, monkeypatch, step):
    module, name = STEPS[step]
    monkeypatch.setattr(f"{module}.{name}", broken)
    before = database_rows()

    response = tenant.pos.put(f"{POS}/shops", busy_program, format="json")

    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert database_rows() == before
    assert check_wallets_is_clean()


def test_the_database_failing_at_any_statement_of_recording_leaves_nothing(tenant, busy_program):
    def send():
        return tenant.pos.put(f"{POS}/shops", busy_program, format="json")

    statements = statements_of(send)
    before = database_rows()

    for at in range(1, statements + 1):
        response = with_fault_at(at, OperationalError("injected failure"), send)

        assert response.status_code == 503, (at, response.content)
        assert response.json()["code"] == "database_unavailable"
        assert database_rows() == before, f"statement {at} of {statements} left rows behind"
    assert statements > 20
    assert check_wallets_is_clean()
    assert send().status_code == 201  # and nothing stuck: the same purchase records fine afterwards


@pytest.mark.django_db(transaction=True)
def test_ten_tills_sending_the_same_purchase_record_it_once(postgres_only, tenant, program):
    def send(_):
        client = APIClient()
        client.credentials(
            HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}", HTTP_X_STORE_TOKEN=tenant.merchant.store_token
        )
        return client.put(f"{POS}/shops", purchase(), format="json").status_code

    statuses = run_concurrently(10, send)

    assert sorted(statuses) == [200] * 9 + [201]
    assert Sale.objects.count() == 1
    assert Customer.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="points").count() == 1
    assert Wallet.objects.get().points == Decimal("24.00")
    call_command("check_wallets", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_ten_tills_sending_other_purchases_under_one_receipt_record_one_and_refuse_nine(
    postgres_only, tenant, program
):
    consumers = ["53933515009", "52998224725", "11144477735", "39053344705", "15350946056"]

    def send(index):
        client = APIClient()
        client.credentials(
            HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}", HTTP_X_STORE_TOKEN=tenant.merchant.store_token
        )
        body = purchase(consumer=consumers[index % len(consumers)], operator=f"till {index}")
        body["items"] = [{**body["items"][0], "quantity": 1 + index, "total": 12 * (1 + index)}]
        body["payments"] = [{**body["payments"][0], "total": 12 * (1 + index)}]
        response = client.put(f"{POS}/shops", body, format="json")
        return response.status_code, response.json()

    results = run_concurrently(10, send)

    assert sorted(status for status, _ in results) == [201] + [409] * 9
    sale = Sale.objects.get()
    assert all(body["purchase"]["id"] == sale.pk for status, body in results if status == 409)
    assert LedgerEntry.objects.filter(kind="points").count() == 1
    assert Customer.objects.count() == 1  # the nine refused consumers were not even created
    assert check_wallets_is_clean()


def till(tenant) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}", HTTP_X_STORE_TOKEN=tenant.merchant.store_token
    )
    return client


@pytest.mark.django_db(transaction=True)
def test_a_resend_while_the_purchase_is_being_cancelled_waits_for_nothing(
    postgres_only, tenant, program, monkeypatch
):
    """The cancel holds the sale and is about to lock the wallet; a till resends the purchase.
    The resend must not take the wallet and then wait on the sale: both would wait forever."""
    import sales.services.cancelling as cancelling

    assert till(tenant).put(f"{POS}/shops", purchase(), format="json").status_code == 201
    holding_the_sale, go_on = threading.Event(), threading.Event()
    lock_the_wallet = cancelling.wallet_lock

    def paused(**kwargs):
        holding_the_sale.set()
        go_on.wait(10)
        return lock_the_wallet(**kwargs)

    monkeypatch.setattr(cancelling, "wallet_lock", paused)
    answers = {}

    def cancel():
        body = {"date": "2024-05-24", "type": "CF", "pdv": "1", "coupon": "15"}
        answers["cancel"] = till(tenant).post(f"{POS}/shops/cancel", body, format="json").status_code
        connections.close_all()

    def resend():
        answers["resend"] = till(tenant).put(f"{POS}/shops", purchase(), format="json").status_code
        connections.close_all()

    cancelling_thread = threading.Thread(target=cancel)
    cancelling_thread.start()
    assert holding_the_sale.wait(10)
    resending_thread = threading.Thread(target=resend)
    resending_thread.start()
    resending_thread.join(10)
    go_on.set()
    cancelling_thread.join(10)

    assert answers == {"resend": 200, "cancel": 200}
    assert Sale.objects.get().status == "cancelled"
    assert check_wallets_is_clean()
