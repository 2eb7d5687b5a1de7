"""Admin behaviours shared by the product's model admins."""

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ReadOnlyAdminMixin:
    """For records that only services write (sales, the outbox, vouchers, redemptions):
    staff read them and act on them through admin actions, never through a form."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ActivationActionsMixin:
    """Activate / deactivate actions that go through the model's own service."""

    def set_active(self, obj, active: bool) -> None:
        raise NotImplementedError

    def _switch(self, request, queryset, active: bool) -> None:
        for obj in queryset:
            self.set_active(obj, active)
        done = (
            gettext("%(count)d %(items)s activated.")
            if active
            else gettext("%(count)d %(items)s deactivated; refused from now on.")
        )
        self.message_user(
            request,
            done % {"count": queryset.count(), "items": self.model._meta.verbose_name_plural},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Deactivate selected %(verbose_name_plural)s (refused at once)"), permissions=["change"]
    )
    def deactivate(self, request, queryset):
        self._switch(request, queryset, active=False)

    @admin.action(description=_("Activate selected %(verbose_name_plural)s"), permissions=["change"])
    def activate(self, request, queryset):
        self._switch(request, queryset, active=True)
