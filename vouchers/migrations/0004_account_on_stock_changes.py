"""The account's id on every stock change, backfilled from its reward (one UPDATE, which works
on a populated PostgreSQL), then NOT NULL."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Reward = apps.get_model("vouchers", "Reward")
    apps.get_model("vouchers", "StockChange").objects.update(
        account_id=Subquery(Reward.objects.filter(pk=OuterRef("reward_id")).values("account_id")[:1])
    )


def account(null: bool):
    return models.ForeignKey(
        null=null, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="loyalty.account"
    )


class Migration(migrations.Migration):

    dependencies = [
        ("vouchers", "0003_redemption_identity"),
        ("loyalty", "0005_idempotency_answers_only"),
    ]

    operations = [
        migrations.AddField(model_name="stockchange", name="account", field=account(null=True)),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(model_name="stockchange", name="account", field=account(null=False)),
    ]
