"""The migrations that enforce purchase identity keep every existing row, valid.

Rows are written under the schema before the migration (as the old code allowed), then the
migration runs forward: nothing is lost, and the new unique constraints hold.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("sales", "0002_cancel_permission"),
    ("vouchers", "0002_voucher_used_reference_voucher_used_store_reward_and_more"),
]
AFTER = [("sales", "0003_purchase_identity"), ("vouchers", "0003_redemption_identity")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_apps():
    apps = migrate(BEFORE)
    yield apps
    migrate(executor_leaf_nodes())


def executor_leaf_nodes():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def tenant(apps):
    account = apps.get_model("loyalty", "Account").objects.create(
        name="Mercado Antigo", time_zone="America/Sao_Paulo"
    )
    store = apps.get_model("loyalty", "Store").objects.create(
        account=account, name="Loja", token_digest="d" * 64, token_prefix="st_"
    )
    customer = apps.get_model("customers", "Customer").objects.create(account=account, document="53933515009")
    return account, store, customer


def test_redemptions_that_share_a_receipt_are_kept_and_marked(old_apps):
    account, store, customer = tenant(old_apps)
    Redemption = old_apps.get_model("vouchers", "BalanceRedemption")
    keys = {
        "account_id": account.pk,
        "customer_id": customer.pk,
        "store_id": store.pk,
        "type": "NF",
        "local_date": date(2024, 6, 19),
    }
    when = datetime(2024, 6, 19, 20, tzinfo=UTC)
    rows = [
        # The old identity held the amounts and all three keys: these four were allowed.
        Redemption.objects.create(
            **keys, occurred_at=when, pdv="2", coupon="2", reference="2", value=Decimal(10)
        ),
        Redemption.objects.create(
            **keys, occurred_at=when, pdv="2", coupon="2", reference="2", value=Decimal(5)
        ),
        Redemption.objects.create(
            **keys, occurred_at=when, pdv="2", coupon="2", reference="3", value=Decimal(10)
        ),
        Redemption.objects.create(**keys, occurred_at=when, reference="9", value=Decimal(1)),
        Redemption.objects.create(**keys, occurred_at=when, reference="9", value=Decimal(2)),
        Redemption.objects.create(
            **keys, occurred_at=when, pdv="3", coupon="1", reference="9", value=Decimal(3)
        ),
    ]

    new_apps = migrate(AFTER)

    Redemption = new_apps.get_model("vouchers", "BalanceRedemption")
    marked = dict(Redemption.objects.values_list("pk", "legacy_duplicate"))
    assert marked == {
        rows[0].pk: False,
        rows[1].pk: True,
        rows[2].pk: True,
        rows[3].pk: False,
        rows[4].pk: True,
        rows[5].pk: False,
    }
    assert sorted(Redemption.objects.values_list("value", flat=True)) == [1, 2, 3, 5, 10, 10]
    with pytest.raises(IntegrityError), transaction.atomic():
        Redemption.objects.create(
            **keys,
            occurred_at=when,
            pdv="2",
            coupon="2",
            value=Decimal(7),
        )


def test_purchases_all_stay_valid_and_one_without_keys_gets_a_name(old_apps):
    account, store, customer = tenant(old_apps)
    Sale = old_apps.get_model("sales", "Sale")
    keys = {
        "account_id": account.pk,
        "store_id": store.pk,
        "source": "pos",
        "type": "CF",
        "local_date": date(2024, 5, 24),
    }
    when = datetime(2024, 5, 24, 18, tzinfo=UTC)
    kept = [
        Sale.objects.create(
            **keys, occurred_at=when, customer_id=customer.pk, amount=24, pdv="1", coupon="15", reference="11"
        ),
        Sale.objects.create(**keys, occurred_at=when, amount=48, pdv="2", coupon="77"),
        Sale.objects.create(**keys, occurred_at=when, amount=5, reference="12"),
    ]
    unnamed = Sale.objects.create(**keys, occurred_at=when, amount=1, pdv="3")

    new_apps = migrate(AFTER)

    Sale = new_apps.get_model("sales", "Sale")
    assert Sale.objects.count() == 4
    assert Sale.objects.get(pk=unnamed.pk).reference == f"sale-{unnamed.pk}"
    assert {sale.pk for sale in kept} <= set(Sale.objects.values_list("pk", flat=True))
    # The second till's sale of reference "11" is now possible, as a distinct purchase.
    Sale.objects.create(
        **keys,
        occurred_at=when,
        amount=48,
        pdv="2",
        coupon="78",
        reference="11",
    )
