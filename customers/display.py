"""The ledger as a store manager reads it.

A row says what moved, in merchant words and as money or points, and where it came from:
"Cashback +R$ 1,20 — compra cupom 15, PDV 1", never `balance +1.20` or a sale's internal id.
The words follow the active language; the stored `reason` stays what the service wrote.
"""

from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy, ngettext

from customers.models import POINTS_FIELDS, LedgerEntry
from loyalty.backoffice.numbers import signed_money, signed_points

BUCKET_WORDS = {
    "balance": gettext_lazy("Cashback"),
    "digital_change": gettext_lazy("Digital change"),
    "points": gettext_lazy("Points"),
    "pending_balance": gettext_lazy("Pending cashback"),
    "pending_points": gettext_lazy("Pending points"),
    "total_shoppings": gettext_lazy("Purchases"),
    "total_discounts": gettext_lazy("Discounts"),
}


def ledger_amounts(entry: LedgerEntry) -> str:
    """What the row moved: `Cashback +R$ 1,20 · Pontos +24`."""
    parts = []
    for name, value in entry.moved().items():
        if name == "count_shoppings":
            count = int(value)
            parts.append(
                ngettext("%(count)+d purchase", "%(count)+d purchases", abs(count)) % {"count": count}
            )
            continue
        shown = signed_points(value) if name in POINTS_FIELDS else signed_money(Decimal(value))
        parts.append(f"{BUCKET_WORDS[name]} {shown}")
    return " · ".join(parts) or "—"


def sale_words(sale) -> str:
    """A sale (or a redemption at the till) as its receipt says it: `compra cupom 15, PDV 1`."""
    if sale.coupon and sale.pdv:
        return gettext("purchase receipt %(coupon)s, PDV %(pdv)s") % {"coupon": sale.coupon, "pdv": sale.pdv}
    if sale.coupon:
        return gettext("purchase receipt %(coupon)s") % {"coupon": sale.coupon}
    if sale.reference:
        return gettext("purchase %(reference)s") % {"reference": sale.reference}
    return gettext("purchase of %(day)s") % {"day": date_format(sale.local_date, "SHORT_DATE_FORMAT")}


def ledger_origin(entry: LedgerEntry) -> str:
    """Where the row came from, in the staff user's words and language: the sale's receipt,
    the redemption's, the voucher, the person and their reason. The stored `reason` (written
    once, in no particular language) is said only for what has no other origin."""
    kind = entry.kind
    if entry.staff_user is not None:
        return gettext("by %(user)s: %(reason)s") % {"user": entry.staff_user, "reason": entry.reason}
    if entry.sale_return_id is not None and entry.sale is not None:
        return gettext("return of %(sale)s") % {"sale": sale_words(entry.sale)}
    if entry.redemption is not None:
        words = gettext("redemption at the till, %(receipt)s") % {"receipt": sale_words(entry.redemption)}
        return (
            gettext("cancellation of %(what)s") % {"what": words}
            if kind == LedgerEntry.Kind.REVERSAL
            else words
        )
    if entry.sale is not None:
        words = sale_words(entry.sale)
        if kind == LedgerEntry.Kind.REVERSAL:
            return gettext("cancellation of %(sale)s") % {"sale": words}
        if kind == LedgerEntry.Kind.RELEASE:
            return gettext("released: %(sale)s") % {"sale": words}
        return words
    if entry.voucher is not None:
        return gettext("voucher %(code)s") % {"code": entry.voucher.code}
    if kind == LedgerEntry.Kind.EXPIRY:
        return gettext("expired")
    if kind == LedgerEntry.Kind.RELEASE:
        return gettext("released after the waiting days")
    return entry.reason


def ledger_summary(entry: LedgerEntry) -> str:
    """`Cashback +R$ 1,20 — compra cupom 15, PDV 1`."""
    origin = ledger_origin(entry)
    amounts = ledger_amounts(entry)
    return f"{amounts} — {origin}" if origin else amounts


#: What a list of ledger rows must load so that `ledger_summary` costs no query per row.
LEDGER_SUMMARY_RELATED = ("sale", "voucher", "redemption", "staff_user")
