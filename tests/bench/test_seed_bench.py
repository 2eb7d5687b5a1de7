"""`seed_bench` at a tiny size: consistent wallets, the expected counts, requests that work."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient
from validate_docbr import CPF

from bench.operations import BenchClient
from bench.seed import cpf_with_check_digits, customer_document
from customers.documents import normalize_phone
from customers.models import Customer, LedgerEntry, Wallet
from customers.selectors import wallet_mismatches
from loyalty.engine.models import RewardRule
from loyalty.tenancy.models import Account
from promotions.models import Category, Product, Promotion
from promotions.selectors import promotions_in_effect
from vouchers.models import Reward, Voucher

pytestmark = pytest.mark.django_db


def seed(**options) -> dict:
    out = StringIO()
    call_command("seed_bench", json=True, stdout=out, stderr=StringIO(), **options)
    return json.loads(out.getvalue())


@pytest.fixture
def tiny():
    return seed(account_name="Tiny", customers=50, ledger_rows=503)


def test_wallets_equal_their_ledgers(tiny):
    out = StringIO()
    call_command("check_wallets", stdout=out)

    assert wallet_mismatches() == []
    assert out.getvalue().startswith("OK: 50 wallet(s)")


def test_the_counts_are_the_ones_asked_for(tiny):
    account = Account.objects.get(name="Tiny")

    assert Customer.objects.filter(account=account).count() == 50
    assert Wallet.objects.filter(customer__account=account).count() == 50
    assert LedgerEntry.objects.filter(wallet__customer__account=account).count() == 503
    assert Product.objects.filter(account=account).count() == 5_000
    assert Promotion.objects.filter(account=account).count() == 500
    assert Voucher.objects.filter(account=account).count() == 5
    assert Reward.objects.filter(account=account, stock__gt=0).count() == 5
    assert tiny["counts"] == {
        "categories": 60,
        "products": 5_000,
        "promotions": 500,
        "customers": 50,
        "wallets": 50,
        "ledger_rows": 503,
        "rewards": 5,
        "vouchers": 5,
    }


def test_every_product_is_in_a_category_and_every_promotion_is_in_effect(tiny):
    account = Account.objects.get(name="Tiny")
    barcodes = Product.objects.filter(account=account).values_list("barcode", flat=True)

    assert not Product.objects.filter(account=account, subcategory__isnull=True).exists()
    assert Category.objects.filter(account=account, parent__isnull=True).count() == 10
    assert promotions_in_effect(account=account, barcodes=barcodes, at=timezone.now()).count() == 500


def test_customers_have_valid_unique_cpfs_and_contacts(tiny):
    customers = Customer.objects.filter(account__name="Tiny")
    documents = [customer.document for customer in customers]

    assert len(set(documents)) == 50
    assert all(CPF().validate(document) for document in documents)
    assert all(normalize_phone(customer.phone) == customer.phone for customer in customers)


def test_cpf_check_digits():
    assert cpf_with_check_digits("539335150") == "53933515009"
    assert cpf_with_check_digits("111444777") == "11144477735"
    assert all(CPF().validate(customer_document(index)) for index in range(0, 100_000, 997))


def test_the_program_rewards_every_sale(tiny):
    assert set(RewardRule.objects.filter(account__name="Tiny").values_list("kind", flat=True)) == {
        "cashback",
        "points",
    }


def test_every_wallet_holds_balance_for_the_benchmarks_redemptions(tiny):
    wallets = Wallet.objects.filter(customer__account__name="Tiny")

    assert all(wallet.balance >= 2 for wallet in wallets)


def test_an_existing_account_name_is_refused():
    seed(account_name="Twice", customers=2, ledger_rows=4, products=10, promotions=2)

    with pytest.raises(CommandError, match="exists already"):
        seed(account_name="Twice", customers=2, ledger_rows=4, products=10, promotions=2)
    assert Account.objects.filter(name="Twice").count() == 1


def test_every_request_of_the_benchmark_is_accepted(tiny):
    """The load generator's requests, built from the seeded account, as the API takes them."""
    token = (
        APIClient()
        .post(
            "/api/v2/auth/token",
            {"api_key": tiny["api_key"], "api_secret": tiny["api_secret"]},
            format="json",
        )
        .json()["access_token"]
    )
    client = APIClient()

    for operation in BenchClient(tiny, token, run_tag="test").operations():
        for index in range(3):
            request = operation.make_request(index)
            response = client.generic(
                request.method,
                request.path,
                request.body or b"",
                content_type="application/json",
                **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in request.headers},
            )
            assert response.status_code in (200, 201), (operation.key, response.content)
    assert wallet_mismatches() == []
