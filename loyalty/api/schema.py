"""OpenAPI description of the API (drf-spectacular).

The two security schemes are described once here. `AutoSchema` documents, for every
operation, the error answers the platform can give it (400, 401, 404, 409/422 where
declared, 413, 415, 429, 503), so the page shows integrators every outcome.
"""

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import ResolvedComponent

from loyalty.api.authentication import STORE_TOKEN_HEADER
from loyalty.api.idempotency import WRITE_METHODS, IdempotencyMixin

BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "The `access_token` from `POST /api/v2/auth/token`.",
}
STORE_TOKEN_SCHEME = {
    "type": "apiKey",
    "in": "header",
    "name": STORE_TOKEN_HEADER,
    "description": "The token of one of the account's stores (POS dialect only).",
}


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "loyalty.api.authentication.BearerTokenAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema):
        return BEARER_SCHEME


class PosAuthenticationScheme(OpenApiAuthenticationExtension):
    """Both headers at once: the bearer token AND the store token."""

    target_class = "loyalty.api.authentication.PosAuthentication"
    name = "storeToken"

    def get_security_requirement(self, auto_schema):
        return {"bearer": [], "storeToken": []}

    def get_security_definition(self, auto_schema):
        # The `bearer` scheme itself is registered by the server-to-server views.
        return STORE_TOKEN_SCHEME


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "code": {"type": "string", "description": "What went wrong, for a program."},
    },
    "required": ["detail"],
    "additionalProperties": True,
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        'Field errors: `{"field": ["message", ...]}` (nested for list items), or '
        '`{"detail": "..."}` for an error that concerns no single field.'
    ),
    "additionalProperties": True,
    "example": {"cpf": ["Invalid CPF/CNPJ: check digits do not match."]},
}

ERROR_DESCRIPTIONS = {
    400: "Invalid request: malformed JSON or fields that fail validation.",
    401: "Missing, invalid, expired or revoked credentials (the body says which header).",
    404: "Not found in the caller's account.",
    409: "Conflicts with the current state of the data.",
    413: "Request body over 1 MiB.",
    415: "Body is not `application/json`.",
    422: "A business rule refuses the request.",
    429: "Too many requests; retry after the `Retry-After` seconds.",
    503: "The database is unavailable; retry after the `Retry-After` seconds.",
}
PAGE_NOT_FOUND_DESCRIPTION = "No such page: `page` is past the last page."
BODY_METHODS = {"POST", "PUT", "PATCH"}


class AutoSchema(openapi.AutoSchema):
    #: Extra error codes an operation may answer (e.g. 409 and 422 on a write); set per view.
    error_codes_attribute = "openapi_error_codes"
    #: Examples of error answers, `{status: {name: body}}` (or per action); set per view.
    error_examples_attribute = "openapi_error_examples"

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None:
            self._document_idempotency(operation)
            self._document_errors(operation)
        return operation

    def _honours_idempotency_key(self) -> bool:
        return self.method in WRITE_METHODS and isinstance(self.view, IdempotencyMixin)

    def _document_idempotency(self, operation: dict) -> None:
        if not self._honours_idempotency_key():
            return
        operation.setdefault("parameters", []).append(
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": (
                    "Makes a retry safe: the same key with the same request answers the first answer "
                    "byte for byte and changes nothing (keys are kept at least 24 hours). The same key "
                    "with another request: 422 `idempotency_key_reused`; while the first request with "
                    "the key is still running: 409 `request_in_progress`."
                ),
            }
        )

    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref

    def _declared(self, attribute: str, default):
        """A per-view declaration, or the current action's where the view declares per action."""
        declared = getattr(self.view, attribute, default)
        if isinstance(declared, dict) and declared and all(isinstance(key, str) for key in declared):
            action = getattr(self.view, "action", None) or self.method.lower()
            return declared.get(action, default)
        return declared

    def _expected_error_codes(self) -> set[int]:
        codes = {503}
        if self.method in BODY_METHODS:
            codes |= {400, 413, 415}
        elif self.method == "GET" and self._is_list_view():
            codes.add(400)  # filters, page and page size
            if self._is_paginated():
                codes.add(404)  # a page past the last one
        if getattr(self.view, "authentication_classes", None):
            codes.add(401)
        if "{" in self.path:
            codes.add(404)
        if getattr(self.view, "throttle_classes", None):
            codes.add(429)
        if self._honours_idempotency_key():
            codes |= {400, 409, 422}  # a malformed key; a key in use; a key reused
        codes |= set(self._declared(self.error_codes_attribute, ()))
        return codes

    def _is_paginated(self) -> bool:
        return self._get_paginator() is not None

    def _document_errors(self, operation: dict) -> None:
        responses = operation.setdefault("responses", {})
        error_ref = self._component("Error", ERROR_SCHEMA)
        validation_ref = self._component("ValidationError", VALIDATION_ERROR_SCHEMA)
        for code in sorted(self._expected_error_codes()):
            if str(code) in responses:
                continue
            description = ERROR_DESCRIPTIONS[code]
            if code == 404 and "{" not in self.path and self._is_list_view() and self._is_paginated():
                description = PAGE_NOT_FOUND_DESCRIPTION
            content = {"schema": validation_ref if code == 400 else error_ref}
            examples = self._declared(self.error_examples_attribute, {}).get(code)
            if examples:
                content["examples"] = {name: {"value": value} for name, value in examples.items()}
            response = {"description": description, "content": {"application/json": content}}
            if code in (429, 503):
                response["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
                }
            responses[str(code)] = response
