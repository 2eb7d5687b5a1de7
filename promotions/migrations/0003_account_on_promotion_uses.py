"""The account's id on every promotion use, backfilled from its promotion (one UPDATE, which
works on a populated PostgreSQL), then NOT NULL; its unique constraint includes it."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Promotion = apps.get_model("promotions", "Promotion")
    apps.get_model("promotions", "PromotionUse").objects.update(
        account_id=Subquery(Promotion.objects.filter(pk=OuterRef("promotion_id")).values("account_id")[:1])
    )


def account(null: bool):
    return models.ForeignKey(
        null=null, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="loyalty.account"
    )


class Migration(migrations.Migration):

    dependencies = [
        ("promotions", "0002_initial"),
        ("loyalty", "0005_idempotency_answers_only"),
    ]

    operations = [
        migrations.AddField(model_name="promotionuse", name="account", field=account(null=True)),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(model_name="promotionuse", name="account", field=account(null=False)),
        migrations.RemoveConstraint(model_name="promotionuse", name="promotion_use_once_per_sale"),
        migrations.AddConstraint(
            model_name="promotionuse",
            constraint=models.UniqueConstraint(
                fields=("account", "promotion", "sale"), name="promotion_use_once_per_sale"
            ),
        ),
    ]
