"""Numbers in the back office's templates as staff read them: `{{ amount|money }}` is
`R$ 1.234,56` in pt-BR, `{{ points|points }}` has no needless decimals, `{{ change|change }}`
is a signed percentage."""

from decimal import Decimal

from django import template
from django.utils.formats import date_format, time_format

from loyalty.backoffice import numbers

register = template.Library()


@register.filter
def money(value) -> str:
    return numbers.money(value if value is not None else 0)


@register.filter
def points(value) -> str:
    return numbers.points(value if value is not None else 0)


@register.filter
def moment(value) -> str:
    """An aware datetime as staff read it, in its own zone (put it there with `|timezone:`):
    the language's short date and a 24-hour time, `30/11/2026 10:00` in pt-BR."""
    return f"{date_format(value, 'SHORT_DATE_FORMAT')} {time_format(value, 'H:i')}"


@register.filter
def change(value: Decimal | None) -> str:
    """`+12,5 %`, `-3 %`; a dash where there is nothing to compare with."""
    if value is None:
        return "—"
    rounded = Decimal(value).quantize(Decimal("0.1"))
    shown = numbers.percent(abs(rounded))
    return f"-{shown}" if rounded < 0 else f"+{shown}"
