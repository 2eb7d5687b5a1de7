"""Database columns of amounts: money, points and quantities, with the places of
`loyalty.core.money`."""

from typing import Any

from django.db import models

from loyalty.core.money import AMOUNT_MAX_DIGITS, MONEY_PLACES, POINTS_PLACES, QUANTITY_PLACES


class MoneyField(models.DecimalField):
    """A money column: the project's digits and cents."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", AMOUNT_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_PLACES)
        super().__init__(*args, **kwargs)


class PointsField(models.DecimalField):
    """A points column (points may be fractional)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", AMOUNT_MAX_DIGITS)
        kwargs.setdefault("decimal_places", POINTS_PLACES)
        super().__init__(*args, **kwargs)


class QuantityField(models.DecimalField):
    """A quantity column (fractional for weighed or measured units)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", AMOUNT_MAX_DIGITS)
        kwargs.setdefault("decimal_places", QUANTITY_PLACES)
        super().__init__(*args, **kwargs)


class TenantOneToOneField(models.OneToOneField):
    """A one-to-one relation whose uniqueness the model enforces together with the account.

    Django's `OneToOneField` always adds a unique index on its column alone; a table that can
    be sharded by account needs every unique constraint to include the account. The model
    declares `UniqueConstraint(fields=["account", <this field>])` instead, which is the same
    rule since both rows belong to one account.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unique = False
