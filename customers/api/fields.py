"""Serializer and filter fields for documents and contacts, shared by both dialects."""

from django import forms
from rest_framework import serializers

from customers.documents import InvalidContact, normalize_document, normalize_email, normalize_phone


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
