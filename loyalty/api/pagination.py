"""Pagination of list endpoints: `?page=N&page_size=M` (default 50, max 500) or a cursor."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError

MAX_PAGE_SIZE = 500


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


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    # Filled by DRF with `str.format`.
    invalid_page_message = _("No page {page_number}: it is past the last page.")

    def get_page_size(self, request):
        return requested_page_size(request, self.page_size)

    def get_page_number(self, request, paginator):
        # DRF answers "Invalid page." (404) for `page=abc` too; a malformed number is a
        # 400 that says what is accepted, and only a page past the end is a 404.
        raw = request.query_params.get(self.page_query_param)
        if raw in (None, "") or raw in self.last_page_strings:
            return super().get_page_number(request, paginator)
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise ValidationError(
                {
                    self.page_query_param: [
                        gettext("Must be a whole number from 1, or 'last'; got %(value)s.")
                        % {"value": repr(raw)}
                    ]
                }
            )
        return raw


class CursorPagination(pagination.CursorPagination):
    """Stable paging of append-only streams (the wallet ledger), newest first."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = ("-created_at", "-id")

    def get_page_size(self, request):
        return requested_page_size(request, self.page_size)
