"""A POS purchase is identified by store, type, local day and its receipt: `pdv` + `coupon`
when both were sent, otherwise `reference` (see `loyalty.core.receipts`).

The constraints before were stricter (the reference was unique even among purchases with
a fiscal receipt), so every existing row satisfies the new unique constraints. The new check
requires each POS purchase to carry one of the two forms, which the API always demanded; a
row without either (none is expected) is given the reference `sale-<id>` so that it stays
valid and can still be named.
"""

from django.db import migrations, models
from django.db.models import Q
from django.db.models.functions import Cast, Concat


def name_unidentified_purchases(apps, schema_editor):
    Sale = apps.get_model("sales", "Sale")
    unidentified = Sale.objects.filter(Q(pdv="") | Q(coupon=""), source="pos", reference="")
    unidentified.update(reference=Concat(models.Value("sale-"), Cast("id", models.CharField())))


class Migration(migrations.Migration):

    dependencies = [
        ('sales', '0002_cancel_permission'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='sale',
            name='sale_pos_reference_unique',
        ),
        migrations.RemoveConstraint(
            model_name='sale',
            name='sale_pos_pdv_coupon_unique',
        ),
        migrations.AddConstraint(
            model_name='sale',
            constraint=models.UniqueConstraint(condition=models.Q(('source', 'pos'), models.Q(('pdv', ''), _negated=True), models.Q(('coupon', ''), _negated=True)), fields=('account', 'store', 'type', 'local_date', 'pdv', 'coupon'), name='sale_pos_receipt_unique'),
        ),
        migrations.AddConstraint(
            model_name='sale',
            constraint=models.UniqueConstraint(condition=models.Q(('source', 'pos'), models.Q(('reference', ''), _negated=True), models.Q(('pdv', ''), ('coupon', ''), _connector='OR')), fields=('account', 'store', 'type', 'local_date', 'reference'), name='sale_pos_reference_unique'),
        ),
        migrations.RunPython(name_unidentified_purchases, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='sale',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('source', 'pos'), _negated=True), models.Q(models.Q(('pdv', ''), _negated=True), models.Q(('coupon', ''), _negated=True)), models.Q(('reference', ''), _negated=True), _connector='OR'), name='sale_pos_has_identity'),
        ),
    ]
