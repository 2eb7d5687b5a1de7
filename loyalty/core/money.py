"""Money, points and quantities as `Decimal`, rounded in one place.

Every computed amount is rounded once, at the end, with ROUND_HALF_UP, to the places fixed
here. Nothing in the product uses `float` for an amount. The places are constants, not
settings: the database columns (`loyalty.core.fields`) were created with them.
"""

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
MONEY_PLACES = 2
POINTS_PLACES = 2
QUANTITY_PLACES = 3
#: Digits of every stored amount, cents included.
AMOUNT_MAX_DIGITS = 14

CENT = Decimal(1).scaleb(-MONEY_PLACES)
POINT_QUANTUM = Decimal(1).scaleb(-POINTS_PLACES)
QUANTITY_QUANTUM = Decimal(1).scaleb(-QUANTITY_PLACES)


def round_money(value: Decimal | int | str) -> Decimal:
    """Round a money amount to the cent (ROUND_HALF_UP)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def round_points(value: Decimal | int | str) -> Decimal:
    """Round a points amount to its fixed places (ROUND_HALF_UP)."""
    return Decimal(value).quantize(POINT_QUANTUM, rounding=ROUND_HALF_UP)


def json_amount(value: Decimal) -> int | float:
    """An amount as a JSON number in its shortest exact form (`12`, `1.2`), as the API and the
    webhook events write it. Amounts carry at most 3 places and 14 digits: a float keeps them
    exact, and it is only ever written, never computed with."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
