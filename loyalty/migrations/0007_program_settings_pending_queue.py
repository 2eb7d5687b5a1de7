"""The program settings on the account, and the release queue of pending grants.

Grants still pending when this runs (neither released nor reversed) join the queue.
"""

import django.core.validators
import django.db.models.deletion
import loyalty.core.fields
from decimal import Decimal
from django.db import migrations, models


def queue_pending_grants(apps, schema_editor):
    LedgerEntry = apps.get_model("customers", "LedgerEntry")
    PendingGrant = apps.get_model("loyalty", "PendingGrant")
    waiting = (
        LedgerEntry.objects.filter(
            releases_at__isnull=False, released_by__isnull=True, reversed_by__isnull=True
        )
        .exclude(kind="reversal")
        .select_related("rule")
        .order_by("id")
    )
    PendingGrant.objects.bulk_create(
        [
            PendingGrant(
                account_id=entry.account_id,
                wallet_id=entry.wallet_id,
                entry_id=entry.pk,
                releases_at=entry.releases_at,
                valid_days=entry.rule.valid_days if entry.rule_id else None,
            )
            for entry in waiting.iterator(chunk_size=2000)
        ],
        batch_size=2000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_expiry_lots"),
        ("loyalty", "0006_account_on_links_and_attempts"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="expiry_inactivity_days",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Points and cashback expire this many days after the customer's last purchase (each purchase pushes it back); empty: never by inactivity. Applies to purchases made after the change.",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(30),
                    django.core.validators.MaxValueValidator(3650),
                ],
            ),
        ),
        migrations.AddField(
            model_name="account",
            name="expiry_reminder_days",
            field=models.PositiveSmallIntegerField(
                db_default=7,
                default=7,
                help_text="Days before rewards expire that the 'rewards expiring' message is queued; 0: no reminder.",
                validators=[django.core.validators.MaxValueValidator(365)],
            ),
        ),
        migrations.AddField(
            model_name="account",
            name="redeem_max_share",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="The largest percent of a purchase that cashback balance may pay; empty: no limit.",
                max_digits=5,
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(Decimal("0.01")),
                    django.core.validators.MaxValueValidator(100),
                ],
            ),
        ),
        migrations.AddField(
            model_name="account",
            name="redeem_min_balance",
            field=loyalty.core.fields.MoneyField(
                db_default=0,
                decimal_places=2,
                default=0,
                help_text="The cashback balance a customer must hold before spending any of it (R$).",
                max_digits=14,
                validators=[django.core.validators.MinValueValidator(0)],
            ),
        ),
        migrations.AddField(
            model_name="account",
            name="redeem_min_purchase",
            field=loyalty.core.fields.MoneyField(
                db_default=0,
                decimal_places=2,
                default=0,
                help_text="The smallest purchase on which cashback balance may be spent (R$).",
                max_digits=14,
                validators=[django.core.validators.MinValueValidator(0)],
            ),
        ),
        migrations.AlterField(
            model_name="rewardrule",
            name="pending_days",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Days before what it grants becomes available.",
                null=True,
                validators=[django.core.validators.MaxValueValidator(3650)],
            ),
        ),
        migrations.AlterField(
            model_name="rewardrule",
            name="valid_days",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Points and cashback it grants can be spent until the end of the local day this many days after they became available; vouchers: their validity. Empty: no expiry. A change applies to later grants.",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(3650),
                ],
            ),
        ),
        migrations.CreateModel(
            name="ExpiryReminder",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "expires_on",
                    models.DateField(help_text="The last local day on which the rewards can be spent."),
                ),
                ("points", models.DecimalField(decimal_places=2, max_digits=14)),
                ("balance", models.DecimalField(decimal_places=2, max_digits=14)),
                (
                    "messages",
                    models.PositiveIntegerField(
                        default=0, help_text="Messages queued (one per matching template)."
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="loyalty.account"
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="customers.customer"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("account", "customer", "expires_on"), name="expiry_reminder_once_per_date"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="PendingGrant",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("releases_at", models.DateTimeField()),
                (
                    "valid_days",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="The rule's validity when it granted: counted from the release.",
                        null=True,
                    ),
                ),
                (
                    "settled_at",
                    models.DateTimeField(
                        blank=True, help_text="When it was released or reversed.", null=True
                    ),
                ),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="loyalty.account"
                    ),
                ),
                (
                    "entry",
                    loyalty.core.fields.TenantOneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="pending_grant",
                        to="customers.ledgerentry",
                    ),
                ),
                (
                    "wallet",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="customers.wallet"
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("settled_at__isnull", True)),
                        fields=["releases_at"],
                        name="pending_grant_due",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("account", "entry"), name="pending_grant_once")
                ],
            },
        ),
        migrations.RunPython(queue_pending_grants, migrations.RunPython.noop),
    ]
