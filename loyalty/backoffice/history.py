"""An object's change history on its admin page: who, when, and each field before → after.

For the models whose history is kept (`loyalty.shell.history`). The newest changes come
first; each row compares a version with the one before it, read in the same query.
"""

from datetime import date, datetime
from decimal import Decimal

from django.contrib import admin
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from loyalty.backoffice.numbers import decimal_shown
from loyalty.backoffice.timezones import local_datetime

HISTORY_ROWS = 20


def _shown(field, value) -> str:
    if value is None or value == "":
        return "—"
    if field is not None and field.choices:
        labels = dict(field.flatchoices)
        if isinstance(value, list):
            return ", ".join(str(labels.get(item, item)) for item in value)
        return str(labels.get(value, value))
    if field is not None and field.is_relation:
        return f"#{value}"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, datetime):
        return local_datetime(value)
    if isinstance(value, date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, Decimal):
        return decimal_shown(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    return str(value)


def change_rows(obj) -> list[tuple[str, str, str]]:
    """(when, who, what changed) of the object's latest versions, newest first."""
    versions = list(
        obj.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : HISTORY_ROWS + 1
        ]
    )
    rows = []
    for index, version in enumerate(versions[:HISTORY_ROWS]):
        who = version.history_user.get_username() if version.history_user else gettext("API or system")
        older = versions[index + 1] if index + 1 < len(versions) else None
        if version.history_type == "+" or older is None:
            what = gettext("Created")
        elif version.history_type == "-":
            what = gettext("Deleted")
        else:
            changes = []
            for change in version.diff_against(older).changes:
                field = obj._meta.get_field(change.field)
                changes.append(
                    f"{field.verbose_name}: {_shown(field, change.old)} → {_shown(field, change.new)}"
                )
            what = "; ".join(changes) or gettext("Saved without changes")
        rows.append((local_datetime(version.history_date), who, what))
    return rows


class ChangeHistoryMixin:
    """Adds the history table to the change page, in its own section at the end."""

    history_fieldset_title = _("Change history")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return [*fields, "change_history"] if obj is not None else fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))  # type: ignore[misc]
        if obj is None:
            return fieldsets
        fieldsets = [
            (title, {**options, "fields": [name for name in options["fields"] if name != "change_history"]})
            for title, options in fieldsets
        ]
        return [
            *fieldsets,
            (self.history_fieldset_title, {"fields": ["change_history"]}),
        ]

    @admin.display(description=_("Changes"))
    def change_history(self, obj):
        rows = change_rows(obj)
        return format_html(
            '<table class="change-history"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            gettext("When"),
            gettext("Who"),
            gettext("What changed"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )
