"""Products, the category tree and promotions in the admin.

Promotions show a computed status (scheduled, active, expired, disabled) and their
unreleased uses; staff pick the product by autocomplete and switch promotions on and off in
bulk. Every write goes through `promotions.services`.
"""

from dataclasses import fields

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from loyalty.backoffice import numbers
from loyalty.backoffice.history import ChangeHistoryMixin
from loyalty.backoffice.scoping import AccountScopedAdminMixin, adopt_saved, scope_queryset
from loyalty.backoffice.timezones import local_datetime
from promotions.models import Category, Product, Promotion
from promotions.selectors import (
    PromotionStatus,
    category_find,
    product_count_subquery,
    promotion_status,
    promotion_status_condition,
)
from promotions.services import (
    PromotionTerms,
    category_create,
    promotion_create,
    promotion_disable,
    promotion_set_active,
    promotion_update,
)

TOP_LEVEL = "none"


def _account_of(form: forms.ModelForm):
    return form.cleaned_data.get("account") or getattr(form.instance, "account", None)


class CategoryTreeFilter(admin.SimpleListFilter):
    """The user's categories, shown as paths; matches the category or the subcategory."""

    title = _("category")
    parameter_name = "category"
    paths: tuple[str, ...] = ("category", "subcategory")

    def lookups(self, request, model_admin):
        categories = scope_queryset(Category.objects.select_related("parent"), request)
        return sorted(((category.pk, str(category)) for category in categories), key=lambda choice: choice[1])

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        condition = Q()
        for path in self.paths:
            condition |= Q(**{f"{path}_id": int(value)})
        return queryset.filter(condition)


class PromotionCategoryFilter(CategoryTreeFilter):
    paths = ("product__category", "product__subcategory")


class ParentCategoryFilter(admin.SimpleListFilter):
    title = _("parent category")
    parameter_name = "parent"

    def lookups(self, request, model_admin):
        roots = scope_queryset(Category.objects.filter(parent__isnull=True), request).order_by("name", "id")
        return [(TOP_LEVEL, gettext("Top level")), *((root.pk, root.name) for root in roots)]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == TOP_LEVEL:
            return queryset.filter(parent__isnull=True)
        return queryset.filter(parent_id=value) if value.isdigit() else queryset.none()


class PromotionStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return PromotionStatus.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value not in PromotionStatus.values:
            return queryset
        return queryset.filter(promotion_status_condition(PromotionStatus(value), at=timezone.now()))


# --- categories -----------------------------------------------------------------------


class NameLengthMixin:
    """Names of categories and products are 3 to 100 characters, as in the POS API."""

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not 3 <= len(name) <= 100:
            raise forms.ValidationError(gettext("The name must be 3 to 100 characters long."))
        return name


class CategoryAdminForm(NameLengthMixin, forms.ModelForm):
    class Meta:
        model = Category
        fields = ["account", "name", "parent"]

    def clean(self):
        cleaned = super().clean()
        account, name, parent = _account_of(self), cleaned.get("name"), cleaned.get("parent")
        if parent is not None and account is not None and parent.account_id != account.pk:
            self.add_error("parent", gettext("The parent must be a category of the same account."))
        elif parent is not None and (parent.parent_id is not None or parent.pk == self.instance.pk):
            self.add_error("parent", gettext("Choose a top-level category: the tree has two levels."))
        elif account is not None and name:
            existing = category_find(account=account, name=name, parent=parent)
            if existing is not None and existing.pk != self.instance.pk:
                self.add_error(
                    "name",
                    gettext("This parent already has a category of that name (id %(id)s).")
                    % {"id": existing.pk},
                )
        return cleaned


