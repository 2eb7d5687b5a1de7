"""Customers in the admin.

Staff find customers by CPF (formatted or not), phone (any written form), e-mail or name.
Wallets are read-only: the only way to move one is the adjustment form, which writes a
ledger row signed by the staff user through `wallet_adjust`. Consent is changed on the
customer's page, through `consents_set`, signed by the staff user; its history is read-only.
"""

import re
from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.admin.forms import CONSENT_FIELDS, CustomerAdminForm, TriedOnly, WalletAdjustmentForm
from customers.display import LEDGER_SUMMARY_RELATED, ledger_summary
from customers.documents import (
    InvalidContact,
    format_document,
    normalize_phone,
)
from customers.models import POINTS_FIELDS, ConsentSource, Customer, LedgerEntry
from customers.selectors import consent_history, wallet_next_expiry
from customers.services import (
    InsufficientFunds,
    consents_set,
    customer_create,
    customer_update,
    wallet_adjust,
)
from loyalty.backoffice import numbers
from loyalty.backoffice.exports import Column, CsvExportMixin
from loyalty.backoffice.scoping import AccountScopedAdminMixin, adopt_saved
from loyalty.backoffice.timezones import local_datetime
from loyalty.core.errors import DomainError

LEDGER_PREVIEW_ROWS = 10
CONSENT_HISTORY_ROWS = 20
SEARCH_PUNCTUATION = re.compile(r"[\s.\-/()+]")


