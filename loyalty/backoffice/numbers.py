"""Numbers as merchant staff type and read them in the admin.

Brazilian staff write `10,50` and `1.050,00`; others write `10.50`. A plain Django
`DecimalField` refuses the first, and with thousands grouping on it silently reads `10,50`
as 1050: `LocalDecimalField` takes all three and never moves the decimal mark. Shown values
follow the active language (`R$ 1,234.56` in English, `R$ 1.234,56` once pt-BR is active),
points and quantities without needless decimals.
"""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.formats import get_format, number_format

from loyalty.core.money import MONEY_PLACES

_DIGITS = re.compile(r"\d+")
_MARKS = {",": ".", ".": ","}


def parse_decimal(text: str, *, thousands_mark: str | None = None) -> Decimal:
    """The number in `text`: a comma or a point as the decimal mark, the other one as an
    optional thousands separator (`1.050,00`, `1,050.00`); a single mark alone is the decimal
    mark (`10,50`, `10.50`), several of one alone are thousands (`1.050.000`). The one
    ambiguous case, a single mark before exactly three digits (`1.000`), is read as the
    person's language writes it: with `thousands_mark` "." (pt-BR) `1.000` is a thousand and
    `1,000` one; with "," (English) the other way round.

    Raises `ValueError` for anything else, so that a typo is refused instead of guessed.
    """
    value = re.sub(r"\s", "", text)
    if value[:2].upper() == "R$":
        value = value[2:]
    sign = ""
    if value[:1] in ("+", "-"):
        sign, value = value[:1], value[1:]
    if "," in value and "." in value:
        decimal_mark: str | None = "," if value.rfind(",") > value.rfind(".") else "."
    elif value.count(",") == 1 or value.count(".") == 1:
        decimal_mark = "," if "," in value else "."
        if decimal_mark == thousands_mark and re.fullmatch(
            rf"\d{{1,3}}{re.escape(decimal_mark)}\d{{3}}", value
        ):
            decimal_mark = None
    else:
        decimal_mark = None
    if decimal_mark is not None:
        whole, _, fraction = value.rpartition(decimal_mark)
        group_mark = _MARKS[decimal_mark]
        if not _DIGITS.fullmatch(fraction):
            raise ValueError(f"Not a number: {text!r}")
    else:
        whole, fraction = value, ""
        group_mark = "," if "," in value else "."
    if group_mark in whole:
        if not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(group_mark)}\d{{3}})+", whole):
            raise ValueError(f"Not a number: {text!r}")
        whole = whole.replace(group_mark, "")
    elif not (_DIGITS.fullmatch(whole) or (whole == "" and fraction)):
        raise ValueError(f"Not a number: {text!r}")
    try:
        return Decimal(f"{sign}{whole or '0'}{'.' + fraction if fraction else ''}")
    except InvalidOperation:
        raise ValueError(f"Not a number: {text!r}") from None


class LocalDecimalField(forms.DecimalField):
    """A decimal typed with a comma or a point (see `parse_decimal`), in a text box: a
    browser's number box refuses the comma in some locales."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            return value
        try:
            return parse_decimal(str(value), thousands_mark=get_format("THOUSAND_SEPARATOR"))
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "inputmode": "decimal", "autocomplete": "off"}


class LocalNumbersAdminMixin:
    """Every decimal of an admin form typed and shown the local way: `12,5` is 12.5 and an
    input shows `12,50` in pt-BR, `12.50` in English."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.DecimalField) and not db_field.choices:
            kwargs.setdefault("form_class", LocalDecimalField)
            kwargs.setdefault("localize", True)
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]


def _column(name: str, title, shown, suffix: str):
    @admin.display(description=title, ordering=name)
    def column(obj):
        return shown(getattr(obj, name))

    column.__name__ = f"{name}_{suffix}"
    return column


def money_column(name: str, title):
    """A list column showing the model's money field `name` as `R$ 1.234,56`, sortable."""
    return _column(name, title, money, "money")


def points_column(name: str, title):
    """A list column showing a points field without needless decimals, sortable."""
    return _column(name, title, points, "points")


def _plain(value: Decimal, most_places: int) -> str:
    """`value` with only the places it needs, up to `most_places`, in the active language."""
    rounded = value.quantize(Decimal(1).scaleb(-most_places))
    places = max(-rounded.normalize().as_tuple().exponent, 0) if rounded else 0
    return number_format(rounded, places, force_grouping=True)


def money(value: Decimal | str | int) -> str:
    """`R$ 1,234.56` (the separators of the active language)."""
    amount = Decimal(value)
    text = f"R$ {number_format(abs(amount), MONEY_PLACES, force_grouping=True)}"
    return f"-{text}" if amount < 0 else text


def signed_money(value: Decimal | str | int) -> str:
    amount = Decimal(value)
    return money(amount) if amount < 0 else f"+{money(amount)}"


def points(value: Decimal | str | int) -> str:
    """Points without needless decimals: `12`, `12.5`."""
    return _plain(Decimal(value), 2)


def signed_points(value: Decimal | str | int) -> str:
    amount = Decimal(value)
    return points(amount) if amount < 0 else f"+{points(amount)}"


def decimal_shown(value: Decimal) -> str:
    """Any stored decimal (a rule's value, a price) without needless zeros: `7,5`."""
    return _plain(value, max(-value.as_tuple().exponent, 0))


def percent(value: Decimal | str | int) -> str:
    """A percentage without needless zeros: `12,5 %`."""
    return f"{_plain(Decimal(value), 2)} %"


def quantity(value: Decimal | str | int) -> str:
    """A quantity without needless decimals: `2`, `1.5`, `0.125`."""
    return _plain(Decimal(value), 3)
