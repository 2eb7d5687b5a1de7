"""Reward rules, message templates and the message outbox in the admin."""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.utils.html import format_html, json_script
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from loyalty.admin.simulations import RuleSimulationAdminMixin
from loyalty.backoffice import numbers
from loyalty.backoffice.history import ChangeHistoryMixin
from loyalty.backoffice.mixins import ReadOnlyAdminMixin
from loyalty.backoffice.scoping import AccountScopedAdminMixin, scope_queryset
from loyalty.backoffice.timezones import local_datetime
from loyalty.core.vocabulary import PaymentMethod, SaleType, Weekday
from loyalty.engine.models import KIND_ONLY_FIELDS, RewardRule
from loyalty.engine.program import rule_has_grants, rule_scope_refusals, rule_scope_set, rule_update
from loyalty.outbox.models import Message, MessageAttempt, MessageTemplate
from loyalty.outbox.services import message_retry, render, sample_context
from loyalty.tenancy.models import Store
from promotions.models import Category

_EARNING = [RewardRule.Kind.CASHBACK, RewardRule.Kind.POINTS]
_GRANTING = [*_EARNING, RewardRule.Kind.VOUCHER]
#: The fields only some kinds use: the form shows each one for its kinds only. The model's
#: validation refuses the kind-only ones for any other kind, whatever the page showed.
FIELDS_OF_KIND = {
    "value": _GRANTING,
    "threshold": [RewardRule.Kind.VOUCHER],
    "reward": [RewardRule.Kind.VOUCHER],
    "maximum_reward": _EARNING,
    "template": [RewardRule.Kind.MESSAGE],
    "pending_days": _GRANTING,
    "valid_days": _GRANTING,
}


