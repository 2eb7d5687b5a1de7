"""What of each lot expired, so that cancelling its sale does not take it back twice."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0007_expiry_lots'),
        ('loyalty', '0008_template_expiry_placeholder'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='expirylot',
            name='lot_remaining_in_range',
        ),
        migrations.AddField(
            model_name='expirylot',
            name='expired',
            field=models.DecimalField(db_default=0, decimal_places=2, default=0, help_text='What of it expired: a cancel of its sale does not take that back a second time.', max_digits=14),
        ),
        migrations.AddConstraint(
            model_name='expirylot',
            constraint=models.CheckConstraint(condition=models.Q(('remaining__gte', 0), ('expired__gte', 0), ('remaining__lte', models.F('amount'))), name='lot_remaining_in_range'),
        ),
    ]
