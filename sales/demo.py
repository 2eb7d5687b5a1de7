"""Demo purchases of the demo customers, recorded through the real service, for `seed_demo`."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from loyalty.core.receipts import Receipt
from loyalty.core.vocabulary import PaymentMethod
from sales.models import Sale
from sales.outcomes import ItemData, PaymentData, SaleInput
from sales.services import sale_record

# (consumer, reference, items, change the till credited as digital change). Maria's change
# lets the README's balance redemption spend digital change as written.
DEMO_PURCHASES = (
    ("53933515009", "DEMO-1", [("13456789", "Batata Pringles Cheddar Bacon 105g", "12.99", "2")], "0"),
    (
        "53933515009",
        "DEMO-2",
        [("123456789", "Arroz 5kg", "27.90", "1"), ("13456789", "Pringles", "12.99", "1")],
        "5.00",
    ),
    ("11144477735", "DEMO-3", [("999999", "Azeite Extra Virgem 500ml", "36.59", "6")], "0"),
)


def seed(*, account, store) -> None:
    now = timezone.now()
    for days_ago, (document, reference, lines, change) in enumerate(DEMO_PURCHASES, start=1):
        if Sale.objects.filter(account=account, store=store, reference=reference).exists():
            continue
        items = [
            ItemData(
                barcode=barcode,
                name=name,
                unit="un",
                unit_value=Decimal(price),
                quantity=Decimal(quantity),
                total=Decimal(price) * Decimal(quantity),
            )
            for barcode, name, price, quantity in lines
        ]
        total = sum((item.total for item in items), Decimal("0"))
        sent = SaleInput(
            source=Sale.Source.POS,
            store=store,
            occurred_at=now - timedelta(days=days_ago),
            document=document,
            type="CF",
            receipt=Receipt(reference=reference, pdv="1", coupon=reference),
            operator="Demo",
            items=tuple(items),
            # Change is credited on a cash payment; the others pay by card.
            payments=(
                PaymentData(
                    method=PaymentMethod.CASH if Decimal(change) else PaymentMethod.CREDIT_CARD,
                    total=total,
                    digital_change=Decimal(change),
                ),
            ),
        )
        sale_record(account=account, sent=sent)
