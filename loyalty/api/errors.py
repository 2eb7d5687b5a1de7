"""Every error under `/api/` is JSON.

`exception_handler` is DRF's hook: it maps the services' domain errors (422, 409, 404),
Django validation errors (400), Django's refusals of a malformed request (400, 413) and an
unreachable database (503) to JSON, and adds a machine `code` next to `detail`. The
`handler*` views answer JSON for `/api/` paths when Django itself produces the error
(unknown path, oversized body, crash); `json_error_for_status` stands in for any other
error page, such as those Django shows under DEBUG.
"""

import logging
from http import HTTPStatus

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    BadRequest,
    DisallowedHost,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponseBase, JsonResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from loyalty.core.errors import BusinessRuleError, ConflictError, DomainError, NotFoundError

logger = logging.getLogger("loyalty.api")

DATABASE_UNAVAILABLE = {
    "detail": _("The database is unavailable; the request was not processed. Try again shortly."),
    "code": "database_unavailable",
}
RETRY_AFTER_SECONDS = "5"

DOMAIN_STATUS = (
    (NotFoundError, status.HTTP_404_NOT_FOUND),
    (ConflictError, status.HTTP_409_CONFLICT),
    (BusinessRuleError, status.HTTP_422_UNPROCESSABLE_ENTITY),
)


class CredentialsRejected(exceptions.APIException):
    """The token endpoint's refusal. An unknown api_key and a wrong api_secret share the
    default answer, so it never confirms that a key exists; a deactivated credential or
    account has its own code, given only once the secret was right."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = _("Invalid api_key or api_secret.")
    default_code = "invalid_credentials"


# The code of a JSON error that replaces a page Django rendered itself, by status.
STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
    503: "service_unavailable",
}
# Its `detail`: the status's standard reason phrase, in the request's language.
STATUS_DETAILS = {
    400: _("Bad Request."),
    401: _("Unauthorized."),
    403: _("Forbidden."),
    404: _("Not Found."),
    405: _("Method Not Allowed."),
    406: _("Not Acceptable."),
    413: _("Request Entity Too Large."),
    415: _("Unsupported Media Type."),
    429: _("Too Many Requests."),
    500: _("Internal Server Error."),
    503: _("Service Unavailable."),
}


class MalformedRequest(exceptions.APIException):
    """A request Django refuses to read: too many fields, a disallowed host, a bad header."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("Bad request.")
    default_code = "bad_request"


class RequestTooLarge(exceptions.APIException):
    """A body over the limit that arrived without a `Content-Length` announcing it."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is over the limit of 1 MiB.")
    default_code = "request_too_large"


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def is_json(response: HttpResponseBase) -> bool:
    media_type = (response.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def refusal_of(exc: Exception) -> exceptions.APIException | None:
    """Django's own refusals of a malformed request, as the 400 or 413 they are (never a 500)."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, DisallowedHost):
        # Django's own message names the setting to change: for the operator, not the client.
        return MalformedRequest(gettext("The Host header names no site served here."))
    if isinstance(exc, (SuspiciousOperation, BadRequest)):
        return MalformedRequest(str(exc) or None)
    return None


def throttled(exc: exceptions.Throttled) -> exceptions.Throttled:
    """DRF's 429, its message in the request's language (the same words in English)."""
    if exc.wait is None:
        detail = gettext("Request was throttled.")
    else:
        detail = ngettext(
            "Request was throttled. Expected available in %(wait)d second.",
            "Request was throttled. Expected available in %(wait)d seconds.",
            exc.wait,
        ) % {"wait": exc.wait}
    replacement = exceptions.Throttled(detail=detail)
    replacement.wait = exc.wait
    return replacement


def domain_error_response(error: DomainError) -> Response:
    status_code = next(
        (code for kind, code in DOMAIN_STATUS if isinstance(error, kind)),
        status.HTTP_422_UNPROCESSABLE_ENTITY,
    )
    return Response({"detail": error.detail, "code": error.code, **error.extra}, status=status_code)


