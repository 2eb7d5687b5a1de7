"""Sales in the admin: read-only, with items, payments, rewards and returns; a cancel — from the
list or from a sale's page — that asks first on a page saying what will be reversed; and a
return form (`sales.admin_returns`)."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from customers.display import ledger_amounts
from customers.documents import format_document
from loyalty.backoffice import numbers
from loyalty.backoffice.exports import Column, CsvExportMixin
from loyalty.backoffice.mixins import ReadOnlyAdminMixin
from loyalty.backoffice.scoping import AccountScopedAdminMixin
from loyalty.core.money import round_money, round_points
from sales.admin_returns import SaleReturnAdminMixin, returns_table
from sales.models import Sale, SaleItem, SalePayment
from sales.selectors import with_rewards
from sales.services import sale_cancel


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0


class SaleItemInline(ReadOnlyInline):
    model = SaleItem
    fields = (
        "position",
        "barcode",
        "name",
        "category",
        "unit_value",
        "quantity",
        "discount",
        "total",
        "promotion",
    )
    readonly_fields = fields


class SalePaymentInline(ReadOnlyInline):
    model = SalePayment
    fields = ("position", "method", "total", "digital_change", "splits", "paid_at")
    readonly_fields = fields


@admin.register(Sale)
class SaleAdmin(
    CsvExportMixin, SaleReturnAdminMixin, ReadOnlyAdminMixin, AccountScopedAdminMixin, admin.ModelAdmin
):
    list_display = (
        "occurred_at",
        "__str__",
        "store",
        "customer",
        "sale_amount",
        "cashback",
        "points",
        "status",
    )
    csv_filename = "sales"
    csv_select_related = ("store", "customer", "cancelled_by")
    csv_columns = (
        Column(_("id"), lambda sale: sale.pk),
        Column(_("occurred at"), lambda sale: sale.occurred_at),
        Column(_("store"), lambda sale: sale.store.name if sale.store else ""),
        Column(_("type"), lambda sale: sale.type),
        Column(_("PDV"), lambda sale: sale.pdv),
        Column(_("receipt number"), lambda sale: sale.coupon),
        Column(_("reference"), lambda sale: sale.reference),
        Column(_("customer"), lambda sale: sale.customer.name if sale.customer else ""),
        Column(_("CPF/CNPJ"), lambda sale: format_document(sale.customer.document) if sale.customer else ""),
        Column(_("amount"), lambda sale: sale.amount),
        Column(_("total discount"), lambda sale: sale.discount_total),
        Column(_("cashback"), lambda sale: round_money(sale.granted_cashback)),
        Column(_("points"), lambda sale: round_points(sale.granted_points)),
        Column(_("status"), lambda sale: sale.get_status_display()),
        Column(_("cancelled at"), lambda sale: sale.cancelled_at),
        Column(_("cancelled by"), lambda sale: sale.cancelled_by.get_username() if sale.cancelled_by else ""),
    )
    list_filter = ("status", "type", "source", "store", "local_date")
    search_fields = ("reference", "coupon", "pdv", "customer__document", "customer__name")
    list_select_related = ("store", "customer")
    date_hierarchy = "occurred_at"
    inlines = [SaleItemInline, SalePaymentInline]
    change_form_template = "admin/sales/sale/change_form.html"
    actions = ["cancel_selected"]
    readonly_fields = (
        "account",
        "store",
        "customer",
        "source",
        "type",
        "occurred_at",
        "local_date",
        "reference",
        "pdv",
        "coupon",
        "operator",
        "sale_amount",
        "discount_shown",
        "cashback",
        "points",
        "messages_queued",
        "vouchers",
        "ledger",
        "status",
        "cancelled_at",
        "cancelled_by_whom",
        "created_at",
        "returns",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "account",
                    "store",
                    "customer",
                    "source",
                    "type",
                    "status",
                    "cancelled_at",
                    "cancelled_by_whom",
                )
            },
        ),
        (_("Keys"), {"fields": ("occurred_at", "local_date", "reference", "pdv", "coupon", "operator")}),
        (
            _("Amounts and rewards"),
            {
                "fields": (
                    "sale_amount",
                    "discount_shown",
                    "cashback",
                    "points",
                    "messages_queued",
                    "vouchers",
                    "ledger",
                )
            },
        ),
        (_("Returns"), {"fields": ("returns",)}),
        (_("Record"), {"fields": ("created_at",)}),
    )

    def get_queryset(self, request):
        return with_rewards(super().get_queryset(request), account_id=None)

    @admin.display(description=_("amount"), ordering="amount")
    def sale_amount(self, sale):
        return numbers.money(sale.amount)

    @admin.display(description=_("total discount"))
    def discount_shown(self, sale):
        return numbers.money(sale.discount_total)

    @admin.display(description=_("Cashback"), ordering="granted_cashback")
    def cashback(self, sale):
        return numbers.money(round_money(sale.granted_cashback))

    @admin.display(description=_("Points"), ordering="granted_points")
    def points(self, sale):
        return numbers.points(round_points(sale.granted_points))

    @admin.display(description=_("cancelled by"))
    def cancelled_by_whom(self, sale):
        if sale.status != Sale.Status.CANCELLED:
            return "—"
        if sale.cancelled_by is not None:
            return sale.cancelled_by.get_username()
        return gettext("a POS or the API")

    @admin.display(description=_("Messages queued"))
    def messages_queued(self, sale):
        return sale.queued_messages

    @admin.display(description=_("Vouchers issued"))
    def vouchers(self, sale):
        rows = [
            (voucher.code, numbers.money(voucher.value), voucher.get_status_display())
            for voucher in sale.vouchers_issued.all()
        ]
        return format_html_join(", ", "{} ({}, {})", rows) or "—"

    @admin.display(description=_("Ledger rows"))
    def ledger(self, sale):
        rows = [
            (entry.get_kind_display(), ledger_amounts(entry)) for entry in sale.ledger_entries.order_by("id")
        ]
        return format_html_join("", "<div>{}: {}</div>", rows) or "—"

    @admin.display(description=_("Returns"))
    def returns(self, sale):
        return returns_table(sale)

    def get_urls(self):
        cancel = path(
            "<int:object_id>/cancel/",
            self.admin_site.admin_view(self.cancel_view),
            name="sales_sale_cancel",
        )
        return [cancel, *self.return_urls(), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        sale = self.get_object(request, unquote(object_id))
        context = {
            "return_url": self.return_url(request, sale) if sale is not None else None,
            "cancel_url": (
                reverse("admin:sales_sale_cancel", args=[sale.pk])
                if sale is not None
                and sale.status == Sale.Status.RECORDED
                and self.has_cancel_permission(request)
                else None
            ),
        }
        return super().change_view(
            request, object_id, form_url, extra_context={**context, **(extra_context or {})}
        )

    def has_cancel_permission(self, request):
        return request.user.has_perm("sales.cancel_sale")

    @admin.action(description=_("Cancel selected sales (reverses their rewards)"), permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        """Asks first, on a page saying what will be reversed; only "Yes" cancels."""
        sales = list(queryset.select_related("store", "customer"))
        if request.POST.get("post") != "yes":
            return self._cancel_confirmation(request, sales, from_list=True)
        self._cancel(request, sales)
        return None

    def cancel_view(self, request, object_id: int):
        """One sale's cancel, from its page: the same confirmation, then back to the sale."""
        sale = self.get_object(request, str(object_id))
        if sale is None:
            raise Http404(gettext("No such sale."))
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("post") == "yes":
            self._cancel(request, [sale])
            return HttpResponseRedirect(reverse("admin:sales_sale_change", args=[sale.pk]))
        return self._cancel_confirmation(request, [sale], from_list=False)

    def _cancel(self, request, sales) -> None:
        outcomes = [sale_cancel(sale=sale, staff_user=request.user) for sale in sales]
        cancelled = sum(not outcome.already_cancelled for outcome in outcomes)
        already = len(outcomes) - cancelled
        done = ngettext(
            "%(count)d sale cancelled and reversed", "%(count)d sales cancelled and reversed", cancelled
        ) % {"count": cancelled}
        before = ngettext(
            "%(count)d was already cancelled.", "%(count)d were already cancelled.", already
        ) % {"count": already}
        self.message_user(request, f"{done}; {before}", messages.SUCCESS)

    def _cancel_confirmation(self, request, sales, *, from_list: bool) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Cancel these sales?") if len(sales) > 1 else gettext("Cancel this sale?"),
            "opts": self.model._meta,
            "sales": sales,
            "from_list": from_list,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/sales/sale/cancel_confirmation.html", context)
