"""django-filter pieces for the platform's formats (dates in the account's zone)."""

import django_filters
from django import forms

from loyalty.dates import in_zone, parse_api_datetime


class ApiDateTimeFormField(forms.CharField):
    """A date-time in any accepted request format; naive when sent without an offset."""

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        parsed = parse_api_datetime(value)
        if parsed is None:
            raise forms.ValidationError(
                f"Invalid date/time {value!r}. Use YYYY-MM-DD HH:MM:SS, YYYY-MM-DD HH:MM, YYYY-MM-DD or ISO 8601."
            )
        return parsed


class ApiDateTimeFilter(django_filters.Filter):
    """Filters a datetime column; a value without an offset is the caller's account time."""

    field_class = ApiDateTimeFormField

    def filter(self, qs, value):
        if value is None:
            return qs
        return super().filter(qs, in_zone(value, self.parent.request.user.account.tzinfo))
