"""Cancelling a sale: everything it did is reversed, once.

`sale_cancel` locks the sale, then the customer's wallet, marks the sale cancelled,
reverses the sale's own wallet movements and releases its promotion uses, then sends
`sale_cancelled`: the engine reverses the rules' rewards and vouchers gives back the
balance redeemed for the purchase, each writing its own rows and returning what it did.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from customers.models import LedgerEntry, Wallet
from customers.services import entries_reversal, postings_total, wallet_lock, wallet_post
from loyalty.outbox.webhooks.models import WebhookEventType
from loyalty.outbox.webhooks.services import webhook_event_record
from promotions.services import promotion_uses_release
from sales.events import sale_event_data
from sales.models import Sale
from sales.outcomes import CancelledSale, CancelOutcome, Reversal
from sales.signals import sale_cancelled_send

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: The ledger rows a sale writes itself (the rules' grants are the engine's).
OWN_KINDS = (
    LedgerEntry.Kind.PURCHASE,
    LedgerEntry.Kind.DIGITAL_CHANGE_CREDIT,
    LedgerEntry.Kind.DIGITAL_CHANGE_DEBIT,
)


def _returned_totals(sale: Sale, own_rows: list[LedgerEntry]) -> dict[int, Mapping[str, Decimal | int]]:
    """What the sale's returns already took off its purchase row's totals: a cancel after
    returns reverses only what is left."""
    purchase = next((row for row in own_rows if row.kind == LedgerEntry.Kind.PURCHASE), None)
    if purchase is None:
        return {}
    sums = LedgerEntry.objects.filter(
        account_id=sale.account_id, sale=sale, kind=LedgerEntry.Kind.RETURN, rule=None, voucher=None
    ).aggregate(
        total_shoppings=Sum("total_shoppings"),
        total_discounts=Sum("total_discounts"),
        count_shoppings=Sum("count_shoppings"),
    )
    gone: dict[str, Decimal] = {name: -Decimal(value) for name, value in sums.items() if value}
    return {purchase.pk: gone} if gone else {}


@transaction.atomic(savepoint=False)
def sale_cancel(*, sale: Sale, staff_user: "User | None" = None) -> CancelOutcome:
    """Cancel a sale and reverse everything it did; cancelling twice changes nothing.

    `staff_user` is the person who cancelled it in the admin (none for a POS or the API)."""
    sale = (
        Sale.objects.select_for_update(of=("self",))
        .select_related("account", "customer")
        .get(account_id=sale.account_id, pk=sale.pk)
    )
    customer = sale.customer
    if sale.status == Sale.Status.CANCELLED:
        wallet = (
            Wallet.objects.filter(account_id=sale.account_id, customer=customer).first() if customer else None
        )
        return CancelOutcome(
            sale=sale,
            already_cancelled=True,
            reversed={},
            vouchers_cancelled=(),
            promotion_uses_released=0,
            wallet=wallet,
        )
    now = timezone.now()
    Sale.objects.filter(account_id=sale.account_id, pk=sale.pk).update(
        status=Sale.Status.CANCELLED, cancelled_at=now, cancelled_by=staff_user
    )
    sale.status, sale.cancelled_at, sale.cancelled_by = Sale.Status.CANCELLED, now, staff_user

    wallet = None
    own = Reversal()
    if customer is not None:
        wallet = wallet_lock(account_id=customer.account_id, customer_id=customer.pk)
        entries = LedgerEntry.objects.filter(
            account_id=sale.account_id, sale=sale, kind__in=OWN_KINDS, reversed_by__isnull=True
        )
        own_rows = list(entries.select_related("store").order_by("-id"))
        postings = entries_reversal(
            # Newest first, as a cancel has always written its reversals.
            own_rows,
            reason=f"Sale {sale.pk} cancelled",
            already_gone=_returned_totals(sale, own_rows),
        )
        # A reversal may leave a debt: the customer may have spent the change already.
        wallet = wallet_post(customer=customer, postings=postings, overdraw=True, locked_wallet=wallet)
        own = Reversal(moved=postings_total(postings), wallet=wallet)
    released = promotion_uses_release(sale=sale)

    cancelled = CancelledSale(sale=sale, customer=customer, wallet=wallet)
    reversal = Reversal.combine([own, *sale_cancelled_send(cancelled=cancelled)])
    webhook_event_record(
        account_id=sale.account_id,
        type=WebhookEventType.SALE_CANCELLED,
        occurred_at=now,
        data={
            **sale_event_data(sale),
            "reversed": dict(reversal.moved),
            "vouchers_cancelled": [voucher.code for voucher in reversal.vouchers_cancelled],
            "redemptions_returned": [redemption.pk for redemption in reversal.redemptions_returned],
        },
    )
    return CancelOutcome(
        sale=sale,
        already_cancelled=False,
        reversed=reversal.moved,
        vouchers_cancelled=reversal.vouchers_cancelled,
        promotion_uses_released=released,
        wallet=reversal.wallet or wallet,
        redemptions_returned=reversal.redemptions_returned,
    )