@admin.register(Customer)
class CustomerAdmin(CsvExportMixin, AccountScopedAdminMixin, admin.ModelAdmin):
    form = CustomerAdminForm
    csv_filename = "customers"
    csv_prefetch_related = ("wallet",)
    csv_columns = (
        Column(_("id"), lambda customer: customer.pk),
        Column(_("name"), lambda customer: customer.name),
        Column(_("CPF/CNPJ"), lambda customer: format_document(customer.document)),
        Column(_("phone"), lambda customer: customer.phone),
        Column(_("e-mail"), lambda customer: customer.email),
        Column(_("points"), lambda customer: customer.wallet.points),
        Column(_("cashback balance"), lambda customer: customer.wallet.balance),
        Column(_("digital change"), lambda customer: customer.wallet.digital_change),
        Column(_("pending points"), lambda customer: customer.wallet.pending_points),
        Column(_("pending cashback"), lambda customer: customer.wallet.pending_balance),
        Column(_("total purchases"), lambda customer: customer.wallet.total_shoppings),
        Column(_("number of purchases"), lambda customer: customer.wallet.count_shoppings),
        Column(_("created at"), lambda customer: customer.created_at),
    )
    list_display = ("__str__", "cpf", "phone", "email", "points", "balance", "digital_change", "created_at")
    list_filter = ("gender", "created_at", "account")
    search_fields = ("name",)  # the search itself is `get_search_results`
    search_help_text = _("CPF/CNPJ (formatted or not), phone (any form), e-mail or name.")
    readonly_fields = (
        "wallet_summary",
        "ledger_preview",
        "consent_log",
        "created_at",
        "updated_at",
        "anonymized_at",
    )
    change_form_template = "admin/customers/customer/change_form.html"

    def get_queryset(self, request):
        # The wallet is one per customer, in one more query for the whole page.
        return super().get_queryset(request).prefetch_related("wallet")

    fieldsets = (
        (None, {"fields": ("account", "name", "document", "phone", "email")}),
        (_("Profile"), {"fields": ("birth_date", "gender", "extra")}),
        (_("Marketing consent (LGPD)"), {"fields": (*CONSENT_FIELDS, "consent_log")}),
        (_("Wallet"), {"fields": ("wallet_summary", "ledger_preview")}),
        (_("Record"), {"fields": ("created_at", "updated_at", "anonymized_at")}),
    )

    # --- list ---------------------------------------------------------------------

    @admin.display(description=_("CPF/CNPJ"), ordering="document")
    def cpf(self, customer):
        return format_document(customer.document)

    @admin.display(description=_("Points"), ordering="wallet__points")
    def points(self, customer):
        return numbers.points(customer.wallet.points)

    @admin.display(description=_("Cashback"), ordering="wallet__balance")
    def balance(self, customer):
        return numbers.money(customer.wallet.balance)

    @admin.display(description=_("Digital change"), ordering="wallet__digital_change")
    def digital_change(self, customer):
        return numbers.money(customer.wallet.digital_change)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = Q(name__icontains=term) | Q(email__icontains=term)
        bare = SEARCH_PUNCTUATION.sub("", term).upper()
        if bare:
            condition |= Q(document__startswith=bare)
        try:
            condition |= Q(phone=normalize_phone(term))
        except InvalidContact:
            if bare.isdigit() and len(bare) >= 4:
                condition |= Q(phone__contains=bare)
        return queryset.filter(condition), False

    # --- change form --------------------------------------------------------------

    @admin.display(description=_("Wallet"))
    def wallet_summary(self, customer):
        if customer.pk is None:
            return gettext("Created empty with the customer.")
        wallet = customer.wallet
        rows = [
            (gettext("Points"), numbers.points(wallet.points)),
            (gettext("Cashback balance"), numbers.money(wallet.balance)),
            (gettext("Digital change"), numbers.money(wallet.digital_change)),
            (gettext("Pending points"), numbers.points(wallet.pending_points)),
            (gettext("Pending cashback"), numbers.money(wallet.pending_balance)),
            (gettext("Total shopped"), numbers.money(wallet.total_shoppings)),
            (gettext("Purchases"), wallet.count_shoppings),
            (gettext("Discounts received"), numbers.money(wallet.total_discounts)),
        ]
        next_expiry = wallet_next_expiry(wallet=wallet, account=customer.account, now=timezone.now())
        if next_expiry is not None:
            rows.append(
                (
                    gettext("Expires next"),
                    gettext("%(points)s points and %(balance)s cashback at the end of %(date)s")
                    % {
                        "points": numbers.points(next_expiry.points),
                        "balance": numbers.money(next_expiry.balance),
                        "date": date_format(next_expiry.date, "SHORT_DATE_FORMAT"),
                    },
                )
            )
        return format_html(
            '<table class="wallet-summary">{}</table>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    @admin.display(description=_("Latest ledger entries"))
    def ledger_preview(self, customer):
        if customer.pk is None:
            return "—"
        entries = list(
            LedgerEntry.objects.filter(wallet__customer=customer).select_related(*LEDGER_SUMMARY_RELATED)[
                :LEDGER_PREVIEW_ROWS
            ]
        )
        if not entries:
            return gettext("No movements yet.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    local_datetime(entry.created_at),
                    entry.get_kind_display(),
                    ledger_summary(entry),
                )
                for entry in entries
            ),
        )
        full = (
            reverse("admin:customers_ledgerentry_changelist") + f"?wallet__customer__id__exact={customer.pk}"
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            '<tbody>{}</tbody></table><p><a href="{}">{}</a></p>',
            gettext("When"),
            gettext("Kind"),
            gettext("Movement"),
            rows,
            full,
            gettext("All ledger entries"),
        )

    @admin.display(description=_("Consent history"))
    def consent_log(self, customer):
        if customer.pk is None:
            return "—"
        changes = list(
            consent_history(customer=customer).select_related("store", "staff_user")[:CONSENT_HISTORY_ROWS]
        )
        if not changes:
            return gettext("Never asked: no marketing message is sent.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    local_datetime(change.occurred_at),
                    change.get_channel_display(),
                    gettext("Given") if change.granted else gettext("Withdrawn"),
                    change.get_source_display() + (f" · {change.store.name}" if change.store else ""),
                    change.staff_user.get_username() if change.staff_user else "—",
                )
                for change in changes
            ),
        )
        full = reverse("admin:customers_consentchange_changelist") + f"?customer__id__exact={customer.pk}"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            '<tbody>{}</tbody></table><p><a href="{}">{}</a></p>',
            gettext("When"),
            gettext("Channel"),
            gettext("Consent"),
            gettext("Where"),
            gettext("By"),
            rows,
            full,
            gettext("All consent changes"),
        )

    def has_delete_permission(self, request, obj=None):
        # Sales and the ledger keep their customer: a customer is anonymised (LGPD), never deleted.
        return False

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.anonymized_at:
            return [*fields, *self.form.Meta.fields]
        if obj is not None:
            fields.append("account")
        return fields

    def save_model(self, request, obj, form, change):
        if change and obj.anonymized_at:
            return
        # The record's own fields: the form the admin builds also lists the consent choices.
        data = {
            name: form.cleaned_data.get(name)
            for name in CustomerAdminForm.Meta.fields
            if name in form.cleaned_data
        }
        data.pop("account", None)
        if change:
            customer_update(customer=obj, **data)
        else:
            adopt_saved(obj, customer_create(account=form.cleaned_data["account"], **data))
        consent = form.consent_changes()
        if consent:
            consents_set(customer=obj, changes=consent, source=ConsentSource.ADMIN, staff_user=request.user)

    # --- wallet adjustment --------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<int:object_id>/adjust-wallet/",
                self.admin_site.admin_view(self.adjust_wallet_view),
                name="customers_customer_adjust_wallet",
            ),
            *super().get_urls(),
        ]

    def adjust_wallet_view(self, request, object_id: int):
        """The adjustment form; a valid one is shown back as money on a confirmation page, and
        only confirming writes the ledger row ("back" returns to the form as typed)."""
        customer = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not request.user.has_perm("customers.adjust_wallet"):
            raise PermissionDenied
        form = WalletAdjustmentForm(request.POST or None)
        confirming = request.method == "POST" and "back" not in request.POST and form.is_valid()
        if confirming:
            writing = "confirm" in request.POST
            try:
                # Its own savepoint: a refusal is shown in the form, and the request goes on. Before
                # the confirmation the adjustment is tried and rolled back, so that the page only
                # offers what the service will accept.
                with transaction.atomic():
                    wallet_adjust(
                        customer=customer,
                        bucket=form.cleaned_data["bucket"],
                        amount=Decimal(form.cleaned_data["amount"]),
                        reason=form.cleaned_data["reason"],
                        staff_user=request.user,
                    )
                    if not writing:
                        raise TriedOnly
            except TriedOnly:
                pass
            except InsufficientFunds as error:
                form.add_error("amount", error.detail)
                confirming = False
            except DomainError as error:
                form.add_error(None, error.detail)
                confirming = False
            else:
                self.message_user(
                    request, gettext("Wallet adjusted; the ledger shows the new row."), messages.SUCCESS
                )
                return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[customer.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Adjust the wallet of %(customer)s") % {"customer": customer},
            "customer": customer,
            "wallet": customer.wallet,
            "form": form,
            "opts": self.model._meta,
        }
        if confirming:
            bucket, amount = form.cleaned_data["bucket"], form.cleaned_data["amount"]
            shown = numbers.signed_points if bucket in POINTS_FIELDS else numbers.signed_money
            now = getattr(customer.wallet, bucket)
            after = numbers.points(now + amount) if bucket in POINTS_FIELDS else numbers.money(now + amount)
            context.update(
                title=gettext("Confirm the adjustment of %(customer)s's wallet") % {"customer": customer},
                bucket_label=dict(form.fields["bucket"].choices)[bucket],
                amount_shown=shown(amount),
                after_shown=after,
            )
            return TemplateResponse(request, "admin/customers/customer/adjust_wallet_confirm.html", context)
        return TemplateResponse(request, "admin/customers/customer/adjust_wallet.html", context)
