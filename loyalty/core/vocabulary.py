"""The words both API dialects, the apps and the engine share: sale types, payment methods,
units, weekdays, and the limits of what one request may carry.

Defined once here, below every app, so that nobody copies them: the engine's rules, the
quote and the purchase all speak of the same `SaleType` and `PaymentMethod`.
"""

from django.db import models


class SaleType(models.TextChoices):
    DAV = "DAV", "DAV (pre-sale document)"
    OS = "OS", "OS (service order)"
    FOOD = "FOOD", "FOOD (food service)"
    CF = "CF", "CF (fiscal receipt)"
    NF = "NF", "NF (invoice)"


class PaymentMethod(models.IntegerChoices):
    CASH = 1, "Cash"
    DEBIT_CARD = 2, "Debit card"
    CREDIT_CARD = 3, "Credit card"
    CHEQUE = 4, "Cheque"
    BENEFIT_CARD = 5, "Benefit card / meal voucher"
    PIX = 6, "Pix"
    DIGITAL_WALLET = 7, "Digital wallet"
    OTHER = 8, "Other"
    DIGITAL_CHANGE = 9, "Digital change"


class Unit(models.TextChoices):
    PIECE = "pc", "Piece (pc)"
    KILOGRAM = "kg", "Kilogram (kg)"
    METRE = "mt", "Metre (mt)"
    BOX = "cx", "Box (cx)"
    SET = "jg", "Set (jg)"
    PAIR = "pr", "Pair (pr)"
    KIT = "cj", "Kit (cj)"
    UNIT = "un", "Unit (un)"
    HOUR = "hr", "Hour (hr)"
    PACKAGE = "pt", "Package (pt)"
    LITRE = "lt", "Litre (lt)"


class Weekday(models.IntegerChoices):
    """Python's numbering: `date.weekday()`."""

    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


#: Lines a purchase, a v2 sale or a quote may carry.
MAX_ITEMS = 500
#: Payments a purchase or a v2 sale may carry.
MAX_PAYMENTS = 50
