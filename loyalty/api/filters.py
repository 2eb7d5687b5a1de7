"""django-filter pieces for the platform's formats (dates in the account's zone, ids)."""

from datetime import date

import django_filters
from django import forms
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field

from loyalty.core.dates import in_zone, parse_api_datetime
from loyalty.core.ids import MAX_ID, parse_id

FIRST_SAFE_DAY = date(1, 1, 2)
LAST_SAFE_DAY = date(9999, 12, 30)


class ApiDateTimeFormField(forms.CharField):
    """A date-time in any accepted request format; naive when sent without an offset."""

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        parsed = parse_api_datetime(value)
        if parsed is None:
            raise forms.ValidationError(
                gettext(
                    "Invalid date/time %(value)s. Use YYYY-MM-DD HH:MM:SS, YYYY-MM-DD HH:MM, YYYY-MM-DD or ISO 8601."
                )
                % {"value": repr(value)}
            )
        # The first and last days a datetime holds may not exist in UTC once moved from a zone
        # (9999-12-31 23:59 in São Paulo is past the last instant): refused here, not a 500.
        if not FIRST_SAFE_DAY <= parsed.date() <= LAST_SAFE_DAY:
            raise forms.ValidationError(
                gettext("Date/time %(value)s is out of range: use a day from %(first)s to %(last)s.")
                % {"value": repr(value), "first": FIRST_SAFE_DAY, "last": LAST_SAFE_DAY}
            )
        return parsed


class ApiDateTimeFilter(django_filters.Filter):
    """Filters a datetime column; a value without an offset is the caller's account time."""

    field_class = ApiDateTimeFormField

    def filter(self, qs, value):
        if value is None:
            return qs
        return super().filter(qs, in_zone(value, self.parent.request.user.account.tzinfo))


class IdFormField(forms.Field):
    """The id of an object; anything else is a 400, not a query that overflows."""

    def clean(self, value):
        if value in self.empty_values:
            return None
        object_id = parse_id(str(value))
        if object_id is None:
            raise forms.ValidationError(
                gettext("Use an id: a whole number from 1 to %(max)s; got %(value)s.")
                % {"max": MAX_ID, "value": repr(value)}
            )
        return object_id


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """Filters a foreign key by the id of the object it names."""

    field_class = IdFormField