def refused(error: DjangoValidationError, names: dict[str, str] | None = None) -> exceptions.ValidationError:
    """A service's refusal by field (a Django `ValidationError`) as the API's 400: each field
    under the name the API gives it (`names`), what concerns no single field as `detail`."""
    if not hasattr(error, "error_dict"):
        return exceptions.ValidationError({"detail": error.messages})
    names = {NON_FIELD_ERRORS: "detail", **(names or {})}
    return exceptions.ValidationError(
        {names.get(name, name): reasons for name, reasons in error.message_dict.items()}
    )


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        set_rollback()
        return domain_error_response(exc)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    exc = refusal_of(exc) or exc
    # DRF turns these into its own exceptions too, but only after their codes are read.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, exceptions.Throttled):
        exc = throttled(exc)
    if isinstance(exc, (OperationalError, InterfaceError)):
        set_rollback()
        logger.error("Database unavailable: %s", exc.__class__.__name__)
        return Response(
            {"detail": str(DATABASE_UNAVAILABLE["detail"]), "code": DATABASE_UNAVAILABLE["code"]},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, dict) and set(response.data) == {"detail"}:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        if isinstance(codes, dict):
            codes = codes.get("detail")
        if isinstance(codes, str):
            response.data["code"] = codes
    return response


def json_error(
    status_code: int, detail: str, code: str, headers: dict[str, str] | None = None
) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code}, status=status_code)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def json_for_exception(request, exception: Exception) -> JsonResponse:
    """The JSON answer for an exception that escaped a view under `/api/`."""
    if isinstance(exception, (OperationalError, InterfaceError)):
        logger.error("Database unavailable on %s %s", request.method, request.path)
        return json_error(
            503,
            str(DATABASE_UNAVAILABLE["detail"]),
            DATABASE_UNAVAILABLE["code"],
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    if isinstance(exception, Http404):
        return json_error(404, gettext("Not found."), "not_found")
    refusal = refusal_of(exception)
    if refusal is not None:
        logger.warning("Refused %s %s: %s", request.method, request.path, refusal.detail)
        return json_error(refusal.status_code, str(refusal.detail), refusal.default_code)
    if isinstance(exception, PermissionDenied):
        return json_error(
            403, gettext("You do not have permission to perform this action."), "permission_denied"
        )
    logger.exception("Unhandled error on %s %s", request.method, request.path, exc_info=exception)
    return json_error(500, gettext("Internal server error; the request was not completed."), "server_error")


def reason_detail(response: HttpResponseBase) -> str:
    """The response's reason phrase as a `detail`: translated when it is the standard one."""
    detail = STATUS_DETAILS.get(response.status_code)
    try:
        standard = response.reason_phrase == HTTPStatus(response.status_code).phrase
    except ValueError:  # a status code the standard does not name
        standard = False
    return str(detail) if detail is not None and standard else f"{response.reason_phrase}."


def json_error_for_status(response: HttpResponseBase) -> JsonResponse:
    """A JSON error in place of an error page that is not JSON, with the same status.

    The page's own headers that still apply (`Allow`, `Retry-After`, ...) are kept; its
    body is not, since it may be a DEBUG page with settings and a traceback.
    """
    replacement = json_error(
        response.status_code, reason_detail(response), STATUS_CODES.get(response.status_code, "error")
    )
    for name, value in response.items():
        if name.lower() not in ("content-type", "content-length", "content-disposition", "content-language"):
            replacement[name] = value
    return replacement


@csrf_exempt
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Any path under `/api/` that names no endpoint (whatever the method: never a CSRF page)."""
    return json_error(
        404,
        gettext("No endpoint at %(path)s. See /api/docs/ for the API reference.") % {"path": request.path},
        "not_found",
    )


def handler400(request, exception=None):
    if is_api_path(request.path):
        refusal = refusal_of(exception) if exception else None
        detail = str(refusal.detail) if refusal else (str(exception) if exception else "")
        return json_error(400, detail or gettext("Bad request."), "bad_request")
    return defaults.bad_request(request, exception)


def handler403(request, exception=None):
    if is_api_path(request.path):
        return json_error(
            403, gettext("You do not have permission to perform this action."), "permission_denied"
        )
    return defaults.permission_denied(request, exception)


def handler404(request, exception=None):
    if is_api_path(request.path):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def csrf_failure(request, reason=""):
    """The API uses no cookies, so a CSRF refusal can only come from a non-API page."""
    if is_api_path(request.path):
        return json_error(403, gettext("Forbidden."), "permission_denied")
    return csrf.csrf_failure(request, reason=reason)


def handler500(request):
    if is_api_path(request.path):
        return json_error(
            500, gettext("Internal server error; the request was not completed."), "server_error"
        )
    return defaults.server_error(request)
