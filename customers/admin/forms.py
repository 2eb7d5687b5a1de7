"""The forms of the customer's page: the customer with their consent per channel, and the
wallet adjustment (bucket, signed amount as staff type it, required reason)."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.documents import (
    InvalidContact,
    normalize_document,
    normalize_email,
    normalize_phone,
)
from customers.models import Customer
from customers.selectors import consent_of
from customers.services.wallets import ADJUSTABLE_BUCKETS
from loyalty.backoffice.numbers import LocalDecimalField
from loyalty.outbox.models import Channel

#: Each channel's consent field of the customer form: `consent_<channel>`.
CONSENT_FIELDS = {f"consent_{channel}": channel for channel in Channel.values}
NOT_ASKED, ACCEPTS, REFUSES = "", "yes", "no"


def consent_choice_field(label) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=[
            (NOT_ASKED, _("Not asked")),
            (ACCEPTS, _("Accepts marketing")),
            (REFUSES, _("Refuses marketing")),
        ],
        help_text=_(
            "Change it only as the customer asked; the change is kept in the history with your user."
        ),
    )


class CustomerAdminForm(forms.ModelForm):
    consent_email = consent_choice_field(_("Marketing by e-mail"))
    consent_sms = consent_choice_field(_("Marketing by SMS"))
    consent_whatsapp = consent_choice_field(_("Marketing by WhatsApp"))

    class Meta:
        model = Customer
        fields = ["account", "name", "document", "phone", "email", "birth_date", "gender", "extra"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = consent_of(self.instance) if self.instance.pk else {}
        for name, channel in CONSENT_FIELDS.items():
            field = self.fields[name]
            state = current.get(channel)
            if state and state["changed_at"] is not None:
                field.initial = ACCEPTS if state["granted"] else REFUSES
                # Once answered, a channel is accepted or refused: "not asked" is no answer.
                field.choices = [choice for choice in field.choices if choice[0] != NOT_ASKED]
            if self.instance.anonymized_at:
                field.disabled = True

    def consent_changes(self) -> dict[str, bool]:
        """The channels whose answer the staff user changed, with the new answer."""
        return {
            channel: self.cleaned_data[name] == ACCEPTS
            for name, channel in CONSENT_FIELDS.items()
            if name in self.changed_data and self.cleaned_data.get(name) in (ACCEPTS, REFUSES)
        }

    def _normalized(self, name, normalizer):
        value = self.cleaned_data.get(name)
        if not value:
            return None
        try:
            return normalizer(value)
        except InvalidContact as error:
            raise forms.ValidationError(str(error)) from None

    def clean_document(self):
        return self._normalized("document", normalize_document)

    def clean_phone(self):
        return self._normalized("phone", normalize_phone)

    def clean_email(self):
        return self._normalized("email", normalize_email)

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(name) for name in ("document", "phone", "email")):
            raise forms.ValidationError(gettext("Give at least one of CPF/CNPJ, phone or e-mail."))
        account = cleaned.get("account") or getattr(self.instance, "account", None)
        if account is not None:
            self._check_duplicates(account)
        return cleaned

    def _check_duplicates(self, account) -> None:
        for name in ("document", "phone", "email"):
            value = self.cleaned_data.get(name)
            if not value:
                continue
            clash = Customer.objects.filter(account=account, **{name: value}).exclude(pk=self.instance.pk)
            existing = clash.values_list("pk", flat=True).first()
            if existing:
                self.add_error(
                    name, gettext("Another customer of this account has it (id %(id)s).") % {"id": existing}
                )

    def validate_unique(self):
        # Checked per account in `clean`, naming the customer that already has the contact.
        pass


ADJUSTABLE_BUCKET_LABELS = {
    "points": _("Points"),
    "balance": _("Balance"),
    "digital_change": _("Digital change"),
}


class WalletAdjustmentForm(forms.Form):
    bucket = forms.ChoiceField(
        label=_("Balance to adjust"),
        choices=[(name, ADJUSTABLE_BUCKET_LABELS[name]) for name in ADJUSTABLE_BUCKETS],
        help_text=_("Which balance to correct."),
    )
    amount = LocalDecimalField(
        label=_("Amount"),
        max_digits=14,
        decimal_places=2,
        help_text=_(
            "Signed: positive adds, negative takes (10,50 or 10.50). A bucket may not go below zero."
        ),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        help_text=_("Required. Shown in the ledger next to your user name."),
        strip=True,
    )

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(gettext("The amount must not be zero."))
        return amount


class TriedOnly(Exception):
    """Rolls back an adjustment tried for its confirmation page."""
