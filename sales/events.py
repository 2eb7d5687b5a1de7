"""What the webhook events of a sale say about it: one shape for `sale.recorded` and
`sale.cancelled`, so that a receiver reads both the same way."""

from typing import Any

from sales.models import Sale


def sale_event_data(sale: Sale) -> dict[str, Any]:
    """The sale's keys as its till sent them, its store, customer and amount."""
    return {
        "sale_id": sale.pk,
        "source": sale.source,
        "type": sale.type,
        "reference": sale.reference,
        "pdv": sale.pdv,
        "coupon": sale.coupon,
        "store_id": sale.store_id,
        "customer_id": sale.customer_id,
        "amount": sale.amount,
    }
