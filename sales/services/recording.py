"""Recording a sale: one service for both API dialects.

`sale_record` locks the customer's wallet (first, as every flow does), saves the sale once
with its items and payments, moves the wallet by the sale's own effect (totals, digital
change), records promotion uses, then sends `sale_recorded`: the engine grants the rules'
rewards, writing its own rows, and returns them. All in one transaction.

A sale is identified by natural keys enforced by unique constraints: sending it again (even
from ten tills at once) answers the sale as first recorded and earns nothing more, while
other content under the same keys is a conflict that records nothing (`sales.replays`).
"""

from collections.abc import Mapping, Sequence
from datetime import date
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Exists, QuerySet
from django.utils.translation import gettext, ngettext

from customers.models import Customer, LedgerEntry, Wallet
from customers.services import (
    Posting,
    consents_set,
    customer_wallet_find_locked,
    customer_wallet_lock,
    wallet_post,
)
from loyalty.core.dates import local_date
from loyalty.core.errors import BusinessRuleError
from loyalty.core.ids import parse_id
from loyalty.core.inserts import insert_unless_taken
from loyalty.core.money import ZERO, round_money
from loyalty.core.receipts import Receipt
from loyalty.core.vocabulary import PaymentMethod
from loyalty.outbox.webhooks.models import WebhookEventType
from loyalty.outbox.webhooks.services import WebhookEventData, webhook_events_record
from loyalty.tenancy.models import Account, Store
from promotions.models import Product, Promotion
from promotions.selectors import LineCatalogue, line_catalogue
from promotions.services import promotion_uses_record
from sales.events import sale_event_data
from sales.models import Sale, SaleItem, SalePayment
from sales.outcomes import ItemData, RecordedSale, SaleInput, SaleOutcome, SaleRewards
from sales.replays import sale_replay
from sales.selectors import (
    SaleWithRewards,
    purchase_by_identity,
    purchases_with_identity,
    sale_by_reference,
    sales_with_reference,
)
from sales.signals import sale_recorded_send


class CustomerRequired(BusinessRuleError):
    """Digital change is the customer's money: a sale that credits or spends it names them."""

    code = "customer_required"


def _with_these_keys(
    account: Account, source: str, store: Store | None, type: str, day: date, receipt: Receipt
) -> QuerySet[Sale]:
    if source == Sale.Source.API:
        # A sale sent without a reference has no key to take.
        if not receipt.reference:
            return Sale.objects.none()
        return sales_with_reference(account=account, reference=receipt.reference)
    assert store is not None, "a POS purchase comes from a store"
    return purchases_with_identity(account=account, store=store, type=type, day=day, receipt=receipt)


def _recorded_with_these_keys(
    account: Account, source: str, store: Store | None, type: str, day: date, receipt: Receipt
) -> "SaleWithRewards | None":
    if source == Sale.Source.API:
        return sale_by_reference(account=account, reference=receipt.reference)
    assert store is not None, "a POS purchase comes from a store"
    return purchase_by_identity(account=account, store=store, type=type, day=day, receipt=receipt)


def _catalogue(account: Account, items: Sequence[ItemData], customer: Customer | None) -> LineCatalogue:
    def category_names(products: Mapping[str, Product]) -> list[str]:
        # A line whose product has a category needs no lookup by name.
        return [
            name
            for item in items
            if not (item.barcode in products and products[item.barcode].category_id)
            for name in (item.category, item.subcategory)
        ]

    return line_catalogue(
        account_id=account.pk,
        barcodes=(item.barcode for item in items),
        category_names=category_names,
        promotion_ids=filter(None, (parse_id(str(item.promotion_id).strip()) for item in items)),
        customer_id=customer.pk if customer else None,
    )


def _line_promotion(item: ItemData, catalogue: LineCatalogue) -> Promotion | None:
    number = parse_id(str(item.promotion_id).strip())
    return catalogue.promotions.get(number) if number is not None else None


def _unknown_promotion_warnings(items: Sequence[ItemData], catalogue: LineCatalogue) -> list[str]:
    sent = sorted({str(item.promotion_id).strip() for item in items if str(item.promotion_id or "").strip()})
    return [
        gettext(
            "promotion_id %(value)s is not a promotion of this account; the item was recorded without it."
        )
        % {"value": value}
        for value in sent
        if parse_id(value) not in catalogue.promotions
    ]


def _own_postings(sale: Sale, items: Sequence[SaleItem], payments: Sequence[SalePayment]) -> list[Posting]:
    """The sale's own effect on the customer's wallet: its totals, and digital change."""
    of_this_sale = partial(Posting, store=sale.store, links={"sale": sale})
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


def _lines(
    account: Account, sale: Sale, sent: SaleInput, catalogue: LineCatalogue
) -> tuple[list[SaleItem], list[SalePayment]]:
    items = SaleItem.objects.bulk_create(
        [
            SaleItem(
                account=account,
                sale=sale,
                position=position,
                barcode=item.barcode,
                name=item.name,
                unit=item.unit,
                category_name=item.category,
                subcategory_name=item.subcategory,
                product=catalogue.products.get(item.barcode),
                category_id=catalogue.category_of(
                    barcode=item.barcode, category=item.category, subcategory=item.subcategory
                ),
                unit_value=item.unit_value,
                quantity=item.quantity,
                discount=item.discount,
                total=item.total,
                promotion=_line_promotion(item, catalogue),
            )
            for position, item in enumerate(sent.items, start=1)
        ]
    )
    payments = SalePayment.objects.bulk_create(
        [
            SalePayment(
                account=account,
                sale=sale,
                position=position,
                method=payment.method,
                total=payment.total,
                digital_change=payment.digital_change,
                splits=payment.splits,
                paid_at=payment.paid_at,
            )
            for position, payment in enumerate(sent.payments, start=1)
        ]
    )
    return items, payments


