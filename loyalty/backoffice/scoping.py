"""Scoping of the admin to the staff user's merchant accounts.

Every admin of the product mixes in `AccountScopedAdminMixin`. A staff user then sees
and edits only their accounts' objects; foreign-key choices, list filters and
autocompletes are limited the same way; a new object gets the user's account (a choice
when they have several). A superuser sees everything.
"""

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from loyalty.backoffice.numbers import LocalNumbersAdminMixin
from loyalty.tenancy.models import Account

_CACHE_ATTRIBUTE = "_loyalty_account_ids"


def user_account_ids(request: HttpRequest) -> list[int] | None:
    """The ids of the accounts the user may see; None means all (superuser)."""
    user = request.user
    if user.is_superuser:
        return None
    cached = getattr(request, _CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = list(user.memberships.values_list("account_id", flat=True)) if user.is_authenticated else []
        setattr(request, _CACHE_ATTRIBUTE, cached)
    return cached


def remember_account_ids(request: HttpRequest, account_ids: list[int]) -> None:
    """Keep the user's account ids, read elsewhere in the request, for `user_account_ids`."""
    setattr(request, _CACHE_ATTRIBUTE, account_ids)


def account_lookup(model: type[models.Model]) -> str | None:
    """The ORM path from a model to its account: its own `account` (every tenant-owned model has
    one), or None for a model outside the tenancy."""
    if model is Account:
        return "pk"
    try:
        field = model._meta.get_field("account")
    except Exception:  # noqa: BLE001 - a model without an account field is simply unscoped
        return None
    return "account" if getattr(field, "related_model", None) is Account else None


def scope_queryset(queryset: models.QuerySet, request: HttpRequest) -> models.QuerySet:
    account_ids = user_account_ids(request)
    if account_ids is None:
        return queryset
    lookup = account_lookup(queryset.model)
    if lookup is None:
        return queryset
    return queryset.filter(**{f"{lookup}__in": account_ids})


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A foreign-key filter offering only the user's accounts' objects."""

    def field_choices(self, field, request, model_admin):
        related = field.related_model
        queryset = scope_queryset(related._default_manager.all(), request)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in queryset]


def adopt_saved(target: models.Model, saved: models.Model) -> None:
    """Make the admin's unsaved instance the object a service created."""
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


class AccountScopedAdminMixin(LocalNumbersAdminMixin):
    """Limits an admin to the objects of the staff user's accounts (and, as every product
    admin has it, reads and shows its decimals the local way)."""

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request)

    def _scoped_related_queryset(self, db_field, request):
        queryset = self.get_field_queryset(None, db_field, request)
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.all()
        return scope_queryset(queryset, request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = self._scoped_related_queryset(db_field, request)
        if db_field.related_model is Account and db_field.name == "account":
            account_ids = user_account_ids(request)
            if account_ids is not None and len(account_ids) == 1:
                kwargs["initial"] = account_ids[0]
                kwargs["disabled"] = True
                kwargs["help_text"] = _("Your merchant account.")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = self._scoped_related_queryset(db_field, request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request):
        scoped = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and "__" not in entry:
                field = self.model._meta.get_field(entry)
                if field.is_relation and field.many_to_one:
                    entry = (entry, ScopedRelatedFieldListFilter)
            scoped.append(entry)
        return scoped

    def has_module_permission(self, request):
        if not request.user.is_superuser and not user_account_ids(request):
            return False
        return super().has_module_permission(request)
