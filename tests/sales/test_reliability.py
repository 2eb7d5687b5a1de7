"""A sale and its rewards commit or roll back together; a purchase sent by ten tills is one sale."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from customers.models import Customer, LedgerEntry, Wallet
from loyalty.models import Message
from loyalty.services import messaging, rewards
from loyalty.services.messaging import message_template_create
from sales.models import Sale, SaleItem, SalePayment
from tests.concurrency import run_concurrently
from tests.conftest import POS
from tests.sales.conftest import SEED_PURCHASE, purchase

pytestmark = pytest.mark.django_db


def nothing_was_written():
    return not any(
        model.objects.exists() for model in (Sale, SaleItem, SalePayment, LedgerEntry, Message, Customer)
    )


def test_a_rule_that_raises_leaves_no_sale_no_ledger_row_no_message(tenant, program, monkeypatch):
    message_template_create(
        account=tenant.account, name="R", event="sale_rewarded", channel="sms", body="{name}"
    )

    def broken(*args, **kwargs):
        raise RuntimeError("rule exploded")

    monkeypatch.setattr(rewards, "eligible_amount", broken)

    response = tenant.pos.put(f"{POS}/shops", SEED_PURCHASE, format="json")

    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert nothing_was_written()


def test_a_failure_while_queueing_messages_rolls_everything_back(tenant, program, monkeypatch):
    message_template_create(
        account=tenant.account, name="R", event="sale_rewarded", channel="sms", body="{name}"
    )

    def broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(messaging, "_message", broken)

    response = tenant.pos.put(f"{POS}/shops", SEED_PURCHASE, format="json")

    assert response.status_code == 500
    assert nothing_was_written()


def test_a_failure_after_the_items_are_saved_rolls_everything_back(tenant, program, monkeypatch):
    from sales import services

    def broken(*args, **kwargs):
        raise RuntimeError("lost the wallet")

    monkeypatch.setattr(services, "wallet_lock", broken)

    assert tenant.pos.put(f"{POS}/shops", SEED_PURCHASE, format="json").status_code == 500
    assert nothing_was_written()


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
