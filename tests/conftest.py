"""Fixtures shared by the whole suite: merchants and API clients of both dialects."""

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from loyalty.shell.merchants import MerchantCreated
from tests.builders import PRODUCT_APPS, Tenant, make_tenant
from tests.factories import MerchantFactory


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and idempotency keys must not leak between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _language(request, monkeypatch):
    """The suite reads English unless a test asks for another language.

    The product's default is pt-BR. Tests written against English messages ask for English
    the way an integrator does, with `Accept-Language: en` on every test-client request (a
    request's own header still wins); code run outside a request sees English too. A test
    marked `@pytest.mark.language("pt-br")` gets that language instead, and
    `@pytest.mark.language(None)` sends no header at all, to see the product's default.
    """
    from django.test.client import RequestFactory
    from django.utils import translation

    marker = request.node.get_closest_marker("language")
    language = marker.args[0] if marker else "en"
    if language is not None:
        base_environ = RequestFactory._base_environ

        def with_language(self, **extra):
            return base_environ(self, **{"HTTP_ACCEPT_LANGUAGE": language, **extra})

        monkeypatch.setattr(RequestFactory, "_base_environ", with_language)
    with translation.override(language or "pt-br"):
        yield


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: real row locks and concurrent connections (set DATABASE_URL)")


@pytest.fixture
def merchant(db) -> MerchantCreated:
    return MerchantFactory(name="Mercado Alfa")


@pytest.fixture
def other_merchant(db) -> MerchantCreated:
    return MerchantFactory(name="Mercado Beta")


@pytest.fixture
def tenant(merchant) -> Tenant:
    return make_tenant(merchant)


@pytest.fixture
def other_tenant(other_merchant) -> Tenant:
    return make_tenant(other_merchant)


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def make_staff(db):
    """A staff user with every product permission, member of the given accounts."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from loyalty.tenancy.models import Membership

    def make(*accounts, username: str | None = None):
        user = get_user_model().objects.create_user(
            username=username or f"staff-{'-'.join(str(a.pk) for a in accounts)}",
            password="pw",
            is_staff=True,
        )
        user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=PRODUCT_APPS))
        for account in accounts:
            Membership.objects.create(user=user, account=account, role=Membership.Role.MANAGER)
        return user

    return make


@pytest.fixture
def staff_a(make_staff, merchant):
    """A staff user of the `merchant` fixture's account."""
    return make_staff(merchant.account, username="staff-a")


@pytest.fixture
def staff_b(make_staff, other_merchant):
    """A staff user of the `other_merchant` fixture's account."""
    return make_staff(other_merchant.account, username="staff-b")


@pytest.fixture
def superuser(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser(username="root", password="pw", email="root@example.com")