def _recorded_event(sale: Sale, rewards: SaleRewards) -> WebhookEventData:
    """The `sale.recorded` webhook event of a sale just recorded, with what it earned."""
    return WebhookEventData(
        type=WebhookEventType.SALE_RECORDED,
        occurred_at=sale.occurred_at,
        data={
            **sale_event_data(sale),
            "cashback": rewards.cashback,
            "points": rewards.points,
            "vouchers": [voucher.code for voucher in rewards.vouchers],
        },
    )


@transaction.atomic(savepoint=False)
def sale_record(*, account: Account, sent: SaleInput) -> SaleOutcome:
    """Record a sale and run the rules on it.

    A sale already recorded under these keys is answered as it was when the content is the
    same (see `sales.replays`), and is a `SaleConflict` otherwise.
    """
    day = local_date(sent.occurred_at, account.tzinfo)
    replay = partial(sale_replay, account=account, sent=sent, compare_place=sent.source == Sale.Source.API)
    keys = (account, sent.source, sent.store, sent.type, day, sent.receipt)
    customer: Customer | None = None
    wallet: Wallet | None = None
    identified = bool(sent.document) or sent.customer_id is not None
    # A sale's keys are checked before anything is created, and a taken key is a conflict
    # whatever else is wrong. For a known customer the check rides on the wallet's lock, in
    # one query (the wallet lock comes first, as in every flow; a resend then reads the sale
    # without locking it, so it cannot deadlock with a cancel, which locks the sale first).
    found = (
        customer_wallet_find_locked(
            account=account,
            document=sent.document,
            customer_id=sent.customer_id,
            annotations={"sale_keys_taken": Exists(_with_these_keys(*keys))},
        )
        if identified
        else None
    )
    if found is None or found.annotated["sale_keys_taken"]:
        existing = _recorded_with_these_keys(*keys)
        if existing is not None:
            return replay(sale=existing, wallet=found.wallet if found else None)
    if found is not None:
        customer, wallet = found.customer, found.wallet
    elif identified:
        customer, wallet = customer_wallet_lock(
            account=account, document=sent.document, customer_id=sent.customer_id
        )
    elif sent.uses_digital_change:
        raise CustomerRequired(gettext("Digital change needs an identified customer."))

    sale = Sale(
        account=account,
        store=sent.store,
        customer=customer,
        source=sent.source,
        type=sent.type,
        occurred_at=sent.occurred_at,
        local_date=day,
        **sent.receipt.as_fields(),
        operator=sent.operator,
        amount=sent.amount,
        discount_total=round_money(sum((item.discount for item in sent.items), ZERO)),
    )
    if not insert_unless_taken(sale):
        # Another till recorded these keys since they were looked up.
        existing = _recorded_with_these_keys(*keys)
        if existing is None:
            raise IntegrityError("The sale was refused by a constraint of the database.")
        return replay(sale=existing, wallet=wallet)

    catalogue = _catalogue(account, sent.items, customer)
    items, payments = _lines(account, sale, sent, catalogue)
    warnings = _unknown_promotion_warnings(sent.items, catalogue)
    if customer is not None:
        wallet = wallet_post(
            customer=customer, postings=_own_postings(sale, items, payments), locked_wallet=wallet
        )
        # Two spellings of one id ("7", "07") are one use.
        used = {
            item.promotion_id: catalogue.promotions[item.promotion_id]
            for item in items
            if item.promotion_id is not None
        }
        limited = promotion_uses_record(sale=sale, customer=customer, promotions=list(used.values()))
        warnings.extend(
            ngettext(
                "Promotion %(id)s (%(promotion)s) had already reached its limit of %(limit)s purchase for "
                "this consumer; the purchase was recorded anyway.",
                "Promotion %(id)s (%(promotion)s) had already reached its limit of %(limit)s purchases for "
                "this consumer; the purchase was recorded anyway.",
                promotion.limit,
            )
            % {"id": promotion.pk, "promotion": promotion, "limit": promotion.limit}
            for promotion in limited
        )

    if customer is not None and sent.consent:
        # Before the rules queue the sale's messages: a "no" given at the till holds for them.
        consents_set(customer=customer, changes=dict(sent.consent), source=sent.source, store=sent.store)
    recorded = RecordedSale(
        sale=sale, items=tuple(items), payments=tuple(payments), customer=customer, wallet=wallet
    )
    rewards = SaleRewards.combine(sale_recorded_send(recorded=recorded))
    # The sale and the vouchers it earned, to the account's webhooks: one read when it has none.
    webhook_events_record(account_id=account.pk, events=[_recorded_event(sale, rewards), *rewards.events])
    return SaleOutcome(
        sale=sale,
        created=True,
        rewards=rewards,
        wallet=rewards.wallet or wallet,
        warnings=[*warnings, *rewards.warnings],
        items=items,
        payments=payments,
    )
