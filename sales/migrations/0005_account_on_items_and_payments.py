"""The account's id on every sale item and payment, backfilled from their sale (one UPDATE
per table, which works on a populated PostgreSQL), then NOT NULL."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Sale = apps.get_model("sales", "Sale")
    for name in ("SaleItem", "SalePayment"):
        apps.get_model("sales", name).objects.update(
            account_id=Subquery(Sale.objects.filter(pk=OuterRef("sale_id")).values("account_id")[:1])
        )


def account(null: bool):
    return models.ForeignKey(
        null=null, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="loyalty.account"
    )


class Migration(migrations.Migration):

    dependencies = [
        ("sales", "0004_sale_rewards_from_the_ledger"),
        ("loyalty", "0005_idempotency_answers_only"),
    ]

    operations = [
        migrations.AddField(model_name="saleitem", name="account", field=account(null=True)),
        migrations.AddField(model_name="salepayment", name="account", field=account(null=True)),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(model_name="saleitem", name="account", field=account(null=False)),
        migrations.AlterField(model_name="salepayment", name="account", field=account(null=False)),
    ]