class RewardRuleForm(forms.ModelForm):
    weekdays = forms.TypedMultipleChoiceField(
        choices=Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Local weekdays on which the rule applies. None ticked: every day."),
    )
    sale_types = forms.MultipleChoiceField(
        choices=[(kind, kind) for kind in SaleType.values],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Sale types that earn. None ticked: all (tick CF and NF for fiscal sales only)."),
    )
    excluded_payment_methods = forms.TypedMultipleChoiceField(
        choices=PaymentMethod.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The share of a sale paid with these methods earns nothing (digital change by default)."),
    )
    # The rule's stores and categories are links that carry the account, set by the engine's
    # service when the rule is saved (`rule_scope_set`); the admin scopes their choices.
    rule_stores = forms.ModelMultipleChoiceField(
        queryset=Store.objects.none(),
        required=False,
        label=_("Stores"),
        widget=FilteredSelectMultiple(_("stores"), is_stacked=False),
        help_text=_("Empty: every store."),
    )
    rule_categories = forms.ModelMultipleChoiceField(
        queryset=Category.objects.none(),
        required=False,
        label=_("Categories"),
        widget=FilteredSelectMultiple(_("categories"), is_stacked=False),
        help_text=_(
            "Only items of these categories (children included) are eligible; empty: the whole sale."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The page shows only the chosen kind's fields (loyalty/admin/rule_form.js).
        self.fields["kind"].widget.attrs["data-fields-of-kind"] = json.dumps(FIELDS_OF_KIND)
        if self.instance.pk:
            self.fields["rule_stores"].initial = list(self.instance.stores.all())
            self.fields["rule_categories"].initial = list(self.instance.categories.all())

    def clean(self):
        cleaned = super().clean()
        # A field the page hid for this kind (a voucher's threshold after switching to
        # cashback) is dropped, not refused: the staff user could not see what to correct.
        kind = cleaned.get("kind")
        for name in KIND_ONLY_FIELDS:
            if kind and kind not in FIELDS_OF_KIND[name]:
                cleaned[name] = None
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
            "reward",
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
class RewardRuleAdmin(
    RuleSimulationAdminMixin, ChangeHistoryMixin, AccountScopedAdminMixin, admin.ModelAdmin
):
    form = RewardRuleForm
    list_display = ("name", "kind", "reward_shown", "window", "conditions", "active", "account")
    list_filter = ("kind", "active", "account")
    search_fields = ("name",)
    actions = ["retire_selected"]

    class Media:
        js = ("loyalty/admin/rule_form.js",)

    def get_actions(self, request):
        # Rules are retired, never deleted: what they granted keeps pointing at them.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        # Only a rule that never granted anything can go; the others are retired.
        if obj is None or not super().has_delete_permission(request, obj):
            return False
        return not rule_has_grants(rule=obj)

    @admin.action(
        description=_("Retire selected rules (they stop granting; history stays)"), permissions=["change"]
    )
    def retire_selected(self, request, queryset):
        retired = 0
        for rule in queryset.filter(active=True):
            rule_update(rule=rule, active=False)
            retired += 1
        self.message_user(
            request,
            ngettext("%(count)d rule retired.", "%(count)d rules retired.", retired) % {"count": retired},
            messages.SUCCESS,
        )

    @admin.display(description=_("Reward"), ordering="value")
    def reward_shown(self, rule):
        if rule.kind == RewardRule.Kind.CASHBACK:
            return gettext("%(percent)s of the eligible amount") % {"percent": numbers.percent(rule.value)}
        if rule.kind == RewardRule.Kind.POINTS:
            return gettext("%(points)s points per R$ 1") % {"points": numbers.points(rule.value)}
        if rule.kind == RewardRule.Kind.VOUCHER:
            return gettext("voucher of %(value)s from %(threshold)s") % {
                "value": numbers.money(rule.value),
                "threshold": numbers.money(rule.threshold or 0),
            }
        return gettext("message")

    fieldsets = (
        (None, {"fields": ("account", "name", "kind", "active")}),
        (
            _("Reward"),
            {
                "fields": ("value", "threshold", "reward", "maximum_reward", "template"),
                "description": _(
                    "Cashback: <b>value</b> percent of the eligible amount. Points: <b>value</b> points per "
                    "R$ 1. Voucher: a voucher worth <b>value</b> when the eligible amount reaches the "
                    "<b>threshold</b>. Message: queues the <b>template</b>."
                ),
            },
        ),
        (
            _("Conditions"),
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
                "description": _(
                    "The eligible amount is the sum of the item totals (or the sale amount when there are "
                    "no items), less the share paid with excluded methods, limited to the chosen "
                    "categories and their children. Rules add up: a second points rule on Saturdays "
                    "doubles the points at weekends."
                ),
            },
        ),
        (_("Timing"), {"fields": ("pending_days", "valid_days")}),
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

    @admin.display(description=_("Window"))
    def window(self, rule):
        start = local_datetime(rule.starts_at) if rule.starts_at else gettext("always")
        end = local_datetime(rule.ends_at) if rule.ends_at else gettext("open-ended")
        return f"{start} → {end}"

    @admin.display(description=_("Conditions"))
    def conditions(self, rule):
        parts = []
        if rule.weekdays:
            days = ",".join(str(Weekday(day).label)[:3] for day in rule.weekdays)
            parts.append(gettext("days %(days)s") % {"days": days})
        if rule.sale_types:
            parts.append(gettext("types %(types)s") % {"types": ",".join(rule.sale_types)})
        if rule.minimum_amount:
            parts.append(gettext("min %(amount)s") % {"amount": numbers.money(rule.minimum_amount)})
        return "; ".join(parts) or "—"


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ChangeHistoryMixin, AccountScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "event", "channel", "purpose", "active", "account")
    list_filter = ("event", "channel", "purpose", "active", "account")
    search_fields = ("name", "body")
    readonly_fields = ("preview",)
    fields = ("account", "name", "event", "channel", "purpose", "subject", "body", "active", "preview")

    class Media:
        js = ("loyalty/admin/template_preview.js",)

    @admin.display(description=_("Preview with sample data"))
    def preview(self, template):
        """Rendered here as saved; redrawn by the page's script while the text is typed."""
        context = sample_context()
        config = {
            "sample": context,
            "unknownLabel": gettext("Unknown placeholders:"),
            "validLabel": gettext("Valid ones:"),
        }
        return format_html(
            '<div id="template-live-preview" class="template-preview" aria-live="polite">'
            '<p class="preview-subject"><strong>{}</strong></p>'
            '<p class="preview-body" style="white-space: pre-wrap">{}</p>'
            '<p class="preview-errors errornote" style="display: none"></p></div>{}',
            render(template.subject or "", context),
            render(template.body or "", context),
            json_script(config, "template-preview-config"),
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

    @admin.action(description=_("Retry selected messages now"), permissions=["retry"])
    def retry(self, request, queryset):
        retried = [
            message_retry(message=message)
            for message in queryset.filter(status__in=[Message.Status.QUEUED, Message.Status.FAILED])
        ]
        self.message_user(
            request,
            ngettext("%(count)d message queued again.", "%(count)d messages queued again.", len(retried))
            % {"count": len(retried)},
            messages.SUCCESS,
        )
