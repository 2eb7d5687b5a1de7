"""An `Idempotency-Key` row now exists only once its request has answered, and a till's key
is scoped to its store.

Rows without an answer were claims of requests that never finished: there is nothing to
replay for them, and the key is free again. Rows kept from before have no scope, like the
server-to-server dialect's keys.
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
        migrations.RemoveConstraint(
            model_name="idempotencykey",
            name="idempotency_key_unique",
        ),
        migrations.AddField(
            model_name="idempotencykey",
            name="scope",
            field=models.CharField(
                blank=True,
                help_text="`store:<id>` for a till's key; empty for the server-to-server dialect.",
                max_length=32,
            ),
        ),
        migrations.AddConstraint(
            model_name="idempotencykey",
            constraint=models.UniqueConstraint(
                fields=("account", "scope", "key"), name="idempotency_key_unique_in_scope"
            ),
        ),
    ]
