"""A balance redemption is identified like a purchase: store, type, local day and receipt.

Before, the identity also held the amounts, so the same receipt could carry several
redemptions with different amounts. Those rows happened and stay as they are: every one
after the first of its receipt is marked `legacy_duplicate`, which the new unique
constraints leave out.
"""

from django.db import migrations, models

BATCH = 1000


def identity(row: dict) -> tuple | None:
    scope = (row["account_id"], row["store_id"], row["type"], row["local_date"])
    if row["pdv"] and row["coupon"]:
        return (*scope, "receipt", row["pdv"], row["coupon"])
    if row["reference"]:
        return (*scope, "reference", row["reference"])
    return None


def mark_legacy_duplicates(apps, schema_editor):
    BalanceRedemption = apps.get_model("vouchers", "BalanceRedemption")
    rows = BalanceRedemption.objects.order_by("id").values(
        "id", "account_id", "store_id", "type", "local_date", "reference", "pdv", "coupon"
    )
    seen: set[tuple] = set()
    duplicates: list[int] = []
    for row in rows.iterator(chunk_size=BATCH):
        key = identity(row)
        if key is None:
            continue
        if key in seen:
            duplicates.append(row["id"])
        else:
            seen.add(key)
    for start in range(0, len(duplicates), BATCH):
        BalanceRedemption.objects.filter(pk__in=duplicates[start : start + BATCH]).update(legacy_duplicate=True)


class Migration(migrations.Migration):

    dependencies = [
        ('vouchers', '0002_voucher_used_reference_voucher_used_store_reward_and_more'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='balanceredemption',
            name='redemption_retry_is_the_same',
        ),
        migrations.AddField(
            model_name='balanceredemption',
            name='legacy_duplicate',
            field=models.BooleanField(default=False, editable=False, help_text='Recorded under the same receipt as an earlier redemption, before one redemption per receipt was enforced; kept as it happened.'),
        ),
        migrations.RunPython(mark_legacy_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='balanceredemption',
            constraint=models.UniqueConstraint(condition=models.Q(('legacy_duplicate', False), models.Q(('pdv', ''), _negated=True), models.Q(('coupon', ''), _negated=True)), fields=('account', 'store', 'type', 'local_date', 'pdv', 'coupon'), name='redemption_receipt_unique'),
        ),
        migrations.AddConstraint(
            model_name='balanceredemption',
            constraint=models.UniqueConstraint(condition=models.Q(('legacy_duplicate', False), models.Q(('reference', ''), _negated=True), models.Q(('pdv', ''), ('coupon', ''), _connector='OR')), fields=('account', 'store', 'type', 'local_date', 'reference'), name='redemption_reference_unique'),
        ),
    ]
