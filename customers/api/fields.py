"""Serializer and filter fields for documents, contacts, consent and wallets, shared by both
dialects."""

from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.documents import InvalidContact, normalize_document, normalize_email, normalize_phone
from customers.models import ConsentSource
from customers.selectors import consent_of
from customers.services.consent import CHANNELS
from loyalty.api.fields import ApiDateTimeField, MoneyField, PointsField


class _NormalizedCharField(serializers.CharField):
    def normalize(self, value: str) -> str:
        raise NotImplementedError

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value == "":
            return value
        try:
            return self.normalize(value)
        except InvalidContact as error:
            raise serializers.ValidationError(str(error)) from None


class DocumentField(_NormalizedCharField):
    """A CPF or CNPJ, with or without punctuation; validated; the bare document inside."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "help_text", "CPF or CNPJ (alphanumeric CNPJs included), with or without punctuation."
        )
        super().__init__(**kwargs)

    def normalize(self, value: str) -> str:
        return normalize_document(value)


class PhoneField(_NormalizedCharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault(
            "help_text", "Any written form; Brazil unless a +country code is given. Answered in E.164."
        )
        super().__init__(**kwargs)

    def normalize(self, value: str) -> str:
        return normalize_phone(value)


class ContactEmailField(_NormalizedCharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 254)
        kwargs.setdefault("help_text", "Stored lower-cased; matched case-insensitively.")
        super().__init__(**kwargs)

    def normalize(self, value: str) -> str:
        return normalize_email(value)


class _NormalizedFormField(forms.CharField):
    normalizer = None

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        try:
            return type(self).normalizer(value)
        except InvalidContact as error:
            raise forms.ValidationError(str(error)) from None


class DocumentFormField(_NormalizedFormField):
    normalizer = staticmethod(normalize_document)


class PhoneFormField(_NormalizedFormField):
    normalizer = staticmethod(normalize_phone)


class EmailFormField(_NormalizedFormField):
    normalizer = staticmethod(normalize_email)


class NextExpirySerializer(serializers.Serializer):
    """The soonest day within 30 days on which some of the wallet expires, and how much."""

    date = serializers.DateField(
        read_only=True, help_text="The last local day (account's time zone) on which it can be spent."
    )
    points = PointsField(read_only=True, help_text="Points that expire at the end of that day.")
    balance = MoneyField(read_only=True, help_text="Cashback balance (vale compras) that expires then.")


class NextExpiryMixin(serializers.Serializer):
    """Adds `next_expiry` to a wallet answer; the view puts it in the serializer's context."""

    next_expiry = serializers.SerializerMethodField(
        help_text="What expires first within the next 30 days (`null`: nothing does)."
    )

    @extend_schema_field(NextExpirySerializer(allow_null=True))
    def get_next_expiry(self, wallet) -> dict | None:
        found = self.context.get("next_expiry")
        return NextExpirySerializer(found).data if found is not None else None


class ChannelConsentSerializer(serializers.Serializer):
    """A customer's marketing consent on one channel, as answered."""

    granted = serializers.BooleanField(
        read_only=True, help_text="Whether the customer accepts marketing messages on this channel."
    )
    changed_at = ApiDateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When it was last given or withdrawn (`null`: never asked).",
    )
    source = serializers.ChoiceField(
        choices=ConsentSource.choices,
        read_only=True,
        allow_null=True,
        help_text="Where it was last given or withdrawn: `admin`, `api` or `pos` (`null`: never asked).",
    )


class ConsentSerializer(serializers.Serializer):
    """A customer's marketing consent on every channel, as answered."""

    email = ChannelConsentSerializer(read_only=True)
    sms = ChannelConsentSerializer(read_only=True)
    whatsapp = ChannelConsentSerializer(read_only=True)


class ConsentField(serializers.Field):
    """Marketing consent (LGPD): `{"email": true, "sms": false}` in, only the channels it
    changes; the customer's state on every channel out (`ConsentSerializer`)."""

    def get_attribute(self, instance):
        return instance

    @cached_property
    def answer(self) -> ConsentSerializer:
        # One serializer for every customer of a page: a new one copies its nine fields
        # afresh for each (about 1 ms a customer, most of a page of 50's time).
        return ConsentSerializer()

    def to_representation(self, value):
        return self.answer.to_representation(consent_of(value))

    def to_internal_value(self, data) -> dict[str, bool]:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                gettext('Expected an object of channels, e.g. {"email": true, "sms": false}.')
            )
        errors = {}
        for channel, granted in data.items():
            if channel not in CHANNELS:
                errors[channel] = [
                    gettext("Unknown channel. Valid ones: %(channels)s.") % {"channels": ", ".join(CHANNELS)}
                ]
            elif not isinstance(granted, bool):
                errors[channel] = [gettext("Must be true (accepts marketing) or false (refuses it).")]
        if errors:
            raise serializers.ValidationError(errors)
        return dict(data)


class ConsentFieldSchema(OpenApiSerializerFieldExtension):
    """The two shapes of `ConsentField`: booleans by channel in a request, the state answered."""

    target_class = ConsentField

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return auto_schema.resolve_serializer(ConsentSerializer(), direction).ref
        return {
            "type": "object",
            "description": self.target.help_text or "",
            "properties": {
                channel: {
                    "type": "boolean",
                    "description": f"true: accepts marketing by {channel}; false: refuses it.",
                }
                for channel in CHANNELS
            },
            "additionalProperties": False,
        }
