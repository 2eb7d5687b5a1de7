"""Request handling common to every path under `/api/`.

- A trailing slash is optional and never redirected: `/api/v2/sales/` is routed as
  `/api/v2/sales`, so a POS posting to either form reaches the endpoint.
- Bodies over `API_MAX_BODY_BYTES` are refused up front with a JSON 413.
- An exception escaping a view becomes a JSON 500 (or 503 when the database is down).
"""

from django.conf import settings

from loyalty.api.errors import is_api_path, json_error, json_for_exception


class ApiRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api_path(request.path_info):
            return self.get_response(request)
        if request.path_info.endswith("/") and request.path_info != "/api/":
            request.path_info = request.path_info[:-1]
        too_large = self._refuse_large_body(request)
        if too_large is not None:
            return too_large
        return self.get_response(request)

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
            return json_error(400, "Content-Length header is not a number.", "bad_request")
        if length > limit:
            return json_error(
                413,
                f"Request body is {length} bytes; the limit is {limit} bytes (1 MiB).",
                "request_too_large",
            )
        return None
