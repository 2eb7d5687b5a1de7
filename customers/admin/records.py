"""What the customers' services write, read-only in the admin: the ledger and the history of
consent."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from customers.display import LEDGER_SUMMARY_RELATED, ledger_origin, ledger_summary
from customers.documents import (
    format_document,
)
from customers.models import ConsentChange, LedgerEntry
from loyalty.backoffice.exports import Column, CsvExportMixin
from loyalty.backoffice.mixins import ReadOnlyAdminMixin
from loyalty.backoffice.scoping import AccountScopedAdminMixin


@admin.register(ConsentChange)
class ConsentChangeAdmin(ReadOnlyAdminMixin, AccountScopedAdminMixin, admin.ModelAdmin):
    """Every change of customers' marketing consent: append-only, newest first, never edited
    (a customer's consent is changed on their page)."""

    list_display = ("occurred_at", "customer", "channel", "granted", "source", "store", "staff_user")
    list_filter = ("channel", "granted", "source", "occurred_at")
    list_select_related = ("customer", "store", "staff_user")
    search_fields = ("customer__name", "customer__document", "customer__email")
    ordering = ("-id",)
    list_per_page = 50

    def lookup_allowed(self, lookup, value, request=None):
        # The customer page links here with its customer's filter.
        return lookup == "customer__id__exact" or super().lookup_allowed(lookup, value, request)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(CsvExportMixin, ReadOnlyAdminMixin, AccountScopedAdminMixin, admin.ModelAdmin):
    """The wallet ledger: append-only, newest first, never edited."""

    list_display = ("created_at", "customer", "kind", "movement", "store")
    list_filter = ("kind", "created_at")
    list_select_related = ("wallet__customer", "store", *LEDGER_SUMMARY_RELATED)
    csv_filename = "ledger"
    csv_select_related = ("wallet__customer", "store", *LEDGER_SUMMARY_RELATED)
    csv_columns = (
        Column(_("id"), lambda entry: entry.pk),
        Column(_("when"), lambda entry: entry.created_at),
        Column(_("customer"), lambda entry: entry.wallet.customer.name),
        Column(_("CPF/CNPJ"), lambda entry: format_document(entry.wallet.customer.document)),
        Column(_("kind"), lambda entry: entry.get_kind_display()),
        Column(_("points"), lambda entry: entry.points),
        Column(_("cashback"), lambda entry: entry.balance),
        Column(_("digital change"), lambda entry: entry.digital_change),
        Column(_("pending points"), lambda entry: entry.pending_points),
        Column(_("pending cashback"), lambda entry: entry.pending_balance),
        Column(_("receipt number"), lambda entry: entry.sale.coupon if entry.sale else ""),
        Column(_("PDV"), lambda entry: entry.sale.pdv if entry.sale else ""),
        Column(_("store"), lambda entry: entry.store.name if entry.store else ""),
        Column(_("origin"), ledger_origin),
        Column(_("reason"), lambda entry: entry.reason),
        Column(_("by"), lambda entry: entry.staff_user.get_username() if entry.staff_user else ""),
    )
    search_fields = ("reason", "wallet__customer__name", "wallet__customer__document")
    ordering = ("-id",)
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description=_("Customer"))
    def customer(self, entry):
        return entry.wallet.customer

    def lookup_allowed(self, lookup, value, request=None):
        # The customer page links here with its ledger filter.
        return lookup == "wallet__customer__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("Movement"))
    def movement(self, entry):
        return ledger_summary(entry)
