"""Base classes of the two API dialects: who authenticates and what a view can rely on.

A view of either dialect reads `self.account` (the caller's merchant account) and, in the
POS dialect, `self.store` (the store of the `X-Store-Token`). Every queryset starts from
the account, so no request ever sees another account's objects.
"""

from django.db import transaction
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated

from loyalty.api.authentication import BearerTokenAuthentication, PosAuthentication
from loyalty.api.idempotency import IdempotencyMixin, carries_key
from loyalty.tenancy.models import Account, Store


class _DialectMixin:
    permission_classes = [IsAuthenticated]
    #: False on a POST that only reads (the discount quote): it needs no transaction.
    writes = True
    #: Set by `IdempotencyMixin`: a refusal whose answer was stored commits that answer.
    refusal_stored = False

    def dispatch(self, request, *args, **kwargs):
        # A write endpoint is one transaction, its answer included: a failure while the
        # answer is built (the database lost after the service's own commit) must not
        # leave the write done behind a 503 that says it was not, and a refused request
        # (4xx) changes nothing, whatever a service did before the refusal.
        # A request with an Idempotency-Key runs in one too, whatever it does: its answer is
        # stored in it (see `loyalty.api.idempotency`).
        if request.method in SAFE_METHODS or not (self.writes or carries_key(request)):
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 400 and not self.refusal_stored:
                transaction.set_rollback(True)
        return response

    @property
    def account(self) -> Account:
        return self.request.user.account

    def get_queryset(self):
        # The schema generator inspects views without a request; `queryset` is then the
        # class's empty `Model.objects.none()`, which tells it the model.
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return self.scoped_queryset()

    def scoped_queryset(self):
        """The view's objects within the caller's account."""
        raise NotImplementedError


class V2Mixin(IdempotencyMixin, _DialectMixin):
    """Server-to-server dialect under `/api/v2/`; every write honours `Idempotency-Key`."""

    authentication_classes = [BearerTokenAuthentication]


class PosMixin(IdempotencyMixin, _DialectMixin):
    """POS integration dialect under `/api/v1/accounts/integrations/`; every write honours
    `Idempotency-Key`."""

    authentication_classes = [PosAuthentication]

    @property
    def store(self) -> Store:
        return self.request.user.store
