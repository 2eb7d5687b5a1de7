"""Rewards (coupons) with their stock history, vouchers and balance redemptions in the admin.

Stock is editable right from the rewards list, but every change goes through
`reward_stock_set`, so the history records who changed it, when, from and to.
"""

from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext

from loyalty.backoffice import numbers
from loyalty.backoffice.history import ChangeHistoryMixin
from loyalty.backoffice.mixins import ReadOnlyAdminMixin
from loyalty.backoffice.scoping import AccountScopedAdminMixin, adopt_saved
from loyalty.core.errors import DomainError
from vouchers.models import BalanceRedemption, Reward, StockChange, Voucher
from vouchers.selectors import vouchers_with_status
from vouchers.services import reward_create, reward_stock_set, voucher_cancel


class StockChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StockChange
    fields = ("created_at", "from_stock", "to_stock", "reason", "staff_user", "credential", "voucher")
    readonly_fields = fields
    extra = 0
    ordering = ("-id",)


@admin.register(Reward)
class RewardAdmin(ChangeHistoryMixin, AccountScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "category",
        numbers.points_column("points_cost", _("points cost")),
        numbers.money_column("value", _("value")),
        "stock",
        "active",
        "starts_at",
        "ends_at",
    )
    list_editable = ("stock",)
    list_filter = ("active", "category", "account")
    search_fields = ("name", "description")
    inlines = [StockChangeInline]
    fields = (
        "account",
        "name",
        "description",
        "category",
        "points_cost",
        "value",
        "stock",
        "starts_at",
        "ends_at",
        "voucher_valid_days",
        "active",
    )

    def save_model(self, request, obj, form, change):
        if not change:
            adopt_saved(
                obj,
                reward_create(
                    staff_user=request.user,
                    **{name: form.cleaned_data[name] for name in self.fields if name in form.cleaned_data},
                ),
            )
            return
        new_stock = obj.stock
        if "stock" in form.changed_data:
            obj.stock = form.initial["stock"]
        super().save_model(request, obj, form, change)
        if "stock" in form.changed_data:
            try:
                # Its own savepoint: a refusal is reported, and the save goes on.
                with transaction.atomic():
                    reward_stock_set(
                        reward=obj, stock=new_stock, reason="Changed in the admin", staff_user=request.user
                    )
            except DomainError as error:
                self.message_user(request, f"{obj}: {error.detail}", messages.ERROR)
            obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        return False


class VoucherStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("active", pgettext("voucher status", "Active")),
            ("used", pgettext("voucher status", "Used")),
            ("expired", pgettext("voucher status", "Expired")),
            ("cancelled", pgettext("voucher status", "Cancelled")),
        ]

    def queryset(self, request, queryset):
        return vouchers_with_status(queryset, self.value(), timezone.now()) if self.value() else queryset


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyAdminMixin, AccountScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "code",
        "customer",
        "reward",
        numbers.money_column("value", _("value")),
        "status",
        "valid_until",
        "used_at",
        "created_at",
    )
    list_filter = (VoucherStatusFilter, "reward", "account")
    search_fields = ("code",)
    list_select_related = ("customer", "reward")
    actions = ["cancel_selected"]
    readonly_fields = (
        "account",
        "customer",
        "reward",
        "code",
        "value",
        "valid_from",
        "valid_until",
        "status",
        "sale",
        "rule",
        "used_at",
        "used_reference",
        "used_store",
        "cancelled_at",
        "created_at",
    )

    def get_search_results(self, request, queryset, search_term):
        # Codes are stored upper-case; staff type them in any case.
        return super().get_search_results(request, queryset, search_term.strip().upper())

    def has_cancel_permission(self, request):
        return request.user.has_perm("vouchers.change_voucher")

    @admin.action(description=_("Cancel selected vouchers"), permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        cancelled = 0
        for voucher in queryset:
            try:
                # Each voucher in its own savepoint: one refusal does not stop the others.
                with transaction.atomic():
                    voucher_cancel(voucher=voucher)
                cancelled += 1
            except DomainError as error:
                self.message_user(request, f"{voucher}: {error.detail}", messages.WARNING)
        self.message_user(
            request,
            ngettext("%(count)d voucher cancelled.", "%(count)d vouchers cancelled.", cancelled)
            % {"count": cancelled},
            messages.SUCCESS,
        )


@admin.register(BalanceRedemption)
class BalanceRedemptionAdmin(ReadOnlyAdminMixin, AccountScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "occurred_at",
        "customer",
        "store",
        numbers.money_column("value", _("cashback")),
        numbers.money_column("digital_change", _("digital change")),
        "reference",
        "status",
    )
    list_filter = ("status", "store", "account")
    search_fields = ("reference", "coupon", "customer__document", "customer__name")
    list_select_related = ("customer", "store")
