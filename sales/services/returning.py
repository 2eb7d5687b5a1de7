"""Returning part of a sale ("devolução"): one service for both API dialects.

`sale_return` locks the sale (then the customer's wallet, as a cancel does, so a return and a
cancel of one sale queue and never both undo it), records the returned units with what they
were worth, moves the wallet's totals by them, releases the promotion uses of lines given back
whole, then sends `sale_returned`: the engine takes back each rule's grant in proportion and
writes its own rows. The same reference again answers the return as first recorded; with
other units it is a conflict.

`sale_return_preview` runs the very same service and rolls it back, for a confirmation page
that shows what confirming will do.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext

from customers.models import LedgerEntry
from customers.services import Posting, wallet_lock, wallet_post
from loyalty.core.errors import BusinessRuleError, ConflictError
from loyalty.core.money import QUANTITY_QUANTUM, ZERO, round_money
from loyalty.outbox.webhooks.models import WebhookEventType
from loyalty.outbox.webhooks.services import webhook_event_record
from promotions.services import promotion_uses_release
from sales.models import Sale, SaleItem, SaleReturn, SaleReturnLine
from sales.outcomes import ReturnedSale, ReturnedUnits, ReturnOutcome, TakenBack
from sales.selectors import sale_payments
from sales.signals import sale_returned_send


class ReturnRefused(BusinessRuleError):
    """Units that cannot be given back (more than bought, or not in the sale); nothing recorded."""

    code = "return_refused"


class ReturnConflict(ConflictError):
    """The reference names an earlier return of other units; nothing recorded."""

    code = "return_conflict"


class SaleAlreadyCancelled(ConflictError):
    code = "sale_cancelled"


@dataclass(frozen=True)
class _Line:
    item: SaleItem
    quantity: Decimal
    total: Decimal
    discount: Decimal


def _returned_before(sale: Sale) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    """Per sale item: units, total and discount already returned."""
    rows = (
        SaleReturnLine.objects.filter(account_id=sale.account_id, sale_return__sale=sale)
        .values("item_id")
        .annotate(units=Sum("quantity"), total=Sum("total"), discount=Sum("discount"))
        .order_by()
    )
    # Rounded to their places: SQLite adds the columns up as floats (0.1 kg ten times is not 1).
    return {
        row["item_id"]: (
            Decimal(row["units"]).quantize(QUANTITY_QUANTUM, rounding=ROUND_HALF_UP),
            round_money(row["total"]),
            round_money(row["discount"]),
        )
        for row in rows
    }


def _lines(
    items: Sequence[SaleItem],
    asked: Sequence[ReturnedUnits],
    before: Mapping[int, tuple[Decimal, Decimal, Decimal]],
) -> list[_Line]:
    """The sale's lines the asked units come from, first line first, each valued as the sale
    priced it; the last units of a line take what is left of its total, to the cent. `before`
    is what earlier returns took of each line (`_returned_before`)."""
    left = {item.pk: item.quantity - before.get(item.pk, (ZERO, ZERO, ZERO))[0] for item in items}
    lines: list[_Line] = []
    for units in asked:
        candidates = [item for item in items if item.barcode == units.barcode]
        if not candidates:
            raise ReturnRefused(
                gettext("Item %(item)s is not in this sale.") % {"item": repr(units.barcode)},
                item=units.barcode,
            )
        available = sum((left[item.pk] for item in candidates), ZERO)
        if units.quantity > available:
            bought = sum((item.quantity for item in candidates), ZERO)
            raise ReturnRefused(
                gettext(
                    "Item %(item)s: %(asked)s unit(s) asked back, but %(available)s of the %(bought)s bought "
                    "are left to return."
                )
                % {
                    "item": repr(units.barcode),
                    "asked": units.quantity,
                    "available": available,
                    "bought": bought,
                },
                item=units.barcode,
                available=available,
            )
        wanted = units.quantity
        for item in candidates:
            quantity = min(wanted, left[item.pk])
            if quantity <= 0:
                continue
            wanted -= quantity
            left[item.pk] -= quantity
            _, total_before, discount_before = before.get(item.pk, (ZERO, ZERO, ZERO))
            earlier = [line for line in lines if line.item.pk == item.pk]
            total_before += sum((line.total for line in earlier), ZERO)
            discount_before += sum((line.discount for line in earlier), ZERO)
            if left[item.pk] == 0:
                total, discount = item.total - total_before, item.discount - discount_before
            else:
                total = round_money(item.total * quantity / item.quantity)
                discount = round_money(item.discount * quantity / item.quantity)
            lines.append(_Line(item, quantity, total, discount))
    return lines


def _same_return(sale_return: SaleReturn, asked: Sequence[ReturnedUnits], amount: Decimal | None) -> bool:
    lines = SaleReturnLine.objects.filter(account_id=sale_return.account_id, sale_return=sale_return)
    if amount is not None:
        return not lines.exists() and sale_return.amount == amount
    recorded: dict[str, Decimal] = {}
    for line in lines.select_related("item"):
        recorded[line.item.barcode] = recorded.get(line.item.barcode, ZERO) + line.quantity
    sent: dict[str, Decimal] = {}
    for units in asked:
        sent[units.barcode] = sent.get(units.barcode, ZERO) + units.quantity
    return recorded == sent


def _totals_postings(
    sale: Sale, sale_return: SaleReturn, earlier: Mapping[str, Decimal], discount: Decimal
) -> list[Posting]:
    """The return's own effect on the wallet's totals: the purchase's amount and discounts
    less what was given back; the purchase stops counting once nothing of it is left."""
    if sale_return.completes:
        amount = sale.amount - earlier["amount"]
        discount = sale.discount_total - earlier["discount"]
    else:
        amount = sale_return.amount
    deltas: dict[str, Decimal | int] = {"total_shoppings": -amount, "total_discounts": -discount}
    if sale_return.completes:
        deltas["count_shoppings"] = -1
    deltas = {name: value for name, value in deltas.items() if value}
    if not deltas:
        return []
    return [
        Posting(
            kind=LedgerEntry.Kind.RETURN,
            deltas=deltas,
            reason=f"Return {sale_return.reference}",
            store=sale.store,
            links={"sale": sale, "sale_return": sale_return},
        )
    ]


@transaction.atomic(savepoint=False)
def sale_return(
    *,
    sale: Sale,
    reference: str,
    items: Sequence[ReturnedUnits] = (),
    amount: Decimal | None = None,
) -> ReturnOutcome:
    """Give back units of a sale (`items`), or part of the amount of a sale without items
    (`amount`), under the return's own `reference`."""
    sale = (
        Sale.objects.select_for_update(of=("self",))
        .select_related("account", "customer", "store")
        .get(account_id=sale.account_id, pk=sale.pk)
    )
    existing = SaleReturn.objects.filter(account_id=sale.account_id, sale=sale, reference=reference).first()
    if existing is not None:
        if not _same_return(existing, items, amount):
            raise ReturnConflict(
                gettext("Return %(reference)s of this sale was recorded with other units.")
                % {"reference": repr(reference)},
                sale_return_id=existing.pk,
            )
        return ReturnOutcome(sale_return=existing, created=False, taken_back=existing.outcome, wallet=None)
    if sale.status == Sale.Status.CANCELLED:
        raise SaleAlreadyCancelled(gettext("The sale is cancelled: nothing is left to return."))

    sale_items = list(SaleItem.objects.filter(account_id=sale.account_id, sale=sale).order_by("position"))
    earlier_returns = SaleReturn.objects.filter(account_id=sale.account_id, sale=sale).aggregate(
        amount=Sum("amount"), discount=Sum("discount")
    )
    earlier = {name: round_money(value or ZERO) for name, value in earlier_returns.items()}
    if sale_items:
        if amount is not None or not items:
            raise ReturnRefused(
                gettext("This sale has items: return them by barcode and quantity."), field="items"
            )
        before = _returned_before(sale)
        lines = _lines(sale_items, items, before)
        value = sum((line.total for line in lines), ZERO)
        discount = sum((line.discount for line in lines), ZERO)
        # Units back of each line once this return is recorded: earlier returns and this one.
        back = {item_id: units for item_id, (units, _, _) in before.items()}
        for line in lines:
            back[line.item.pk] = back.get(line.item.pk, ZERO) + line.quantity
        completes = all(back.get(item.pk, ZERO) >= item.quantity for item in sale_items)
    else:
        if amount is None or items:
            raise ReturnRefused(gettext("This sale has no items: return part of its amount."), field="amount")
        left = sale.amount - earlier["amount"]
        if amount > left:
            raise ReturnRefused(
                gettext("%(asked)s asked back, but %(left)s of the sale's %(amount)s is left to return.")
                % {"asked": amount, "left": left, "amount": sale.amount},
                field="amount",
                available=left,
            )
        lines, value, discount, completes = [], amount, ZERO, amount == left
        back = {}

    record = SaleReturn.objects.create(
        account_id=sale.account_id,
        sale=sale,
        reference=reference,
        amount=value,
        discount=discount,
        completes=completes,
    )
    saved = SaleReturnLine.objects.bulk_create(
        [
            SaleReturnLine(
                account_id=sale.account_id,
                sale_return=record,
                item=line.item,
                quantity=line.quantity,
                total=line.total,
                discount=line.discount,
            )
            for line in lines
        ]
    )
    wallet = None
    own: Mapping[str, Decimal | int] = {}
    if sale.customer is not None:
        wallet = wallet_lock(account_id=sale.account_id, customer_id=sale.customer.pk)
        postings = _totals_postings(sale, record, earlier, discount)
        wallet = wallet_post(postings=postings, locked_wallet=wallet, overdraw=True)
        own = {name: value for posting in postings for name, value in posting.deltas.items()}
    if sale_items:
        # A promotion's use is released once every unit it discounted is back.
        promoted = {item.promotion_id for item in sale_items if item.promotion_id is not None}
        whole = [
            promotion_id
            for promotion_id in promoted
            if all(
                back.get(item.pk, ZERO) >= item.quantity
                for item in sale_items
                if item.promotion_id == promotion_id
            )
        ]
        if whole:
            promotion_uses_release(sale=sale, promotion_ids=whole)
    elif completes:
        promotion_uses_release(sale=sale)

    all_lines = tuple(
        SaleReturnLine.objects.filter(account_id=sale.account_id, sale_return__sale=sale).select_related(
            "item"
        )
    )
    taken = TakenBack.combine(
        sale_returned_send(
            returned=ReturnedSale(
                sale=sale,
                sale_return=record,
                items=tuple(sale_items),
                # Read within the account, as every statement of a request is (shard-ready).
                payments=tuple(sale_payments(sale)),
                lines=all_lines,
                amount=earlier["amount"] + value,
                customer=sale.customer,
                wallet=wallet,
            )
        )
    )
    record.outcome = _answer(own, taken, saved)
    SaleReturn.objects.filter(account_id=sale.account_id, pk=record.pk).update(outcome=record.outcome)
    webhook_event_record(
        account_id=sale.account_id,
        type=WebhookEventType.SALE_RETURNED,
        occurred_at=record.created_at,
        data={
            "sale_id": sale.pk,
            "return_id": record.pk,
            "return_reference": reference,
            "store_id": sale.store_id,
            "customer_id": sale.customer_id,
            "amount": value,
            "completes": completes,
            "reversed": _moved(own, taken),
            "vouchers_cancelled": [voucher.code for voucher in taken.vouchers_cancelled],
            "vouchers_charged": [
                {"code": voucher.code, "value": voucher.value} for voucher in taken.vouchers_charged
            ],
        },
    )
    return ReturnOutcome(
        sale_return=record, created=True, taken_back=record.outcome, wallet=taken.wallet or wallet
    )


