"""Ledger rows of a return name it."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0008_lot_expired'),
        ('sales', '0006_returns'),
    ]

    operations = [
        migrations.AddField(
            model_name='ledgerentry',
            name='sale_return',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='ledger_entries', to='sales.salereturn'),
        ),
    ]
