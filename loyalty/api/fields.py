"""Serializer fields for the platform's data formats (dates, money, points, quantities)."""

import zoneinfo
from datetime import date, datetime

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from loyalty.core.dates import format_api_datetime, in_zone, parse_api_datetime
from loyalty.core.money import AMOUNT_MAX_DIGITS, MONEY_PLACES, POINTS_PLACES, QUANTITY_PLACES

DATETIME_HELP = (
    "YYYY-MM-DD HH:MM:SS, YYYY-MM-DD HH:MM, YYYY-MM-DD or ISO 8601 (e.g. 2024-05-20T12:06:27-03:00); "
    "a time without an offset is the account's local time"
)


def account_time_zone(context: dict) -> zoneinfo.ZoneInfo:
    """The time zone of the caller's account, or the default for a new account."""
    request = context.get("request")
    account = getattr(getattr(request, "user", None), "account", None) or context.get("account")
    if account is not None:
        return account.tzinfo
    return zoneinfo.ZoneInfo(settings.DEFAULT_ACCOUNT_TIME_ZONE)


class ApiDateTimeField(serializers.DateTimeField):
    """Accepts every request format of the platform; answers UTC ISO 8601 (`...000000Z`)."""

    # Filled by DRF with `str.format`. "invalid" spells out DATETIME_HELP.
    default_error_messages = {
        "invalid": _(
            "Invalid date/time {value!r}. Use YYYY-MM-DD HH:MM:SS, YYYY-MM-DD HH:MM, YYYY-MM-DD or "
            "ISO 8601 (e.g. 2024-05-20T12:06:27-03:00); a time without an offset is the account's "
            "local time."
        ),
        "date": _("Expected a date and time but got a date."),
        "range": _("Date/time {value!r} is out of range: in UTC it must fall between the years 1 and 9999."),
    }

    def to_internal_value(self, value):
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, date):
            self.fail("date")
        elif isinstance(value, str):
            parsed = parse_api_datetime(value)
            if parsed is None:
                self.fail("invalid", value=value)
        else:
            self.fail("invalid", value=value)
        try:
            return in_zone(parsed, account_time_zone(self.context))
        except OverflowError:
            # 9999-12-31 23:59 in São Paulo is past the last instant a datetime holds in UTC.
            self.fail("range", value=value)

    def to_representation(self, value):
        if value in (None, ""):
            return None
        return format_api_datetime(value)


class ApiDateField(serializers.DateField):
    """A calendar date, `YYYY-MM-DD` (a date-time in an accepted format gives its date)."""

    default_error_messages = {"invalid": _("Invalid date {value!r}. Use YYYY-MM-DD.")}

    def to_internal_value(self, value):
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        parsed = parse_api_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            self.fail("invalid", value=value)
        return parsed.date()

    def to_representation(self, value):
        return value.isoformat() if value else None


def _decimal_field(places: int, **kwargs) -> dict:
    kwargs.setdefault("max_digits", AMOUNT_MAX_DIGITS)
    kwargs.setdefault("decimal_places", places)
    kwargs.setdefault("coerce_to_string", False)
    return kwargs


class MoneyField(serializers.DecimalField):
    """Money as a JSON number with at most two decimal places."""

    def __init__(self, **kwargs):
        super().__init__(**_decimal_field(MONEY_PLACES, **kwargs))


class PointsField(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(**_decimal_field(POINTS_PLACES, **kwargs))


class QuantityField(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(**_decimal_field(QUANTITY_PLACES, **kwargs))
