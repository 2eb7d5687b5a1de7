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
