"""Serializer fields and filters for products and promotions, shared by both dialects."""

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from loyalty.core.vocabulary import Unit

UNITS = ", ".join(Unit.values)
BARCODE_HELP = "1 to 20 digits (0-9)."
BOOLEAN_WORDS = {"1": True, "true": True, "0": False, "false": False}
#: The length error of each text `text_field` makes, by its label.
TEXT_LENGTH_MESSAGES = {
    "name": _("The name must be 3 to 100 characters long."),
    "category": _("The category must be 3 to 100 characters long."),
    "subcategory": _("The subcategory must be 3 to 100 characters long."),
}


class BarcodeField(serializers.CharField):
    """A barcode: 1 to 20 digits. A JSON number is read as its digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", f"Barcode: {BARCODE_HELP}")
        super().__init__(**kwargs)
        self.validators.append(
            RegexValidator(r"^[0-9]{1,20}\Z", _("Invalid barcode: a barcode is 1 to 20 digits (0-9)."))
        )


def text_field(label: str, **kwargs) -> serializers.CharField:
    """A 3 to 100 character text (product, category and subcategory names)."""
    message = TEXT_LENGTH_MESSAGES.get(label) or f"The {label} must be 3 to 100 characters long."
    return serializers.CharField(
        min_length=3,
        max_length=100,
        error_messages={"min_length": message, "max_length": message},
        **kwargs,
    )


# DRF fills in `{input}` when it refuses a value; the units are filled in here, in the language
# active then.
unit_choice_message = lazy(
    lambda: gettext('"{input}" is not a unit; use one of %(units)s.') % {"units": UNITS}, str
)


class UnitField(serializers.ChoiceField):
    """A unit of sale, in any case (tills send `UN`); stored lower case."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", f"Unit of sale, one of {UNITS}, in any case (`UN` is `un`).")
        kwargs.setdefault("error_messages", {"invalid_choice": unit_choice_message()})
        super().__init__(Unit.choices, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and data.lower() in self.choices:
            return data.lower()
        # Anything else is refused by ChoiceField, whose message quotes what was sent.
        return super().to_internal_value(data)


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": 1})
class OneZeroBooleanField(serializers.BooleanField):
    """A boolean answered as 1 or 0, as the seed's product objects show `active`."""

    def to_representation(self, value):
        return int(bool(value))


class StrictBooleanFormField(forms.Field):
    """`1`/`true` or `0`/`false`; anything else is a clear error instead of being ignored."""

    def clean(self, value):
        if value in self.empty_values:
            return None
        choice = BOOLEAN_WORDS.get(str(value).strip().lower())
        if choice is None:
            raise forms.ValidationError(
                gettext("Use 1 or 0 (true or false); got %(value)r.") % {"value": value}
            )
        return choice


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanFormField
