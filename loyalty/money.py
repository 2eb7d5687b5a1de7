"""Money, points and quantities as `Decimal`, rounded in one place.

Every computed amount is rounded once, at the end, with ROUND_HALF_UP, to the places
fixed in settings. Nothing in the product uses `float` for an amount.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models

ZERO = Decimal("0")


def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def round_money(value: Decimal | int | str) -> Decimal:
    """Round a money amount to the cent (ROUND_HALF_UP)."""
    return Decimal(value).quantize(_quantum(settings.MONEY_DECIMAL_PLACES), rounding=ROUND_HALF_UP)


def round_points(value: Decimal | int | str) -> Decimal:
    """Round a points amount to its fixed places (ROUND_HALF_UP)."""
    return Decimal(value).quantize(_quantum(settings.POINTS_DECIMAL_PLACES), rounding=ROUND_HALF_UP)


def round_quantity(value: Decimal | int | str) -> Decimal:
    """Round a quantity (kg, lt, mt units may be fractional) to its fixed places."""
    return Decimal(value).quantize(_quantum(settings.QUANTITY_DECIMAL_PLACES), rounding=ROUND_HALF_UP)


class MoneyField(models.DecimalField):
    """A money column: the project's digits and cents, zero by default."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", settings.AMOUNT_MAX_DIGITS)
        kwargs.setdefault("decimal_places", settings.MONEY_DECIMAL_PLACES)
        super().__init__(*args, **kwargs)


class PointsField(models.DecimalField):
    """A points column (points may be fractional)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", settings.AMOUNT_MAX_DIGITS)
        kwargs.setdefault("decimal_places", settings.POINTS_DECIMAL_PLACES)
        super().__init__(*args, **kwargs)


class QuantityField(models.DecimalField):
    """A quantity column (fractional for weighed or measured units)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", settings.AMOUNT_MAX_DIGITS)
        kwargs.setdefault("decimal_places", settings.QUANTITY_DECIMAL_PLACES)
        super().__init__(*args, **kwargs)
