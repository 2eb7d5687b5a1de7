"""Recording and cancelling sales: one service for both API dialects.

`sale_record` saves the sale with its items and payments, moves the consumer's wallet
totals and digital change, records promotion uses, then sends `sale_recorded` so the
engine can add the rewards — all in one transaction. A sale is identified by natural
keys enforced by unique constraints: sending it again (even from ten tills at once)
answers the sale as first recorded and earns nothing more, while other content under the
same keys is a conflict that records nothing (`sales.replays`).
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from customers.models import Customer, LedgerEntry, Wallet
from customers.services import (
    Posting,
    customer_get_or_create_by_document,
    entries_reversal,
    wallet_check_funds,
    wallet_lock,
    wallet_post,
)
from loyalty.core.dates import local_date
from loyalty.core.ids import parse_id
from loyalty.core.money import ZERO, round_money
from loyalty.core.receipts import Receipt
from loyalty.core.vocabulary import PaymentMethod
from loyalty.tenancy.models import Account, Store
from promotions.models import Category, Product, Promotion
from promotions.selectors import promotions_with_uses
from promotions.services import promotion_uses_record, promotion_uses_release
from sales.models import Sale, SaleItem, SalePayment
from sales.outcomes import (
    CancelOutcome,
    ItemData,
    PaymentData,
    SaleCancellation,
    SaleOutcome,
    SaleRecording,
)
from sales.replays import SentSale, sale_replay
from sales.selectors import purchase_by_identity, sale_by_reference
from sales.signals import sale_cancelled, sale_recorded


def _categories_by_name(
    account: Account, items: Sequence[ItemData]
) -> dict[tuple[int | None, str], Category]:
    names = {
        name.strip().lower() for item in items for name in (item.category, item.subcategory) if name.strip()
    }
    if not names:
        return {}
    categories = Category.objects.annotate(lower_name=Lower("name")).filter(
        account=account, lower_name__in=names
    )
    return {(category.parent_id, category.lower_name): category for category in categories}


def _item_category(item: ItemData, product: Product | None, by_name: dict) -> int | None:
    if product is not None and (product.subcategory_id or product.category_id):
        return product.subcategory_id or product.category_id
    root = by_name.get((None, item.category.strip().lower())) if item.category.strip() else None
    if root is None:
        return None
    child = by_name.get((root.pk, item.subcategory.strip().lower())) if item.subcategory.strip() else None
    return (child or root).pk


def _promotions_of_items(
    account: Account, items: Sequence[ItemData], customer: Customer | None, warnings: list[str]
) -> dict[str, Promotion]:
    """The account's promotions the items name by `promotion_id`, keyed as sent; warn about the rest."""
    sent = {str(item.promotion_id).strip() for item in items if str(item.promotion_id or "").strip()}
    numeric = {value: parse_id(value) for value in sent if parse_id(value) is not None}
    known = {
        promotion.pk: promotion
        for promotion in promotions_with_uses(
            account_id=account.pk, ids=numeric.values(), customer_id=customer.pk if customer else None
        )
    }
    for value in sorted(sent):
        if numeric.get(value) not in known:
            warnings.append(
                f"promotion_id {value} is not a promotion of this account; the item was recorded without it."
            )
    return {value: known[number] for value, number in numeric.items() if number in known}


# --- recording -------------------------------------------------------------------------


def _resolve_customer(account: Account, document: str | None, customer_id: int | None) -> Customer | None:
    if customer_id is not None:
        customer = Customer.objects.filter(account=account, pk=customer_id).first()
        if customer is None:
            raise ValidationError({"customer_id": [f"No customer with id {customer_id} in this account."]})
        return customer
    if document:
        customer, _ = customer_get_or_create_by_document(account=account, document=document)
        return customer
    return None


def _recorded_with_these_keys(
    account: Account, source: str, store: Store | None, type: str, day, receipt: Receipt
) -> Sale | None:
    if source == Sale.Source.API:
        return sale_by_reference(account=account, reference=receipt.reference)
    assert store is not None, "a POS purchase comes from a store"
    return purchase_by_identity(account=account, store=store, type=type, day=day, receipt=receipt)


