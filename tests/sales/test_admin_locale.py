"""The back office in Brazilian Portuguese and in the account's local time.

pt-BR is the default (no header, no choice), English is one click away in the header; every
date and time of the admin is the staff user's account time zone, in lists and forms alike.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from promotions.models import Promotion
from promotions.services import product_upsert
from sales.models import Sale
from tests.sales.builders import purchase, put

pytestmark = pytest.mark.django_db


@pytest.mark.language(None)
def test_the_admin_speaks_portuguese_by_default(client, staff_a):
    client.force_login(staff_a)

    html = client.get(reverse("admin:index")).content.decode()

    assert '<html lang="pt-br"' in html
    assert "Encerrar sessão" in html  # Django's own catalogue
    assert "Programa de fidelidade" in html  # the project's


@pytest.mark.language(None)
def test_english_is_selectable_from_the_header_and_stays_chosen(client, staff_a):
    client.force_login(staff_a)
    assert reverse("set_language") in client.get(reverse("admin:index")).content.decode()

    client.post(reverse("set_language"), {"language": "en", "next": reverse("admin:index")})

    html = client.get(reverse("admin:index")).content.decode()
    assert '<html lang="en"' in html
    assert "Log out" in html


@pytest.mark.language("pt-br")
def test_a_sale_rung_at_17_30_local_reads_17_30_in_list_and_page(client, staff_a, tenant, program):
    # The POS sends local time without an offset; São Paulo is UTC-3.
    assert put(tenant, purchase(date="2026-11-27 17:30")).status_code == 201
    sale = Sale.objects.get()
    assert sale.occurred_at == datetime(2026, 11, 27, 20, 30, tzinfo=UTC)
    client.force_login(staff_a)

    listing = client.get(reverse("admin:sales_sale_changelist")).content.decode()
    page = client.get(reverse("admin:sales_sale_change", args=[sale.pk])).content.decode()

    for html in (listing, page):
        assert "17:30" in html
        assert "20:30" not in html
        assert "UTC" not in html


@pytest.mark.language("pt-br")
def test_a_time_typed_in_a_form_is_local_and_reads_back_the_same(client, staff_a, tenant):
    product, _ = product_upsert(
        account=tenant.account,
        barcode="7891000100103",
        name="Leite integral 1L",
        unit="un",
        price=Decimal("5.99"),
    )
    client.force_login(staff_a)

    response = client.post(
        reverse("admin:promotions_promotion_add"),
        {
            "product": product.pk,
            "percent_off": "12,5",
            "starts_at_0": "30/11/2026",
            "starts_at_1": "10:00",
            "expires_at_0": "31/12/2026",
            "expires_at_1": "23:59",
            "limit": "0",
            "quantity_limit": "0",
            "minimum_quantity": "0",
            "active": "on",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    promotion = Promotion.objects.get()
    assert promotion.starts_at == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    assert str(promotion.percent_off) == "12.50"
    form = client.get(reverse("admin:promotions_promotion_change", args=[promotion.pk])).content.decode()
    listing = client.get(reverse("admin:promotions_promotion_changelist")).content.decode()
    assert 'value="10:00' in form
    assert "30/11/2026 10:00" in listing


@pytest.mark.language("pt-br")
def test_a_superuser_reads_the_configured_zone(client, superuser, tenant, program, settings):
    settings.BACKOFFICE_TIME_ZONE = "America/Manaus"  # UTC-4
    put(tenant, purchase(date="2026-11-27 17:30"))
    client.force_login(superuser)

    page = client.get(reverse("admin:sales_sale_change", args=[Sale.objects.get().pk])).content.decode()

    assert "16:30" in page
