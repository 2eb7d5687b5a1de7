"""Pagination of list endpoints: `?page=N&page_size=M` (default 50, max 500) or a cursor."""

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
            {"page_size": [f"Must be a whole number from 1 to {MAX_PAGE_SIZE}; got {raw!r}."]}
        )
    return size


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        return requested_page_size(request, self.page_size)


class CursorPagination(pagination.CursorPagination):
    """Stable paging of append-only streams (the wallet ledger), newest first."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = ("-created_at", "-id")

    def get_page_size(self, request):
        return requested_page_size(request, self.page_size)