def _own_postings(
    sale: Sale, items: list[SaleItem], payments: list[SalePayment], store: Store | None
) -> list[Posting]:
    """The sale's effect on the consumer's totals and digital change."""
    of_this_sale = partial(Posting, store=store, links={"sale": sale})
    credited = round_money(sum((payment.digital_change for payment in payments), ZERO))
    paid = round_money(
        sum((payment.total for payment in payments if payment.method == PaymentMethod.DIGITAL_CHANGE), ZERO)
    )
    postings = [
        of_this_sale(
            kind=LedgerEntry.Kind.PURCHASE,
            deltas={
                "total_shoppings": sale.amount,
                "count_shoppings": 1,
                "total_discounts": round_money(sum((item.discount for item in items), ZERO)),
            },
        )
    ]
    if credited:
        postings.append(
            of_this_sale(
                kind=LedgerEntry.Kind.DIGITAL_CHANGE_CREDIT,
                deltas={"digital_change": credited},
                reason="Change credited at the till",
            )
        )
    if paid:
        postings.append(
            of_this_sale(
                kind=LedgerEntry.Kind.DIGITAL_CHANGE_DEBIT,
                deltas={"digital_change": -paid},
                reason="Paid with digital change",
            )
        )
    return postings


@transaction.atomic
def sale_record(
    *,
    account: Account,
    source: str,
    occurred_at: datetime,
    store: Store | None = None,
    document: str | None = None,
    customer_id: int | None = None,
    type: str = "",
    reference: str = "",
    pdv: str = "",
    coupon: str = "",
    operator: str = "",
    declared_amount: Decimal | None = None,
    items: Sequence[ItemData] = (),
    payments: Sequence[PaymentData] = (),
) -> SaleOutcome:
    """Record a sale and run the rules on it.

    A sale already recorded under these keys is answered as it was when the content is the
    same (see `sales.replays`), and is a `SaleConflict` otherwise.
    """
    day = local_date(occurred_at, account.tzinfo)
    receipt = Receipt.of(reference=reference, pdv=pdv, coupon=coupon)
    amount = (
        round_money(sum((item.total for item in items), ZERO)) if declared_amount is None else declared_amount
    )
    sent = SentSale(
        document=document,
        customer_id=customer_id,
        amount=amount,
        items=items,
        payments=payments,
        store_id=store.pk if store else None,
        type=type,
    )
    # The server-to-server key is the reference alone: store and type are content there.
    replay = partial(sale_replay, account=account, sent=sent, compare_place=source == Sale.Source.API)
    existing = _recorded_with_these_keys(account, source, store, type, day, receipt)
    if existing is not None:
        return replay(sale=existing)

    customer = _resolve_customer(account, document, customer_id)
    uses_digital_change = any(
        payment.digital_change or payment.method == PaymentMethod.DIGITAL_CHANGE for payment in payments
    )
    if customer is None and uses_digital_change:
        raise ValidationError({"consumer": ["Digital change needs an identified consumer (send consumer)."]})

    warnings: list[str] = []
    sale = Sale(
        account=account,
        store=store,
        customer=customer,
        source=source,
        type=type,
        occurred_at=occurred_at,
        local_date=day,
        **receipt.as_fields(),
        operator=operator,
        amount=amount,
        discount_total=round_money(sum((item.discount for item in items), ZERO)),
    )
    try:
        with transaction.atomic():
            sale.save()
    except IntegrityError:
        # Another till recorded a sale with these keys a moment ago.
        existing = _recorded_with_these_keys(account, source, store, type, day, receipt)
        if existing is None:
            raise
        return replay(sale=existing)

    wallet = None
    if customer is not None:
        # Lock order: wallet first, then stock, then voucher. Taken before the promotion uses
        # are counted, so two tills selling to one consumer see each other's uses.
        wallet = wallet_lock(customer=customer)
    products = (
        {
            product.barcode: product
            for product in Product.objects.filter(
                account=account, barcode__in={item.barcode for item in items if item.barcode}
            )
            .only("id", "barcode", "category_id", "subcategory_id")
            .order_by()
        }
        if any(item.barcode for item in items)
        else {}
    )
    by_name = _categories_by_name(
        account,
        [item for item in items if not (products.get(item.barcode) and (products[item.barcode].category_id))],
    )
    promotions = _promotions_of_items(account, items, customer, warnings)
    sale_items = SaleItem.objects.bulk_create(
        [
            SaleItem(
                sale=sale,
                position=position,
                barcode=item.barcode,
                name=item.name,
                unit=item.unit,
                category_name=item.category,
                subcategory_name=item.subcategory,
                product=products.get(item.barcode),
                category_id=_item_category(item, products.get(item.barcode), by_name),
                unit_value=item.unit_value,
                quantity=item.quantity,
                discount=item.discount,
                total=item.total,
                promotion=promotions.get(str(item.promotion_id).strip()),
            )
            for position, item in enumerate(items, start=1)
        ]
    )
    sale_payments = SalePayment.objects.bulk_create(
        [
            SalePayment(
                sale=sale,
                position=position,
                method=payment.method,
                total=payment.total,
                digital_change=payment.digital_change,
                splits=payment.splits,
                paid_at=payment.paid_at,
            )
            for position, payment in enumerate(payments, start=1)
        ]
    )

    recording = SaleRecording(
        sale=sale, items=sale_items, payments=sale_payments, customer=customer, wallet=wallet
    )
    if customer is not None:
        recording.postings.extend(_own_postings(sale, sale_items, sale_payments, store))
        wallet_check_funds(wallet=wallet, postings=recording.postings)
        # Two spellings of one id ("7", "07") are one use.
        used = {promotion.pk: promotion for promotion in promotions.values()}
        limited = promotion_uses_record(sale=sale, customer=customer, promotions=list(used.values()))
        warnings.extend(
            f"Promotion {promotion.pk} ({promotion}) had already reached its limit of {promotion.limit} "
            "purchase(s) for this consumer; the purchase was recorded anyway."
            for promotion in limited
        )
    recording.warnings = warnings
    sale_recorded.send(sender=Sale, recording=recording)
    if customer is not None:
        wallet = wallet_post(customer=customer, postings=recording.postings, locked_wallet=wallet)
    rewards = recording.rewards
    if rewards.cashback or rewards.points or rewards.messages:
        Sale.objects.filter(pk=sale.pk).update(
            cashback=rewards.cashback, points=rewards.points, messages_queued=rewards.messages
        )
        sale.cashback, sale.points, sale.messages_queued = rewards.cashback, rewards.points, rewards.messages
    return SaleOutcome(
        sale=sale,
        created=True,
        rewards=rewards,
        wallet=wallet,
        warnings=recording.warnings,
        items=sale_items,
        payments=sale_payments,
    )


