"""The migrations that put the account on every tenant-owned row fill it right on a populated
database: rows of two accounts, written under the schema before, each get their own."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("customers", "0005_ledgerentry_redemption_ledgerentry_voucher"),
    ("loyalty", "0005_idempotency_answers_only"),
    ("promotions", "0002_initial"),
    ("sales", "0004_sale_rewards_from_the_ledger"),
    ("vouchers", "0003_redemption_identity"),
]
AFTER = [
    ("customers", "0006_account_on_wallets_and_ledger"),
    ("loyalty", "0006_account_on_links_and_attempts"),
    ("promotions", "0003_account_on_promotion_uses"),
    ("sales", "0005_account_on_items_and_payments"),
    ("vouchers", "0004_account_on_stock_changes"),
]
WHEN = datetime(2024, 5, 24, 18, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_apps():
    yield migrate(BEFORE)
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def holdings(apps, name: str) -> dict:
    """One of everything, for a new account, written as the code before wrote it."""
    model = apps.get_model
    account = model("loyalty", "Account").objects.create(name=name, time_zone="America/Sao_Paulo")
    store = model("loyalty", "Store").objects.create(
        account=account, name="Loja", token_digest=f"{name:x<64}"[:64], token_prefix="st_"
    )
    customer = model("customers", "Customer").objects.create(account=account, document=None, name=name)
    wallet = model("customers", "Wallet").objects.create(customer=customer, balance=Decimal(5))
    entry = model("customers", "LedgerEntry").objects.create(
        wallet=wallet, kind="adjustment", balance=Decimal(5)
    )
    sale = model("sales", "Sale").objects.create(
        account=account,
        store=store,
        customer=customer,
        source="pos",
        type="CF",
        occurred_at=WHEN,
        local_date=date(2024, 5, 24),
        reference=f"{name}-1",
        amount=Decimal(10),
    )
    item = model("sales", "SaleItem").objects.create(
        sale=sale, position=1, unit_value=Decimal(10), quantity=Decimal(1), total=Decimal(10)
    )
    payment = model("sales", "SalePayment").objects.create(sale=sale, position=1, method=1, total=Decimal(10))
    category = model("promotions", "Category").objects.create(account=account, name=f"{name} Mercearia")
    product = model("promotions", "Product").objects.create(
        account=account, barcode="123", name="Arroz", unit="un", category=category, price=Decimal(10)
    )
    promotion = model("promotions", "Promotion").objects.create(
        account=account, product=product, percent_off=Decimal(10), starts_at=WHEN
    )
    use = model("promotions", "PromotionUse").objects.create(
        promotion=promotion, customer=customer, sale=sale
    )
    reward = model("vouchers", "Reward").objects.create(
        account=account, name="Vale", points_cost=Decimal(10), value=Decimal(5), stock=3
    )
    change = model("vouchers", "StockChange").objects.create(
        reward=reward, from_stock=0, to_stock=3, reason="x"
    )
    message = model("loyalty", "Message").objects.create(
        account=account,
        customer=customer,
        sale=sale,
        event="sale_rewarded",
        channel="sms",
        recipient="1",
        body="b",
        next_attempt_at=WHEN,
    )
    attempt = model("loyalty", "MessageAttempt").objects.create(message=message, succeeded=True)
    rule = model("loyalty", "RewardRule").objects.create(account=account, name="R", kind="cashback", value=1)
    rule.stores.add(store)
    rule.categories.add(category)
    return {
        "account": account.pk,
        ("customers", "Wallet"): wallet.pk,
        ("customers", "LedgerEntry"): entry.pk,
        ("sales", "SaleItem"): item.pk,
        ("sales", "SalePayment"): payment.pk,
        ("promotions", "PromotionUse"): use.pk,
        ("vouchers", "StockChange"): change.pk,
        ("loyalty", "MessageAttempt"): attempt.pk,
        "rule": rule.pk,
    }


def test_every_row_gets_its_own_account(old_apps):
    held = [holdings(old_apps, "Alfa"), holdings(old_apps, "Beta")]

    apps = migrate(AFTER)

    for rows in held:
        for (app, name), pk in ((key, value) for key, value in rows.items() if isinstance(key, tuple)):
            assert apps.get_model(app, name).objects.get(pk=pk).account_id == rows["account"], name
        for link in ("RuleStore", "RuleCategory"):
            links = apps.get_model("loyalty", link).objects.filter(rewardrule_id=rows["rule"])
            assert list(links.values_list("account_id", flat=True)) == [rows["account"]], link
