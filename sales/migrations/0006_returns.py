"""Returns of part of a sale, and their lines."""

import django.db.models.deletion
import loyalty.core.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('loyalty', '0008_template_expiry_placeholder'),
        ('sales', '0005_account_on_items_and_payments'),
    ]

    operations = [
        migrations.CreateModel(
            name='SaleReturn',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reference', models.CharField(help_text="The ERP's id of the return.", max_length=64)),
                ('amount', loyalty.core.fields.MoneyField(decimal_places=2, help_text='What the returned units were worth in the sale.', max_digits=14)),
                ('discount', loyalty.core.fields.MoneyField(decimal_places=2, default=0, help_text='The promotion discounts of the returned units.', max_digits=14)),
                ('completes', models.BooleanField(default=False, help_text='Nothing of the sale is left after it: the purchase no longer counts.')),
                ('outcome', models.JSONField(blank=True, default=dict, help_text='What it took back, as first answered (the same reference answers it).')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='loyalty.account')),
                ('sale', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='returns', to='sales.sale')),
            ],
            options={
                'ordering': ['sale', 'id'],
            },
        ),
        migrations.CreateModel(
            name='SaleReturnLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('quantity', loyalty.core.fields.QuantityField(decimal_places=3, max_digits=14)),
                ('total', loyalty.core.fields.MoneyField(decimal_places=2, help_text="The line's total for these units.", max_digits=14)),
                ('discount', loyalty.core.fields.MoneyField(decimal_places=2, default=0, max_digits=14)),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='loyalty.account')),
                ('item', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='returned', to='sales.saleitem')),
                ('sale_return', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='sales.salereturn')),
            ],
            options={
                'ordering': ['sale_return', 'item__position'],
            },
        ),
        migrations.AddConstraint(
            model_name='salereturn',
            constraint=models.UniqueConstraint(fields=('account', 'sale', 'reference'), name='sale_return_reference_unique'),
        ),
        migrations.AddConstraint(
            model_name='salereturn',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gte', 0)), name='sale_return_amount_not_negative'),
        ),
    ]
