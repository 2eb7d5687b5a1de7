"""Expiry lots, and what of each wallet sits in them; the ledger records what debits spent of them."""

import django.db.models.deletion
import loyalty.core.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_account_on_wallets_and_ledger"),
        ("loyalty", "0006_account_on_links_and_attempts"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExpiryLot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "bucket",
                    models.CharField(
                        choices=[("points", "Points"), ("balance", "Cashback balance")], max_length=16
                    ),
                ),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14)),
                ("remaining", models.DecimalField(decimal_places=2, max_digits=14)),
                (
                    "expires_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="The first instant it can no longer be spent (local midnight after its last day); empty: only inactivity expires it.",
                        null=True,
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["wallet", "bucket", "expires_at", "id"],
            },
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="lots_spent",
            field=models.JSONField(
                blank=True,
                help_text="Debits of points or balance: how much of each expiry lot (by id) the row spent.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="wallet",
            name="inactivity_expires_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="Accounts with expiry by inactivity: the first instant at which points and cashback expire.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="wallet",
            name="lot_balance",
            field=loyalty.core.fields.MoneyField(
                db_default=0, decimal_places=2, default=0, editable=False, max_digits=14
            ),
        ),
        migrations.AddField(
            model_name="wallet",
            name="lot_points",
            field=loyalty.core.fields.PointsField(
                db_default=0, decimal_places=2, default=0, editable=False, max_digits=14
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("purchase", "Purchase totals"),
                    ("cashback", "Cashback"),
                    ("points", "Points"),
                    ("digital_change_credit", "Digital change credit"),
                    ("digital_change_debit", "Digital change debit"),
                    ("balance_redeem", "Balance redeemed"),
                    ("points_redeem", "Points redeemed"),
                    ("reversal", "Reversal"),
                    ("adjustment", "Adjustment"),
                    ("expiry", "Expiry"),
                    ("release", "Release"),
                    ("return", "Return"),
                ],
                max_length=32,
            ),
        ),
        migrations.AddIndex(
            model_name="wallet",
            index=models.Index(
                condition=models.Q(("inactivity_expires_at__isnull", False)),
                fields=["inactivity_expires_at"],
                name="wallet_inactivity_due",
            ),
        ),
        migrations.AddField(
            model_name="expirylot",
            name="account",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="loyalty.account"
            ),
        ),
        migrations.AddField(
            model_name="expirylot",
            name="entry",
            field=models.ForeignKey(
                help_text="The ledger row that credited it.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lots",
                to="customers.ledgerentry",
            ),
        ),
        migrations.AddField(
            model_name="expirylot",
            name="given_back_from",
            field=models.ForeignKey(
                blank=True,
                help_text="A give-back: the lot the cancelled debit had spent.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="customers.expirylot",
            ),
        ),
        migrations.AddField(
            model_name="expirylot",
            name="store",
            field=models.ForeignKey(
                blank=True,
                help_text="Where it was earned.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="loyalty.store",
            ),
        ),
        migrations.AddField(
            model_name="expirylot",
            name="wallet",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="lots", to="customers.wallet"
            ),
        ),
        migrations.AddIndex(
            model_name="expirylot",
            index=models.Index(
                condition=models.Q(("remaining__gt", 0)),
                fields=["wallet", "bucket", "expires_at", "id"],
                name="lot_wallet_spendable",
            ),
        ),
        migrations.AddIndex(
            model_name="expirylot",
            index=models.Index(
                condition=models.Q(("remaining__gt", 0)),
                fields=["account", "expires_at"],
                name="lot_account_due",
            ),
        ),
        migrations.AddConstraint(
            model_name="expirylot",
            constraint=models.CheckConstraint(
                condition=models.Q(("remaining__gte", 0), ("remaining__lte", models.F("amount"))),
                name="lot_remaining_in_range",
            ),
        ),
    ]
