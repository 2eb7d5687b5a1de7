"""The account's id on every message attempt and on the links of rules to stores and categories.

The links were Django's own many-to-many tables; they become explicit models on the same
tables (a change of state only), gain the account (backfilled from their rule with one
UPDATE, which works on a populated PostgreSQL), and their unique constraint includes it.
A store token is unique within its account: the till's bearer token names the account.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    RewardRule = apps.get_model("loyalty", "RewardRule")
    Message = apps.get_model("loyalty", "Message")
    for name in ("RuleStore", "RuleCategory"):
        apps.get_model("loyalty", name).objects.update(
            account_id=Subquery(RewardRule.objects.filter(pk=OuterRef("rewardrule_id")).values("account_id")[:1])
        )
    apps.get_model("loyalty", "MessageAttempt").objects.update(
        account_id=Subquery(Message.objects.filter(pk=OuterRef("message_id")).values("account_id")[:1])
    )


def drop_old_link_uniques(apps, schema_editor):
    """Django's many-to-many tables carried a unique (rule, target) of its own naming."""
    for name, target in (("RuleStore", "store_id"), ("RuleCategory", "category_id")):
        model = apps.get_model("loyalty", name)
        with schema_editor.connection.cursor() as cursor:
            constraints = schema_editor.connection.introspection.get_constraints(cursor, model._meta.db_table)
        for constraint, details in constraints.items():
            if details["unique"] and not details["primary_key"] and details["columns"] == ["rewardrule_id", target]:
                schema_editor.execute(schema_editor._delete_unique_sql(model, constraint))


def restore_old_link_uniques(apps, schema_editor):
    """Going back: Django's many-to-many tables again carry their unique (rule, target)."""
    RewardRule = apps.get_model("loyalty", "RewardRule")
    for name, target in (("stores", "store"), ("categories", "category")):
        through = RewardRule._meta.get_field(name).remote_field.through
        fields = [through._meta.get_field("rewardrule"), through._meta.get_field(target)]
        schema_editor.execute(schema_editor._create_unique_sql(through, fields))


def account(null: bool, on_delete=django.db.models.deletion.CASCADE):
    return models.ForeignKey(null=null, on_delete=on_delete, related_name="+", to="loyalty.account")


def link_state(name: str, table: str, target_field: str, target: str) -> migrations.CreateModel:
    return migrations.CreateModel(
        name=name,
        fields=[
            ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
            (
                "rewardrule",
                models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE, related_name="+", to="loyalty.rewardrule"
                ),
            ),
            (
                target_field,
                models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to=target),
            ),
        ],
        options={"db_table": table},
    )


class Migration(migrations.Migration):

    dependencies = [
        ("loyalty", "0005_idempotency_answers_only"),
        ("promotions", "0002_initial"),
    ]

    operations = [
        # Nothing forwards; backwards, last of all, once the tables are Django's own again.
        migrations.RunPython(migrations.RunPython.noop, restore_old_link_uniques),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                link_state("RuleStore", "loyalty_rewardrule_stores", "store", "loyalty.store"),
                link_state("RuleCategory", "loyalty_rewardrule_categories", "category", "promotions.category"),
                migrations.AlterField(
                    model_name="rewardrule",
                    name="stores",
                    field=models.ManyToManyField(
                        blank=True,
                        help_text="Empty: every store.",
                        related_name="+",
                        through="loyalty.RuleStore",
                        to="loyalty.store",
                    ),
                ),
                migrations.AlterField(
                    model_name="rewardrule",
                    name="categories",
                    field=models.ManyToManyField(
                        blank=True,
                        help_text="Only items of these categories (children included) are eligible; empty: the whole sale.",
                        related_name="+",
                        through="loyalty.RuleCategory",
                        to="promotions.category",
                    ),
                ),
            ],
        ),
        migrations.AddField(model_name="rulestore", name="account", field=account(null=True)),
        migrations.AddField(model_name="rulecategory", name="account", field=account(null=True)),
        migrations.AddField(model_name="messageattempt", name="account", field=account(null=True)),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(model_name="rulestore", name="account", field=account(null=False)),
        migrations.AlterField(model_name="rulecategory", name="account", field=account(null=False)),
        migrations.AlterField(model_name="messageattempt", name="account", field=account(null=False)),
        migrations.RunPython(drop_old_link_uniques, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="rulestore",
            constraint=models.UniqueConstraint(fields=("account", "rewardrule", "store"), name="rule_store_once"),
        ),
        migrations.AddConstraint(
            model_name="rulecategory",
            constraint=models.UniqueConstraint(
                fields=("account", "rewardrule", "category"), name="rule_category_once"
            ),
        ),
        migrations.AlterField(
            model_name="store",
            name="token_digest",
            field=models.CharField(editable=False, max_length=64),
        ),
        migrations.AddConstraint(
            model_name="store",
            constraint=models.UniqueConstraint(
                fields=("account", "token_digest"), name="store_token_unique_per_account"
            ),
        ),
    ]
