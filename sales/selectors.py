"""Reads of the sales app."""

from datetime import date

from django.db.models import QuerySet

from loyalty.core.dates import format_api_datetime
from loyalty.core.receipts import Receipt
from loyalty.tenancy.models import Account, Store
from sales.models import Sale
from sales.outcomes import SaleRewards


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


def purchase_by_identity(
    *, account: Account, store: Store, type: str, day: date, receipt: Receipt
) -> Sale | None:
    """The POS purchase these keys identify (store, type, local day and receipt), if recorded."""
    return (
        Sale.objects.filter(
            receipt.identity(),
            account=account,
            store=store,
            source=Sale.Source.POS,
            type=type,
            local_date=day,
        )
        .select_related("customer")
        .first()
    )


def purchases_named(
    *, account: Account, store: Store, type: str, day: date, receipt: Receipt, limit: int = 2
) -> list[Sale]:
    """The POS purchases these keys name, up to `limit`: one for a fiscal receipt, possibly
    several for a reference that two tills both used."""
    return list(
        Sale.objects.filter(
            receipt.naming(), account=account, store=store, source=Sale.Source.POS, type=type, local_date=day
        ).order_by("id")[:limit]
    )


def reference_names_another_standing_purchase(sale: Sale) -> bool:
    """Whether another purchase of the sale's store, type and day, not cancelled, carries its
    reference."""
    if not sale.reference:
        return False
    return (
        Sale.objects.filter(
            account_id=sale.account_id,
            store_id=sale.store_id,
            source=Sale.Source.POS,
            type=sale.type,
            local_date=sale.local_date,
            reference=sale.reference,
            status=Sale.Status.RECORDED,
        )
        .exclude(pk=sale.pk)
        .exists()
    )


def sale_by_reference(*, account: Account, reference: str) -> Sale | None:
    """The server-to-server sale of this ERP reference, if recorded."""
    if not reference:
        return None
    return (
        Sale.objects.filter(account=account, source=Sale.Source.API, reference=reference)
        .select_related("customer")
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
