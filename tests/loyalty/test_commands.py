"""Management commands: create_merchant and seed_demo."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from rest_framework.test import APIClient

from loyalty.shell.demo import DEMO_API_KEY, DEMO_API_SECRET, DEMO_STORE_TOKEN
from loyalty.tenancy.models import Account, ApiCredential, Store
from tests.builders import POS, obtain_token

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_merchant_json_is_one_object_whose_secrets_work():
    output = run("create_merchant", "Padaria Pão Quente", "--store", "Loja 1", "--json")

    values = json.loads(output)
    assert set(values) == {"account_id", "store_id", "api_key", "api_secret", "store_token"}
    account = Account.objects.get(pk=values["account_id"])
    assert account.name == "Padaria Pão Quente"
    assert account.time_zone == "America/Sao_Paulo"
    assert Store.objects.get(pk=values["store_id"]).name == "Loja 1"
    token = obtain_token(values["api_key"], values["api_secret"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_STORE_TOKEN=values["store_token"])
    assert client.get(f"{POS}/store").json()["id"] == values["store_id"]


def test_create_merchant_prints_the_secrets_for_people():
    output = run("create_merchant", "Farmácia Boa")

    credential = ApiCredential.objects.get(account__name="Farmácia Boa")
    assert credential.api_key in output
    assert "shown only now" in output


def test_create_merchant_refuses_an_unknown_time_zone():
    # A savepoint for the refused command, as the command's own transaction would be alone.
    with pytest.raises(CommandError, match="Unknown time zone"), transaction.atomic():
        run("create_merchant", "X", "--time-zone", "Mars/Olympus")
    assert not Account.objects.filter(name="X").exists()


def test_seed_demo_is_idempotent_and_its_printed_credentials_work():
    first = run("seed_demo")
    second = run("seed_demo")

    assert first == second
    assert Account.objects.count() == 1
    assert Store.objects.count() == 1
    assert ApiCredential.objects.count() == 1
    assert get_user_model().objects.filter(username="admin", is_superuser=True).exists()
    for value in (DEMO_API_KEY, DEMO_API_SECRET, DEMO_STORE_TOKEN, "/api/docs/"):
        assert value in second
    token = obtain_token(DEMO_API_KEY, DEMO_API_SECRET)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_STORE_TOKEN=DEMO_STORE_TOKEN)
    assert client.get(f"{POS}/store").status_code == 200


def test_create_merchant_adds_cashback_and_points_rules():
    from loyalty.engine.models import RewardRule

    values = json.loads(
        run(
            "create_merchant",
            "Mercado Gama",
            "--cashback-percent",
            "2.5",
            "--points-per-currency",
            "1",
            "--json",
        )
    )

    rules = {rule.kind: rule.value for rule in RewardRule.objects.filter(account_id=values["account_id"])}
    assert rules == {"cashback": Decimal("2.5"), "points": Decimal("1")}


def test_seed_demo_loads_a_working_program():
    from django.utils import timezone

    from customers.models import Wallet
    from customers.selectors import lot_mismatches, wallet_mismatches, wallet_next_expiry
    from loyalty.engine.models import RewardRule
    from loyalty.outbox.models import MessageTemplate
    from sales.models import Sale
    from sales.selectors import with_rewards
    from vouchers.models import Reward, Voucher

    run("seed_demo")
    run("seed_demo")

    assert RewardRule.objects.count() == 5
    assert MessageTemplate.objects.count() == 3
    assert Sale.objects.count() == 3
    assert with_rewards(Sale.objects.all(), account_id=None).filter(granted_cashback__gt=0).count() == 3
    assert Reward.objects.count() == 2
    assert Voucher.objects.filter(reward__isnull=False).count() == 1
    assert wallet_mismatches() == []
    # The README's balance redemption spends R$ 10 of cashback and R$ 2 of digital change.
    maria = Wallet.objects.get(customer__document="53933515009")
    assert maria.balance >= 10
    assert maria.digital_change == Decimal("5.00")
    # Some of her cashback expires within 15 days: the wallet answers show `next_expiry`.
    next_expiry = wallet_next_expiry(wallet=maria, account=maria.account, now=timezone.now())
    assert next_expiry is not None
    assert next_expiry.balance > 0
    assert lot_mismatches() == []