def _moved(own: Mapping[str, Decimal | int], taken: TakenBack) -> dict[str, Decimal | int]:
    """How the return moved the wallet, its own totals and the rules' rewards, by field."""
    moved: dict[str, Decimal | int] = dict(own)
    for name, value in taken.moved.items():
        moved[name] = moved.get(name, 0) + value
    return {name: value for name, value in moved.items() if value}


def _answer(
    own: Mapping[str, Decimal | int], taken: TakenBack, lines: Sequence[SaleReturnLine]
) -> dict[str, Any]:
    """What the return did, as its answers (first and replayed) show it: JSON-ready."""
    return {
        "moved": {name: str(value) for name, value in _moved(own, taken).items()},
        "vouchers_cancelled": [voucher.code for voucher in taken.vouchers_cancelled],
        "vouchers_charged": [
            {"code": voucher.code, "value": str(voucher.value)} for voucher in taken.vouchers_charged
        ],
    }


@dataclass(frozen=True)
class ReturnPreview:
    """What `sale_return` would record and take back, had it not been rolled back.

    `lines` are the return's lines as they would be written (their items are the sale's);
    `taken_back` is the outcome the return would store. `created` is False when the reference
    names a return already recorded (then the rest describes that return).
    """

    created: bool
    amount: Decimal
    discount: Decimal
    completes: bool
    lines: tuple[SaleReturnLine, ...]
    taken_back: Mapping[str, Any]


