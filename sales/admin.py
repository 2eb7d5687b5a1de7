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
class SaleAdmin(SaleReturnAdminMixin, ReadOnlyAdminMixin, AccountScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "occurred_at",
        "__str__",
        "store",
        "customer",
        "amount",
        "cashback",
        "points",
        "status",
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
        "amount",
        "discount_total",
        "cashback",
        "points",
        "messages_queued",
        "vouchers",
        "ledger",
        "status",
        "cancelled_at",
        "created_at",
        "returns",
    )
    fieldsets = (
        (None, {"fields": ("account", "store", "customer", "source", "type", "status", "cancelled_at")}),
        ("Keys", {"fields": ("occurred_at", "local_date", "reference", "pdv", "coupon", "operator")}),
        (
            "Amounts and rewards",
            {
                "fields": (
                    "amount",
                    "discount_total",
                    "cashback",
                    "points",
                    "messages_queued",
                    "vouchers",
                    "ledger",
                )
            },
        ),
        ("Returns", {"fields": ("returns",)}),
        ("Record", {"fields": ("created_at",)}),
    )

    def get_queryset(self, request):
        return with_rewards(super().get_queryset(request), account_id=None)

    @admin.display(description="Cashback", ordering="granted_cashback")
    def cashback(self, sale):
        return round_money(sale.granted_cashback)

    @admin.display(description="Points", ordering="granted_points")
    def points(self, sale):
        return round_points(sale.granted_points)

    @admin.display(description="Messages queued")
    def messages_queued(self, sale):
        return sale.queued_messages

    @admin.display(description="Vouchers issued")
    def vouchers(self, sale):
        rows = [
            (voucher.code, voucher.value, voucher.get_status_display())
            for voucher in sale.vouchers_issued.all()
        ]
        return format_html_join(", ", "{} (R$ {}, {})", rows) or "—"

    @admin.display(description="Ledger rows")
    def ledger(self, sale):
        rows = [
            (
                entry.get_kind_display(),
                ", ".join(f"{name} {value:+}" for name, value in entry.moved().items()),
            )
            for entry in sale.ledger_entries.order_by("id")
        ]
        return format_html_join("", "<div>{}: {}</div>", rows) or "—"

    @admin.display(description="Returns")
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

    @admin.action(description="Cancel selected sales (reverses their rewards)", permissions=["cancel"])
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
            raise Http404("No such sale.")
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("post") == "yes":
            self._cancel(request, [sale])
            return HttpResponseRedirect(reverse("admin:sales_sale_change", args=[sale.pk]))
        return self._cancel_confirmation(request, [sale], from_list=False)

    def _cancel(self, request, sales) -> None:
        outcomes = [sale_cancel(sale=sale) for sale in sales]
        cancelled = sum(not outcome.already_cancelled for outcome in outcomes)
        self.message_user(
            request,
            f"{cancelled} sale(s) cancelled and reversed; {len(outcomes) - cancelled} were already cancelled.",
            messages.SUCCESS,
        )

    def _cancel_confirmation(self, request, sales, *, from_list: bool) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel these sales?" if len(sales) > 1 else "Cancel this sale?",
            "opts": self.model._meta,
            "sales": sales,
            "from_list": from_list,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/sales/sale/cancel_confirmation.html", context)
