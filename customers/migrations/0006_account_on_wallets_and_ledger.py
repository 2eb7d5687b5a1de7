"""The account's id on every wallet and ledger row, and unique constraints that include it.

Backfilled with one UPDATE per table from the row's parent (the customer, then the wallet),
which works on a populated PostgreSQL; the column becomes NOT NULL afterwards. The
one-to-one columns keep their uniqueness through constraints with the account.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

import loyalty.core.fields


def backfill(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    Wallet = apps.get_model("customers", "Wallet")
    LedgerEntry = apps.get_model("customers", "LedgerEntry")
    Wallet.objects.update(
        account_id=Subquery(Customer.objects.filter(pk=OuterRef("customer_id")).values("account_id")[:1])
    )
    LedgerEntry.objects.update(
        account_id=Subquery(Wallet.objects.filter(pk=OuterRef("wallet_id")).values("account_id")[:1])
    )


def account(null: bool):
    return models.ForeignKey(
        null=null, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="loyalty.account"
    )


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0005_ledgerentry_redemption_ledgerentry_voucher"),
        ("loyalty", "0005_idempotency_answers_only"),
    ]

    operations = [
        migrations.AddField(model_name="wallet", name="account", field=account(null=True)),
        migrations.AddField(model_name="ledgerentry", name="account", field=account(null=True)),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(model_name="wallet", name="account", field=account(null=False)),
        migrations.AlterField(model_name="ledgerentry", name="account", field=account(null=False)),
        migrations.AlterField(
            model_name="wallet",
            name="customer",
            field=loyalty.core.fields.TenantOneToOneField(
                on_delete=django.db.models.deletion.PROTECT, related_name="wallet", to="customers.customer"
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="reverses",
            field=loyalty.core.fields.TenantOneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reversed_by",
                to="customers.ledgerentry",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="releases",
            field=loyalty.core.fields.TenantOneToOneField(
                blank=True,
                help_text="Release rows: the pending grant they made available.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="released_by",
                to="customers.ledgerentry",
            ),
        ),
        migrations.AddConstraint(
            model_name="wallet",
            constraint=models.UniqueConstraint(fields=("account", "customer"), name="wallet_one_per_customer"),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reverses__isnull", False)),
                fields=("account", "reverses"),
                name="ledger_reversed_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("releases__isnull", False)),
                fields=("account", "releases"),
                name="ledger_released_once",
            ),
        ),
    ]
