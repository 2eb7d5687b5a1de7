"""Database columns of amounts: money, points and quantities, with the places of
`loyalty.core.money`."""

from django.db import models

from loyalty.core.money import AMOUNT_MAX_DIGITS, MONEY_PLACES, POINTS_PLACES, QUANTITY_PLACES


class MoneyField(models.DecimalField):
    """A money column: the project's digits and cents."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", AMOUNT_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_PLACES)
        super().__init__(*args, **kwargs)


class PointsField(models.DecimalField):
    """A points column (points may be fractional)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", AMOUNT_MAX_DIGITS)
        kwargs.setdefault("decimal_places", POINTS_PLACES)
        super().__init__(*args, **kwargs)


class QuantityField(models.DecimalField):
    """A quantity column (fractional for weighed or measured units)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", AMOUNT_MAX_DIGITS)
        kwargs.setdefault("decimal_places", QUANTITY_PLACES)
        super().__init__(*args, **kwargs)
