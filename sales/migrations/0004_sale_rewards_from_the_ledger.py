"""What a sale earned is read from the rows that record it — the engine's ledger grants and the
messages queued for the sale, which point to it — so the sale row is written once and no
longer carries copies of them. Nothing is lost: the ledger holds every grant, and going back
recomputes the copies from it.
"""

from django.db import migrations
from django.db.models import Count, DecimalField, F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce


def restore_copies(apps, schema_editor):
    Sale = apps.get_model("sales", "Sale")
    LedgerEntry = apps.get_model("customers", "LedgerEntry")
    Message = apps.get_model("loyalty", "Message")

    def granted(kind, first, second):
        total = (
            LedgerEntry.objects.filter(sale=OuterRef("pk"), kind=kind)
            .order_by()
            .values("sale")
            .annotate(total=Sum(F(first) + F(second)))
            .values("total")
        )
        return Coalesce(Subquery(total, output_field=DecimalField()), Value(0), output_field=DecimalField())

    messages = Message.objects.filter(sale=OuterRef("pk")).order_by().values("sale").annotate(n=Count("id"))
    Sale.objects.update(
        cashback=granted("cashback", "balance", "pending_balance"),
        points=granted("points", "points", "pending_points"),
        messages_queued=Coalesce(Subquery(messages.values("n"), output_field=IntegerField()), Value(0)),
    )


class Migration(migrations.Migration):

    dependencies = [
        ("sales", "0003_purchase_identity"),
        ("customers", "0005_ledgerentry_redemption_ledgerentry_voucher"),
        ("loyalty", "0004_message_withdrawn"),
    ]

    operations = [
        # Forwards nothing to do; backwards, once the columns are back, their values.
        migrations.RunPython(migrations.RunPython.noop, restore_copies),
        migrations.RemoveField(model_name="sale", name="cashback"),
        migrations.RemoveField(model_name="sale", name="messages_queued"),
        migrations.RemoveField(model_name="sale", name="points"),
    ]
