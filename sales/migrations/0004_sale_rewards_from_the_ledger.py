"""What a sale earned is read from the rows that record it — the engine's ledger grants and the
messages queued for the sale, which point to it — so the sale row is written once and no
longer carries copies of them. Nothing is lost: the ledger holds every grant.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('sales', '0003_purchase_identity'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='sale',
            name='cashback',
        ),
        migrations.RemoveField(
            model_name='sale',
            name='messages_queued',
        ),
        migrations.RemoveField(
            model_name='sale',
            name='points',
        ),
    ]
