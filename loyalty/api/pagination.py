"""Pagination of list endpoints: `?page=N&page_size=M` (default 50, max 500) or a cursor.

A page-numbered list counts its rows exactly only up to a cap: counting a big account's
whole list on every page cost more than the page itself (100,000 customers: a count of
about 20 ms beside a page of well under one). Above the cap the count is the query
planner's estimate on PostgreSQL, and exact again wherever the page shows where the list
ends. `next` never depends on the count: it is there exactly when a row follows the page.
"""

import json
from math import ceil

from django.core.paginator import EmptyPage, InvalidPage, Page
from django.core.paginator import Paginator as DjangoPaginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

MAX_PAGE_SIZE = 500
#: Exact counts up to here. Reading 1,001 index entries costs a few tenths of a millisecond
#: whatever the account's size, so a list's cost stays flat from 1,000 to 100,000 rows (at
#: 10,000 the count alone took 2 ms of a page that costs a few); it is twenty pages of 50,
#: more than anyone pages through, so filtered lists people read are counted exactly.
COUNT_EXACT_UP_TO = 1_000
#: SQL's OFFSET is a 64-bit integer: a page number beyond it names no row of any list.
MAX_ROW_OFFSET = 2**63 - 1 - MAX_PAGE_SIZE


def requested_page_size(request, default: int) -> int:
    raw = request.query_params.get("page_size")
    if raw in (None, ""):
        return default
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationError(
            {
                "page_size": [
                    gettext("Must be a whole number from 1 to %(max)s; got %(value)s.")
                    % {"max": MAX_PAGE_SIZE, "value": repr(raw)}
                ]
            }
        )
    return size


def planner_row_estimate(queryset: QuerySet) -> int:
    """How many rows PostgreSQL's planner expects the queryset to return (no row is read)."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class CappedCountPaginator(DjangoPaginator):
    """Django's paginator with a count that reads at most `exact_up_to + 1` rows, and pages
    that know whether a row follows them by reading one row more than they show."""

    def __init__(self, object_list, per_page, *, exact_up_to: int):
        super().__init__(object_list, per_page)
        self.exact_up_to = exact_up_to
        self._count: int | None = None
        self._estimated = False

    @property
    def count(self) -> int:
        if self._count is None:
            self._count = self._capped_count()
        return self._count

    @property
    def count_is_estimate(self) -> bool:
        return self.count > self.exact_up_to and self._estimated

    @property
    def num_pages(self) -> int:
        return max(1, ceil(self.count / self.per_page))

    def _exact_count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            return self.object_list.order_by().count()
        return len(self.object_list)

    def _capped_count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list)
        # Unordered, the rows are counted off the narrowest index that serves the filter.
        unordered = self.object_list.order_by()
        counted = unordered[: self.exact_up_to + 1].count()
        if counted <= self.exact_up_to:
            return counted
        if connections[unordered.db].vendor != "postgresql":
            # No planner estimate to be had: SQLite serves small deployments, where the
            # exact count is affordable.
            return unordered.count()
        self._estimated = True
        return max(planner_row_estimate(unordered), self.exact_up_to + 1)

    def count_exactly(self) -> None:
        """Make `count` exact, whatever it costs (one full count at most)."""
        if self._count is None or self._estimated:
            self._count = self._exact_count()
            self._estimated = False

    def validate_number(self, number) -> int:
        if not self.count_is_estimate:
            return super().validate_number(number)
        # An estimate cannot say where the list ends: the page's rows say it (see `page`).
        try:
            number = int(number)
        except ValueError:
            # More digits than Python reads as a number: past the end of any list.
            raise EmptyPage(self.error_messages["no_results"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if bottom > MAX_ROW_OFFSET:
            raise EmptyPage(self.error_messages["no_results"])
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        has_next = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        if self.count_is_estimate:
            seen = bottom + len(rows)
            if has_next:
                self._count = max(self.count, seen + 1)
            else:
                # The last page: where the list ends is known exactly.
                self._count, self._estimated = seen, False
        return RowsPage(rows, number, self, has_next=has_next)


class RowsPage(Page):
    """A page whose neighbours are known from its rows, not from the paginator's count."""

    def __init__(self, object_list, number, paginator, *, has_next: bool):
        super().__init__(object_list, number, paginator)
        self._has_next = has_next

    def has_next(self) -> bool:
        return self._has_next

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    count_exact_up_to = COUNT_EXACT_UP_TO
    # Filled by DRF with `str.format`.
    invalid_page_message = _("No page {page_number}: it is past the last page.")

    def get_page_size(self, request):
        return requested_page_size(request, self.page_size)

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        paginator = CappedCountPaginator(
            queryset, self.get_page_size(request), exact_up_to=self.count_exact_up_to
        )
        page_number = self.get_page_number(request, paginator)
        try:
            self.page = paginator.page(page_number)
        except InvalidPage as error:
            raise NotFound(
                self.invalid_page_message.format(page_number=page_number, message=str(error))
            ) from None
        return list(self.page)

    def get_page_number(self, request, paginator):
        # DRF answers "Invalid page." (404) for `page=abc` too; a malformed number is a
        # 400 that says what is accepted, and only a page past the end is a 404.
        raw = request.query_params.get(self.page_query_param)
        if raw in self.last_page_strings:
            # The last page is where an estimate would be wrong: asked for it, the list is
            # counted exactly. Reaching it reads as many rows as the count does anyway.
            paginator.count_exactly()
            return paginator.num_pages
        if raw in (None, ""):
            return 1
        if not raw.isascii() or not raw.isdigit() or not raw.strip("0"):
            raise ValidationError(
                {
                    self.page_query_param: [
                        gettext("Must be a whole number from 1, or 'last'; got %(value)s.")
                        % {"value": repr(raw)}
                    ]
                }
            )
        return raw

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"]["description"] = (
            f"How many rows the list holds: exact up to {self.count_exact_up_to:,}; above that, an "
            f"estimate (never below {self.count_exact_up_to + 1:,}), exact again on the list's last "
            "page (`page=last`, or any page without `next`). Walk the list by `next`, present "
            "exactly when a row follows the page, rather than by the count."
        )
        return described


class CursorPagination(pagination.CursorPagination):
    """Stable paging of append-only streams (the wallet ledger), newest first."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = ("-created_at", "-id")

    def get_page_size(self, request):
        return requested_page_size(request, self.page_size)
