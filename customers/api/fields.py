"""Serializer and filter fields for documents, contacts and wallets, shared by both dialects."""

from django import forms
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.documents import InvalidContact, normalize_document, normalize_email, normalize_phone
from loyalty.api.fields import MoneyField, PointsField


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
