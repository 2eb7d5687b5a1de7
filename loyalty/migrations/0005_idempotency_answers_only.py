"""An `Idempotency-Key` row now exists only once its request has answered.

Rows without an answer were claims of requests that never finished: there is nothing to
replay for them, and the key is free again.
"""

from django.db import migrations, models


def forget_unanswered_claims(apps, schema_editor):
    IdempotencyKey = apps.get_model("loyalty", "IdempotencyKey")
    IdempotencyKey.objects.filter(models.Q(response_status__isnull=True) | models.Q(response_body__isnull=True)).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("loyalty", "0004_message_withdrawn"),
    ]

    operations = [
        migrations.RunPython(forget_unanswered_claims, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="idempotencykey",
            name="response_body",
            field=models.BinaryField(),
        ),
        migrations.AlterField(
            model_name="idempotencykey",
            name="response_status",
            field=models.PositiveSmallIntegerField(),
        ),
    ]