# --- cancelling ------------------------------------------------------------------------

REVERSIBLE_BY_SALES = (
    LedgerEntry.Kind.PURCHASE,
    LedgerEntry.Kind.DIGITAL_CHANGE_CREDIT,
    LedgerEntry.Kind.DIGITAL_CHANGE_DEBIT,
)


def sum_moved(postings: Sequence[Posting]) -> dict[str, Decimal | int]:
    totals: dict[str, Decimal | int] = {}
    for posting in postings:
        for name, value in posting.deltas.items():
            totals[name] = totals.get(name, 0) + value
    return {name: value for name, value in totals.items() if value}


@transaction.atomic
def sale_cancel(*, sale: Sale) -> CancelOutcome:
    """Cancel a sale and reverse everything it did; cancelling twice changes nothing."""
    sale = Sale.objects.select_for_update().get(pk=sale.pk)
    customer = sale.customer
    if sale.status == Sale.Status.CANCELLED:
        wallet = Wallet.objects.filter(customer=customer).first() if customer else None
        return CancelOutcome(
            sale=sale,
            already_cancelled=True,
            reversed={},
            vouchers_cancelled=[],
            promotion_uses_released=0,
            wallet=wallet,
        )
    now = timezone.now()
    Sale.objects.filter(pk=sale.pk).update(status=Sale.Status.CANCELLED, cancelled_at=now)
    sale.status, sale.cancelled_at = Sale.Status.CANCELLED, now

    wallet = wallet_lock(customer=customer) if customer else None
    cancellation = SaleCancellation(sale=sale, customer=customer, wallet=wallet)
    if customer is not None:
        own = list(
            LedgerEntry.objects.filter(
                sale=sale, kind__in=REVERSIBLE_BY_SALES, reversed_by__isnull=True
            ).select_related("store")
        )
        cancellation.postings.extend(entries_reversal(own, reason=f"Sale {sale.pk} cancelled"))
    cancellation.promotion_uses_released = promotion_uses_release(sale=sale)
    sale_cancelled.send(sender=Sale, cancellation=cancellation)
    if customer is not None:
        # A reversal may leave a debt: the customer may have spent the cashback already.
        wallet = wallet_post(
            customer=customer, postings=cancellation.postings, overdraw=True, locked_wallet=wallet
        )
    return CancelOutcome(
        sale=sale,
        already_cancelled=False,
        reversed=sum_moved(cancellation.postings),
        vouchers_cancelled=cancellation.vouchers_cancelled,
        promotion_uses_released=cancellation.promotion_uses_released,
        wallet=wallet,
        redemptions_returned=cancellation.redemptions_returned,
    )
