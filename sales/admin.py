"""Sales in the admin: read-only, with items, payments and rewards, and a cancel action."""

from django.contrib import admin, messages
from django.utils.html import format_html_join

from loyalty.backoffice.mixins import ReadOnlyAdminMixin
from loyalty.backoffice.scoping import AccountScopedAdminMixin
from loyalty.core.money import round_money, round_points
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
class SaleAdmin(ReadOnlyAdminMixin, AccountScopedAdminMixin, admin.ModelAdmin):
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

    def has_cancel_permission(self, request):
        return request.user.has_perm("sales.cancel_sale")

    @admin.action(description="Cancel selected sales (reverses their rewards)", permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        outcomes = [sale_cancel(sale=sale) for sale in queryset]
        cancelled = sum(not outcome.already_cancelled for outcome in outcomes)
        self.message_user(
            request,
            f"{cancelled} sale(s) cancelled and reversed; {len(outcomes) - cancelled} were already cancelled.",
            messages.SUCCESS,
        )
