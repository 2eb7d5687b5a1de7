"""Reads of the sales app."""

from datetime import date

from django.db.models import Q, QuerySet

from loyalty.dates import format_api_datetime
from loyalty.models import Account, Store
from sales.models import Sale
from sales.outcomes import SaleRewards


def purchase_keys(*, reference: str = "", pdv: str = "", coupon: str = "") -> Q | None:
    """What names a POS purchase (or its redemptions) besides store, type and day:
    the `reference`, or `pdv` + `coupon`. None when neither is given."""
    keys = Q()
    if reference:
        keys |= Q(reference=reference)
    if pdv and coupon:
        keys |= Q(pdv=pdv, coupon=coupon)
    return keys or None


def sale_queryset(*, account: Account) -> QuerySet[Sale]:
    """The account's sales with what their representation needs, newest first."""
    return (
        Sale.objects.filter(account=account)
        .select_related("customer")
        .prefetch_related("items", "payments", "vouchers_issued")
        .order_by("-occurred_at", "-id")
    )


def customer_sales_export(customer) -> list[dict]:
    """The customer's sales for an LGPD export: keys, amounts, rewards and items."""
    sales = (
        Sale.objects.filter(customer=customer)
        .select_related("store")
        .prefetch_related("items")
        .order_by("occurred_at", "id")
    )
    return [
        {
            "id": sale.pk,
            "date": format_api_datetime(sale.occurred_at),
            "store": sale.store.name if sale.store else None,
            "type": sale.type,
            "reference": sale.reference,
            "pdv": sale.pdv,
            "coupon": sale.coupon,
            "amount": sale.amount,
            "cashback": sale.cashback,
            "points": sale.points,
            "status": sale.status,
            "items": [
                {"barcode": item.barcode, "name": item.name, "quantity": item.quantity, "total": item.total}
                for item in sale.items.all()
            ],
        }
        for sale in sales
    ]


def sale_find(
    *,
    account: Account,
    source: str,
    store: Store | None,
    type: str,
    day: date,
    reference: str = "",
    pdv: str = "",
    coupon: str = "",
) -> Sale | None:
    """The sale these natural keys name, if recorded."""
    if source == Sale.Source.API:
        if not reference:
            return None
        return Sale.objects.filter(account=account, source=source, reference=reference).first()
    keys = purchase_keys(reference=reference, pdv=pdv, coupon=coupon)
    if keys is None:
        return None
    return (
        Sale.objects.filter(keys, store=store, source=source, type=type, local_date=day)
        .order_by("id")
        .first()
    )


def stored_rewards(sale: Sale) -> SaleRewards:
    """The rewards a recorded sale earned, as stored with it (vouchers may be prefetched)."""
    return SaleRewards(
        cashback=sale.cashback,
        points=sale.points,
        vouchers=sorted(sale.vouchers_issued.all(), key=lambda voucher: voucher.pk),
        messages=sale.messages_queued,
    )
