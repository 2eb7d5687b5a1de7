"""Request handling common to every path under `/api/`.

- A trailing slash is optional and never redirected: `/api/v2/sales/` is routed as
  `/api/v2/sales`, so a POS posting to either form reaches the endpoint; `/api` is routed
  as `/api/`.
- Bodies over `API_MAX_BODY_BYTES` are refused up front with a JSON 413.
- An exception escaping a view becomes a JSON 500 (or 503 when the database is down).
- Any other error answer that is not JSON — a page Django renders itself, such as its
  DEBUG pages for an exception raised in a middleware, or the HTML of the docs views —
  is replaced by a JSON error with the same status: every `/api/` answer is JSON.
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from loyalty.api.errors import is_api_path, is_json, json_error, json_error_for_status, json_for_exception
from loyalty.tenancy.cache import request_scope as account_cache_scope


class ApiRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api_path(request.path_info):
            return self.get_response(request)
        if request.path_info == "/api":
            # Otherwise CommonMiddleware would redirect to `/api/` with an empty HTML page.
            request.path_info = "/api/"
        elif request.path_info.endswith("/") and request.path_info != "/api/":
            request.path_info = request.path_info[:-1]
        # Before LocaleMiddleware: the refusal is written in the language it would choose.
        with translation.override(translation.get_language_from_request(request)):
            response = self._refuse_large_body(request)
        if response is None:
            # Each account's configuration version is read once per request.
            with account_cache_scope():
                response = self.get_response(request)
        if response.status_code >= 400 and not is_json(response):
            return json_error_for_status(response)
        return response

    def process_exception(self, request, exception):
        if not is_api_path(request.path_info):
            return None
        return json_for_exception(request, exception)

    @staticmethod
    def _refuse_large_body(request):
        limit = settings.API_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, gettext("Content-Length header is not a number."), "bad_request")
        if length > limit:
            return json_error(
                413,
                gettext("Request body is %(length)s bytes; the limit is %(limit)s bytes (1 MiB).")
                % {"length": length, "limit": limit},
                "request_too_large",
            )
        return None