@admin.register(Category)
class CategoryAdmin(AccountScopedAdminMixin, admin.ModelAdmin):
    form = CategoryAdminForm
    list_display = ("path", "parent", "product_count", "account", "created_at")
    list_filter = (ParentCategoryFilter, "account")
    list_select_related = ("parent", "account")
    search_fields = ("name", "parent__name")
    readonly_fields = ("product_count", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=product_count_subquery(account_id=None))

    @admin.display(description=_("Category"), ordering="name")
    def path(self, category):
        return str(category)

    @admin.display(description=_("Products"), ordering="product_count")
    def product_count(self, category):
        return getattr(category, "product_count", 0)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = scope_queryset(Category.objects.filter(parent__isnull=True), request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "account"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        adopt_saved(
            obj, category_create(account=data["account"], name=data["name"], parent=data.get("parent"))
        )


# --- products ---------------------------------------------------------------------------


class ProductAdminForm(NameLengthMixin, forms.ModelForm):
    class Meta:
        model = Product
        fields = ["account", "barcode", "name", "unit", "category", "subcategory", "price", "active"]

    def clean(self):
        cleaned = super().clean()
        account, category, subcategory = (
            _account_of(self),
            cleaned.get("category"),
            cleaned.get("subcategory"),
        )
        if account is not None:
            for name in ("category", "subcategory"):
                chosen = cleaned.get(name)
                if chosen is not None and chosen.account_id != account.pk:
                    self.add_error(name, gettext("Choose a category of the product's account."))
        if subcategory is not None and subcategory.parent_id != getattr(category, "pk", None):
            self.add_error("subcategory", gettext("Choose a subcategory of the chosen category."))
        return cleaned


@admin.register(Product)
class ProductAdmin(AccountScopedAdminMixin, admin.ModelAdmin):
    form = ProductAdminForm
    list_display = (
        "name",
        "barcode",
        "unit",
        "category",
        "subcategory",
        numbers.money_column("price", _("price")),
        "active",
        "updated_at",
    )
    list_filter = ("active", CategoryTreeFilter, "unit", "account")
    list_select_related = ("category", "subcategory")
    search_fields = ("barcode", "name")
    search_help_text = _("Barcode or name.")
    readonly_fields = ("created_at", "updated_at")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in ("category", "subcategory"):
            is_root = db_field.name == "category"
            kwargs["queryset"] = scope_queryset(
                Category.objects.filter(parent__isnull=is_root).select_related("parent"), request
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "account"] if obj is not None else fields


# --- promotions -------------------------------------------------------------------------

PROMOTION_TERMS = [field.name for field in fields(PromotionTerms)]


class PromotionAdminForm(forms.ModelForm):
    class Meta:
        model = Promotion
        fields = ["account", *PROMOTION_TERMS]

    def clean_percent_off(self):
        value = self.cleaned_data["percent_off"]
        if value is not None and not 0 < value <= 100:
            raise forms.ValidationError(gettext("Must be more than 0 and at most 100."))
        return value

    def clean(self):
        cleaned = super().clean()
        account, product = _account_of(self), cleaned.get("product")
        if account is not None and product is not None and product.account_id != account.pk:
            self.add_error("product", gettext("Choose a product of the promotion's account."))
        starts_at, expires_at = cleaned.get("starts_at"), cleaned.get("expires_at")
        if starts_at and expires_at and expires_at <= starts_at:
            self.add_error(
                "expires_at", gettext("Must be after the start, or empty for an open-ended promotion.")
            )
        return cleaned


@admin.register(Promotion)
class PromotionAdmin(ChangeHistoryMixin, AccountScopedAdminMixin, admin.ModelAdmin):
    form = PromotionAdminForm
    list_display = ("product", "barcode", "discount", "window", "status", "use_count", "account")
    list_filter = (PromotionStatusFilter, PromotionCategoryFilter, "account")
    list_select_related = ("product", "account")
    search_fields = ("product__barcode", "product__name")
    search_help_text = _("Barcode or product name.")
    autocomplete_fields = ("product",)
    readonly_fields = ("status", "use_count", "disabled_at", "created_at", "updated_at")
    actions = ["activate_selected", "disable_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(live_uses=Count("uses", filter=Q(uses__released=False)))

    @admin.display(description=_("Barcode"), ordering="product__barcode")
    def barcode(self, promotion):
        return promotion.product.barcode

    @admin.display(description=_("percent off"), ordering="percent_off")
    def discount(self, promotion):
        return numbers.percent(promotion.percent_off)

    @admin.display(description=_("Window"))
    def window(self, promotion):
        start = local_datetime(promotion.starts_at)
        if promotion.expires_at is None:
            return gettext("from %(start)s") % {"start": start}
        end = local_datetime(promotion.expires_at)
        return f"{start} – {end}"

    @admin.display(description=_("Status"))
    def status(self, promotion):
        if promotion.pk is None:
            return "—"
        return PromotionStatus(promotion_status(promotion, at=timezone.now())).label

    # Not named `uses`: the admin would take the reverse relation of that name for the column.
    @admin.display(description=_("Uses"), ordering="live_uses")
    def use_count(self, promotion):
        return getattr(promotion, "live_uses", 0)

    def has_delete_permission(self, request, obj=None):
        # Purchases keep the promotions they used: withdraw with the "disable" action instead.
        return False

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "account"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        terms = PromotionTerms(**{name: form.cleaned_data[name] for name in PROMOTION_TERMS})
        if change:
            promotion_update(promotion=obj, terms=terms)
        else:
            adopt_saved(obj, promotion_create(account=form.cleaned_data["account"], terms=terms))

    @admin.action(
        description=_("Activate selected promotions (withdrawn ones come back)"), permissions=["change"]
    )
    def activate_selected(self, request, queryset):
        for promotion in queryset:
            promotion_set_active(promotion=promotion, active=True)
        count = len(queryset)
        self.message_user(
            request,
            ngettext("%(count)d promotion activated.", "%(count)d promotions activated.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Disable selected promotions (they leave the tills' lists and quotes)"),
        permissions=["change"],
    )
    def disable_selected(self, request, queryset):
        for promotion in queryset:
            promotion_disable(promotion=promotion)
        count = len(queryset)
        self.message_user(
            request,
            ngettext("%(count)d promotion disabled.", "%(count)d promotions disabled.", count)
            % {"count": count},
            messages.SUCCESS,
        )
