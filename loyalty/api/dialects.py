"""Base classes of the two API dialects: who authenticates and what a view can rely on.

A view of either dialect reads `self.account` (the caller's merchant account) and, in the
POS dialect, `self.store` (the store of the `X-Store-Token`). Every queryset starts from
the account, so no request ever sees another account's objects.
"""

from rest_framework.permissions import IsAuthenticated

from loyalty.api.authentication import BearerTokenAuthentication, PosAuthentication
from loyalty.api.idempotency import IdempotencyMixin
from loyalty.models import Account, Store


class _DialectMixin:
    permission_classes = [IsAuthenticated]

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
    """Server-to-server dialect under `/api/v2/`; every POST honours `Idempotency-Key`."""

    authentication_classes = [BearerTokenAuthentication]


class PosMixin(_DialectMixin):
    """POS integration dialect under `/api/v1/accounts/integrations/`."""

    authentication_classes = [PosAuthentication]

    @property
    def store(self) -> Store:
        return self.request.user.store
