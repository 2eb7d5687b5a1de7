"""The words both API dialects, the apps and the engine share: sale types, payment methods,
units, weekdays, and the limits of what one request may carry.

Defined once here, below every app, so that nobody copies them: the engine's rules, the
quote and the purchase all speak of the same `SaleType` and `PaymentMethod`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SaleType(models.TextChoices):
    DAV = "DAV", _("DAV (pre-sale document)")
    OS = "OS", _("OS (service order)")
    FOOD = "FOOD", _("FOOD (food service)")
    CF = "CF", _("CF (fiscal receipt)")
    NF = "NF", _("NF (invoice)")


class PaymentMethod(models.IntegerChoices):
    CASH = 1, _("Cash")
    DEBIT_CARD = 2, _("Debit card")
    CREDIT_CARD = 3, _("Credit card")
    CHEQUE = 4, _("Cheque")
    BENEFIT_CARD = 5, _("Benefit card / meal voucher")
    PIX = 6, _("Pix")
    DIGITAL_WALLET = 7, _("Digital wallet")
    OTHER = 8, _("Other")
    DIGITAL_CHANGE = 9, _("Digital change")


class Unit(models.TextChoices):
    PIECE = "pc", _("Piece (pc)")
    KILOGRAM = "kg", _("Kilogram (kg)")
    METRE = "mt", _("Metre (mt)")
    BOX = "cx", _("Box (cx)")
    SET = "jg", _("Set (jg)")
    PAIR = "pr", _("Pair (pr)")
    KIT = "cj", _("Kit (cj)")
    UNIT = "un", _("Unit (un)")
    HOUR = "hr", _("Hour (hr)")
    PACKAGE = "pt", _("Package (pt)")
    LITRE = "lt", _("Litre (lt)")


class Weekday(models.IntegerChoices):
    """Python's numbering: `date.weekday()`."""

    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


#: Lines a purchase, a v2 sale or a quote may carry.
MAX_ITEMS = 500
#: Payments a purchase or a v2 sale may carry.
MAX_PAYMENTS = 50
