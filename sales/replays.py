"""A sale sent again: the same sale (a replay) or another one under taken keys (a conflict).

Tills and ERPs resend after a timeout, so the keys of a recorded sale arriving again are
usually a replay: it answers the sale as recorded and earns nothing more. But two tills can
also reuse a reference, and an ERP can reuse an id by mistake; answering those with the
recorded sale would drop a real sale and hand a till another consumer's purchase. So the
content is compared — customer, amount, items and payments, plus store and type where the
key is a bare reference (the server-to-server dialect) — and any difference is a conflict
that records nothing and names the recorded sale.
"""

from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import partial

from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from customers.models import LedgerEntry, Wallet
from loyalty.core.dates import format_api_datetime
from loyalty.core.errors import ConflictError
from loyalty.core.money import ZERO, round_money, round_points
from loyalty.outbox.models import Message
from loyalty.tenancy.models import Account
from sales.models import Sale, SaleItem, SalePayment
from sales.outcomes import ItemData, PaymentData, SaleInput, SaleOutcome, SaleRewards
from sales.selectors import SaleWithRewards, sale_items, sale_payments, stored_rewards

#: What a difference is called, whatever the dialect calls the field.
CUSTOMER, AMOUNT, ITEMS, PAYMENTS, STORE, TYPE = "customer", "amount", "items", "payments", "store", "type"


class SaleConflict(ConflictError):
    """The keys name a recorded sale whose content differs; nothing was recorded."""

    code = "sale_conflict"

    def __init__(self, *, sale: Sale, differences: list[str]) -> None:
        super().__init__(
            gettext("Sale %(id)s was recorded with these keys and another %(differences)s.")
            % {"id": sale.pk, "differences": ", ".join(differences)}
        )
        self.sale = sale
        self.differences = differences


def _item_lines(lines: Iterable[tuple[object, ...]]) -> list[tuple[object, ...]]:
    # Order-insensitive, and by value: 2 and 2.000 are the same quantity.
    return sorted(lines, key=lambda line: tuple(str(value) for value in line))


def _same_customer(sale: Sale, sent: SaleInput) -> bool:
    if sent.customer_id is not None:
        return sale.customer_id == sent.customer_id
    if sent.document:
        return sale.customer is not None and sale.customer.document == sent.document
    return sale.customer_id is None


def _item_line(item: SaleItem | ItemData) -> tuple[str, Decimal, Decimal, Decimal, Decimal]:
    return (item.barcode, item.quantity, item.unit_value, item.discount, item.total)


def _payment_line(payment: SalePayment | PaymentData) -> tuple[int, Decimal, Decimal]:
    return (payment.method, payment.total, payment.digital_change)


def sale_differences(
    sale: Sale,
    sent: SaleInput,
    *,
    compare_place: bool,
    items: Sequence[SaleItem],
    payments: Sequence[SalePayment],
) -> list[str]:
    """The parts of the content in which `sent` differs from the recorded `sale` (whose
    `items` and `payments` are given)."""
    found = []
    if not _same_customer(sale, sent):
        found.append(CUSTOMER)
    if sale.amount != sent.amount:
        found.append(AMOUNT)
    if _item_lines(map(_item_line, items)) != _item_lines(map(_item_line, sent.items)):
        found.append(ITEMS)
    if _item_lines(map(_payment_line, payments)) != _item_lines(map(_payment_line, sent.payments)):
        found.append(PAYMENTS)
    if compare_place:
        if sale.store_id != (sent.store.pk if sent.store else None):
            found.append(STORE)
        if sale.type != sent.type:
            found.append(TYPE)
    return found


def held_rewards(sale: SaleWithRewards) -> SaleRewards:
    """What a sale's rewards hold now: its grants net of what was reversed since (the ledger's
    word), its vouchers as they stand, and its messages that were not withdrawn."""
    moved = LedgerEntry.objects.filter(account_id=sale.account_id, sale=sale, rule__isnull=False).aggregate(
        balance=Coalesce(Sum("balance"), ZERO) + Coalesce(Sum("pending_balance"), ZERO),
        points=Coalesce(Sum("points"), ZERO) + Coalesce(Sum("pending_points"), ZERO),
    )
    stored = stored_rewards(sale)
    return SaleRewards(
        cashback=round_money(moved["balance"]),
        points=round_points(moved["points"]),
        vouchers=stored.vouchers,
        messages=sale.messages.filter(account_id=sale.account_id)
        .exclude(status=Message.Status.WITHDRAWN)
        .count(),
    )


def sale_replay(
    *,
    account: Account,
    sale: SaleWithRewards,
    sent: SaleInput,
    compare_place: bool,
    wallet: Wallet | None = None,
) -> SaleOutcome:
    """The answer to `sent` arriving with the keys of the recorded `sale`, or `SaleConflict`.

    `wallet` is the sender's customer's wallet when the caller has it (locked) already.
    """
    items, payments = sale_items(sale), sale_payments(sale)
    differences = sale_differences(sale, sent, compare_place=compare_place, items=items, payments=payments)
    if differences:
        raise SaleConflict(sale=sale, differences=differences)
    if sale.customer_id is None:
        wallet = None
    elif wallet is None or wallet.customer_id != sale.customer_id:
        wallet = Wallet.objects.filter(account_id=sale.account_id, customer_id=sale.customer_id).first()
    replay = partial(SaleOutcome, sale=sale, created=False, wallet=wallet, items=items, payments=payments)
    if sale.status != Sale.Status.CANCELLED:
        return replay(rewards=stored_rewards(sale), warnings=[])
    if sale.cancelled_at is not None:
        local = sale.cancelled_at.astimezone(account.tzinfo)
        warning = gettext(
            "This sale was cancelled on %(local)s (%(zone)s; %(instant)s); it was not recorded again and "
            "earned nothing. Its rewards show what it holds now."
        ) % {
            "local": f"{local:%Y-%m-%d %H:%M}",
            "zone": account.time_zone,
            "instant": format_api_datetime(sale.cancelled_at),
        }
    else:
        warning = gettext(
            "This sale was cancelled; it was not recorded again and earned nothing. "
            "Its rewards show what it holds now."
        )
    return replay(rewards=held_rewards(sale), warnings=[warning])