class _RolledBack(Exception):
    def __init__(self, preview: ReturnPreview) -> None:
        super().__init__("preview")
        self.preview = preview


def sale_return_preview(
    *,
    sale: Sale,
    reference: str,
    items: Sequence[ReturnedUnits] = (),
    amount: Decimal | None = None,
) -> ReturnPreview:
    """Run `sale_return` and roll it back: nothing is written, and what it would do cannot
    drift from what it does. Refusals raise as the service raises them.

    What it takes back is computed against the wallet as it is now; confirmed later, the
    return takes back what is due then (the same, unless the sale or wallet moved between).
    """
    try:
        # Its own savepoint, undone by the exception: the wallet, the ledger, the vouchers and
        # any on-commit work of the return go with it.
        with transaction.atomic():
            outcome = sale_return(sale=sale, reference=reference, items=items, amount=amount)
            record = outcome.sale_return
            raise _RolledBack(
                ReturnPreview(
                    created=outcome.created,
                    amount=record.amount,
                    discount=record.discount,
                    completes=record.completes,
                    lines=tuple(
                        SaleReturnLine.objects.filter(account_id=record.account_id, sale_return=record)
                        .select_related("item")
                        .order_by("item__position", "id")
                    ),
                    taken_back=outcome.taken_back,
                )
            )
    except _RolledBack as rolled_back:
        return rolled_back.preview
