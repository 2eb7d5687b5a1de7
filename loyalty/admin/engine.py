"""Reward rules, message templates and the message outbox in the admin."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.utils.html import format_html

from loyalty.backoffice.mixins import ReadOnlyAdminMixin
from loyalty.backoffice.scoping import AccountScopedAdminMixin, scope_queryset
from loyalty.core.vocabulary import PaymentMethod, SaleType, Weekday
from loyalty.engine.models import RewardRule
from loyalty.engine.program import rule_scope_refusals, rule_scope_set
from loyalty.outbox.models import Message, MessageAttempt, MessageTemplate
from loyalty.outbox.services import message_retry, render, sample_context
from loyalty.tenancy.models import Store
from promotions.models import Category


class RewardRuleForm(forms.ModelForm):
    weekdays = forms.TypedMultipleChoiceField(
        choices=Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Local weekdays on which the rule applies. None ticked: every day.",
    )
    sale_types = forms.MultipleChoiceField(
        choices=[(kind, kind) for kind in SaleType.values],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Sale types that earn. None ticked: all (tick CF and NF for fiscal sales only).",
    )
    excluded_payment_methods = forms.TypedMultipleChoiceField(
        choices=PaymentMethod.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The share of a sale paid with these methods earns nothing (digital change by default).",
    )
    # The rule's stores and categories are links that carry the account, set by the engine's
    # service when the rule is saved (`rule_scope_set`); the admin scopes their choices.
    rule_stores = forms.ModelMultipleChoiceField(
        queryset=Store.objects.none(),
        required=False,
        label="Stores",
        widget=FilteredSelectMultiple("stores", is_stacked=False),
        help_text="Empty: every store.",
    )
    rule_categories = forms.ModelMultipleChoiceField(
        queryset=Category.objects.none(),
        required=False,
        label="Categories",
        widget=FilteredSelectMultiple("categories", is_stacked=False),
        help_text="Only items of these categories (children included) are eligible; empty: the whole sale.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["rule_stores"].initial = list(self.instance.stores.all())
            self.fields["rule_categories"].initial = list(self.instance.categories.all())

    def clean(self):
        cleaned = super().clean()
        account = cleaned.get("account") or getattr(self.instance, "account", None)
        if account is not None:
            refused = rule_scope_refusals(
                account_id=account.pk,
                stores=cleaned.get("rule_stores") or (),
                categories=cleaned.get("rule_categories") or (),
            )
            for name, reasons in refused.items():
                self.add_error(f"rule_{name}", reasons)
        return cleaned

    class Meta:
        model = RewardRule
        fields = [
            "account",
            "name",
            "kind",
            "active",
            "value",
            "threshold",
            "maximum_reward",
            "template",
            "starts_at",
            "ends_at",
            "weekdays",
            "excluded_payment_methods",
            "minimum_amount",
            "sale_types",
            "pending_days",
            "valid_days",
        ]


@admin.register(RewardRule)
class RewardRuleAdmin(AccountScopedAdminMixin, admin.ModelAdmin):
    form = RewardRuleForm
    list_display = ("name", "kind", "value", "threshold", "window", "conditions", "active", "account")
    list_filter = ("kind", "active", "account")
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("account", "name", "kind", "active")}),
        (
            "Reward",
            {
                "fields": ("value", "threshold", "maximum_reward", "template"),
                "description": (
                    "Cashback: <b>value</b> percent of the eligible amount. Points: <b>value</b> points per "
                    "R$ 1. Voucher: a voucher worth <b>value</b> when the eligible amount reaches the "
                    "<b>threshold</b>. Message: queues the <b>template</b>."
                ),
            },
        ),
        (
            "Conditions",
            {
                "fields": (
                    "starts_at",
                    "ends_at",
                    "weekdays",
                    "rule_stores",
                    "rule_categories",
                    "excluded_payment_methods",
                    "minimum_amount",
                    "sale_types",
                ),
                "description": (
                    "The eligible amount is the sum of the item totals (or the sale amount when there are "
                    "no items), less the share paid with excluded methods, limited to the chosen "
                    "categories and their children. Rules add up: a second points rule on Saturdays "
                    "doubles the points at weekends."
                ),
            },
        ),
        ("Timing", {"fields": ("pending_days", "valid_days")}),
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        stores = scope_queryset(Store.objects.all(), request)
        categories = scope_queryset(Category.objects.select_related("parent"), request)

        class ScopedRewardRuleForm(form):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, **form_kwargs)
                self.fields["rule_stores"].queryset = stores
                self.fields["rule_categories"].queryset = categories

        return ScopedRewardRuleForm

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        rule_scope_set(
            rule=form.instance,
            stores=form.cleaned_data["rule_stores"],
            categories=form.cleaned_data["rule_categories"],
        )

    @admin.display(description="Window")
    def window(self, rule):
        start = rule.starts_at.date().isoformat() if rule.starts_at else "always"
        end = rule.ends_at.date().isoformat() if rule.ends_at else "open-ended"
        return f"{start} → {end}"

    @admin.display(description="Conditions")
    def conditions(self, rule):
        parts = []
        if rule.weekdays:
            parts.append("days " + ",".join(Weekday(day).label[:3] for day in rule.weekdays))
        if rule.sale_types:
            parts.append("types " + ",".join(rule.sale_types))
        if rule.minimum_amount:
            parts.append(f"min R$ {rule.minimum_amount}")
        return "; ".join(parts) or "—"


@admin.register(MessageTemplate)
class MessageTemplateAdmin(AccountScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "event", "channel", "active", "account")
    list_filter = ("event", "channel", "active", "account")
    search_fields = ("name", "body")
    readonly_fields = ("preview",)
    fields = ("account", "name", "event", "channel", "subject", "body", "active", "preview")

    @admin.display(description="Preview with sample data")
    def preview(self, template):
        if not template.body:
            return "Save the template to see a preview."
        context = sample_context()
        return format_html(
            '<div class="template-preview"><p><strong>{}</strong></p><p style="white-space: pre-wrap">{}</p></div>',
            render(template.subject, context),
            render(template.body, context),
        )


class MessageAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = MessageAttempt
    fields = ("attempted_at", "succeeded", "error")
    readonly_fields = fields
    extra = 0


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, AccountScopedAdminMixin, admin.ModelAdmin):
    """The outbox: what was queued, its deliveries and their errors."""

    list_display = (
        "created_at",
        "event",
        "channel",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    list_filter = ("status", "channel", "event", "account")
    search_fields = ("recipient", "body")
    list_select_related = ("customer",)
    inlines = [MessageAttemptInline]
    actions = ["retry"]
    readonly_fields = (
        "account",
        "customer",
        "template",
        "sale",
        "event",
        "channel",
        "recipient",
        "subject",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
        "created_at",
    )

    def has_retry_permission(self, request):
        return request.user.has_perm("loyalty.change_message")

    @admin.action(description="Retry selected messages now", permissions=["retry"])
    def retry(self, request, queryset):
        retried = [
            message_retry(message=message)
            for message in queryset.filter(status__in=[Message.Status.QUEUED, Message.Status.FAILED])
        ]
        self.message_user(request, f"{len(retried)} message(s) queued again.", messages.SUCCESS)
