"""CSV downloads of the admin's lists, streamed.

A list's export is the list as the staff user sees it — same filters, same search, same
account scope — written row by row while the database hands rows over in chunks, so an
account of millions of ledger rows downloads in constant memory. Cells are for a
spreadsheet: UTF-8 with a byte-order mark (Excel reads the accents), dates and times in the
account's local time, money and points as plain decimals with a point (`1234.50`), and text
that could be read as a formula disarmed with a leading apostrophe.
"""

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone

CHUNK_SIZE = 2000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write hands the line back, for csv.writer to stream through."""

    def write(self, value: str) -> str:
        return value


def cell(value: Any, zone: tzinfo) -> str:
    """One value as a spreadsheet cell; times in `zone`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return timezone.localtime(value, zone).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | int):
        return str(value)
    text = str(value)
    return f"'{text}" if text[:1] in _FORMULA_STARTS else text


def csv_lines(header: Iterable[Any], rows: Iterable[Iterable[Any]], zone: tzinfo) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([str(title) for title in header])
    for row in rows:
        yield writer.writerow([cell(value, zone) for value in row])


def streamed_csv_response(*, filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]):
    """The rows are read while the response is sent, after the view has returned: the headers
    are translated and the time zone is taken now, in the request's language and zone."""
    header = [str(title) for title in header]
    zone = timezone.get_current_timezone()
    response = StreamingHttpResponse(csv_lines(header, rows, zone), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@dataclass(frozen=True)
class Column:
    """A column of an export: its header and how to read it off one object of the list."""

    title: Any
    value: Callable[[Any], Any]


class CsvExportMixin:
    """An *Export CSV* button on a changelist, downloading the rows the list shows.

    The admin names its `csv_columns`, and in `csv_select_related` / `csv_prefetch_related`
    what they read, so that the export costs a query or two per chunk, never one per row.
    """

    csv_columns: tuple[Column, ...] = ()
    csv_select_related: tuple[str, ...] = ()
    csv_prefetch_related: tuple[str, ...] = ()
    csv_filename = "export"
    change_list_template = "admin/csv_export_change_list.html"

    def get_urls(self):
        opts = self.model._meta  # type: ignore[attr-defined]
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_csv_view),  # type: ignore[attr-defined]
            name=f"{opts.app_label}_{opts.model_name}_export",
        )
        return [export, *super().get_urls()]  # type: ignore[misc]

    def changelist_view(self, request, extra_context=None):
        opts = self.model._meta  # type: ignore[attr-defined]
        query = request.GET.urlencode()
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_export")
        extra_context = {**(extra_context or {}), "csv_export_url": f"{url}?{query}" if query else url}
        return super().changelist_view(request, extra_context)  # type: ignore[misc]

    def export_rows(self, queryset: models.QuerySet) -> Iterator[list[Any]]:
        if self.csv_select_related:
            queryset = queryset.select_related(*self.csv_select_related)
        if self.csv_prefetch_related:
            queryset = queryset.prefetch_related(*self.csv_prefetch_related)
        for obj in queryset.iterator(chunk_size=CHUNK_SIZE):
            yield [column.value(obj) for column in self.csv_columns]

    def export_csv_view(self, request):
        if not self.has_view_or_change_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)  # type: ignore[attr-defined]
        except IncorrectLookupParameters:
            # As the list itself answers a filter it does not know: back to it, unfiltered.
            opts = self.model._meta  # type: ignore[attr-defined]
            return HttpResponseRedirect(
                f"{reverse(f'admin:{opts.app_label}_{opts.model_name}_changelist')}?e=1"
            )
        queryset = changelist.get_queryset(request)
        day = timezone.localdate().isoformat()
        return streamed_csv_response(
            filename=f"{self.csv_filename}-{day}.csv",
            header=[column.title for column in self.csv_columns],
            rows=self.export_rows(queryset),
        )
