"""Domain errors raised by services and mapped to HTTP answers at the API edge.

Services know nothing of HTTP; each error carries a machine code and a message
written for the integrator. The API maps `BusinessRuleError` to 422 and `ConflictError`
to 409, both as `{"detail": ..., "code": ...}` plus any extra fields.
"""

from typing import Any


class DomainError(Exception):
    """Base of the errors a service raises on purpose."""

    code = "domain_error"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra


class BusinessRuleError(DomainError):
    """A valid request that a business rule refuses (insufficient balance, limit reached)."""

    code = "business_rule"


class ConflictError(DomainError):
    """A request that conflicts with the current state of the data (stock exhausted, used voucher)."""

    code = "conflict"


class NotFoundError(DomainError):
    """An object the request names does not exist in the caller's account."""

    code = "not_found"
